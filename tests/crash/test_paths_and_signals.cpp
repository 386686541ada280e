// Issue 17 through the palsim executable: what each kind of output path
// becomes (class 1), that reading a sweep database changes nothing beside it
// (class 7), signals (class 6): SIGTERM ends a sweep with 143 and a count of
// the points stored, and a detailed run's SystemC child dies with palsim; and
// that a second sweep into a database in use is refused (class 8).
// The failures of these classes are in the bad-input catalogue; these are the
// runs that must succeed, and what they must leave behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/hardening_util/run_palsim.h"
#include "tests/hardening_util/scratch.h"

namespace {

namespace fs = std::filesystem;
using palsim_test::read_text;
using palsim_test::RunResult;

const std::string kSrc = PALSIM_SOURCE_DIR;
const std::string kTiny = kSrc + "/workloads/examples/tiny.yaml";

using palsim_test::Scratch;

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// The pid of a process that has exited and been reaped: no process has it
// (until the kernel reuses it, which takes a full turn of the pid space).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST(OutputPaths, ASymlinkStaysALinkAndItsTargetIsWritten) {
  Scratch s;
  std::ofstream(s / "real.json") << "previous\n";
  fs::create_symlink("real.json", s / "out.json");
  fs::create_symlink("missing.json", s / "dangling.json");
  const RunResult r =
      s.run({"simulate", kTiny, "--json-file", "out.json", "--csv", "dangling.json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(s / "out.json"));
  EXPECT_TRUE(nlohmann::json::accept(read_text(s / "real.json")));
  EXPECT_TRUE(fs::is_symlink(s / "dangling.json"));
  EXPECT_NE(read_text(s / "missing.json").find("layer"), std::string::npos);
  EXPECT_EQ(s.names(),
            (std::set<std::string>{"real.json", "out.json", "dangling.json", "missing.json"}));
}

// A VCD trace is an output like any other: written under exactly the name
// given (SystemC would add ".vcd" to it), through a symbolic link, complete
// or not at all, with no staging file left beside it.
TEST(OutputPaths, AVcdTraceGoesToTheNameGivenThroughALinkAndLeavesNothingElse) {
  Scratch s;
  std::ofstream(s / "real.trace") << "previous\n";
  fs::create_symlink("real.trace", s / "run.trace");
  const RunResult r = s.run({"simulate", kTiny, "--mode", "detailed", "--trace", "run.trace",
                             "--json-file", "out.json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(s / "run.trace"));
  const std::string vcd = read_text(s / "real.trace");
  EXPECT_NE(vcd.find("$enddefinitions"), std::string::npos) << vcd.substr(0, 200);
  EXPECT_NE(vcd.find("array_busy"), std::string::npos);
  EXPECT_EQ(s.names(), (std::set<std::string>{"real.trace", "run.trace", "out.json"}));
}

// A sweep database on a full file system: the run says the disk is full
// (not "not writable") and leaves no empty database behind. Needs a tmpfs
// mount (root); skipped where the test may not mount one.
TEST(OutputPaths, ASweepDatabaseOnAFullDiskSaysSoAndLeavesNothing) {
  Scratch s;
  const std::string full = s / "full";
  fs::create_directories(full);
  if (::mount("tmpfs", full.c_str(), "tmpfs", 0, "size=64k") != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs here: " << std::strerror(errno);
  struct Unmount {
    std::string dir;
    ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
  } unmount{full};
  {
    std::ofstream fill(full + "/fill", std::ios::binary);
    const std::string block(4096, '\0');
    while (fill.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  const RunResult r =
      s.run({"sweep", kSrc + "/tests/data/sweeps/small.yaml", "--db", "full/s.db", "-q"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("full/s.db"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("disk is full"), std::string::npos) << r.err;
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(full)) left.insert(e.path().filename().string());
  EXPECT_EQ(left, std::set<std::string>{"fill"});
}

TEST(OutputPaths, AFifoIsWrittenAsAStreamAndStaysAFifo) {
  Scratch s;
  ASSERT_EQ(::mkfifo((s / "out.json").c_str(), 0644), 0);
  std::string got;
  // Non-blocking, with a deadline: a palsim that replaced the FIFO instead of
  // writing it must fail this test, not hang it.
  std::thread reader([&] {
    const int fd = ::open((s / "out.json").c_str(), O_RDONLY | O_NONBLOCK);
    if (fd < 0) return;
    const auto t0 = std::chrono::steady_clock::now();
    char buf[4096];
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) got.append(buf, static_cast<size_t>(n));
      if (n == 0 && !got.empty()) break;  // the writer closed it
      if (n <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::close(fd);
  });
  const RunResult r = s.run({"simulate", kTiny, "--json-file", "out.json", "-q"});
  reader.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::accept(got)) << got;
  struct stat st;
  ASSERT_EQ(::stat((s / "out.json").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(s.names(), (std::set<std::string>{"out.json"}));
}

TEST(OutputPaths, DashIsStandardOutputAndADeviceIsWrittenInPlace) {
  Scratch s;
  fs::create_symlink("/dev/null", s / "null.bin");
  const RunResult r = s.run({"network", "resnet18", "--method", "lsq", "-o", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("format: palsim-network-1"), std::string::npos);
  const RunResult c = s.run({"compile", kTiny, "-o", "null.bin"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(fs::is_symlink(s / "null.bin"));
  EXPECT_EQ(s.names(), (std::set<std::string>{"null.bin"}));  // no file named "-", no temporary
}

TEST(OutputPaths, AReplacedFileKeepsItsPermissions) {
  Scratch s;
  std::ofstream(s / "out.json") << "previous\n";
  fs::permissions(s / "out.json", fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_EQ(s.run({"simulate", kTiny, "--json-file", "out.json", "-q"}).exit_code, 0);
  EXPECT_EQ(fs::status(s / "out.json").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST(OutputPaths, TemporariesOfDeadProcessesAreRemovedOthersKept) {
  Scratch s;
  const std::string host = host_name();
  const std::string stale = ".out.json.palsim-tmp." + std::to_string(dead_pid()) + ".0." + host;
  const std::string live = ".out.json.palsim-tmp." + std::to_string(::getpid()) + ".0." + host;
  const std::string other_host =
      ".out.json.palsim-tmp." + std::to_string(dead_pid()) + ".0.elsewhere";
  const std::string other_file =
      ".other.json.palsim-tmp." + std::to_string(dead_pid()) + ".0." + host;
  for (const auto& f : {stale, live, other_host, other_file}) std::ofstream(s / f) << "partial";
  ASSERT_EQ(s.run({"simulate", kTiny, "--json-file", "out.json", "-q"}).exit_code, 0);
  EXPECT_EQ(s.names(), (std::set<std::string>{"out.json", live, other_host, other_file}));
}

// A small sweep's database, finished (its writer closed it).
void finished_sweep(const Scratch& s) {
  std::ofstream(s / "sweep.yaml")
      << "format: palsim-sweep-1\nname: s\nnetworks: [{name: resnet18, input_size: 16, "
         "base_width: 8, blocks: [1, 1, 1, 1], stem: small, classes: 10}]\n"
         "methods: [{method: lsq, bits: [4, 8]}]\nhardware: ["
      << kSrc << "/configs/bitfusion.yaml]\n";
  const RunResult r = s.run({"sweep", "sweep.yaml", "--db", "s.db", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

TEST(ReadOnlyCommands, ResultsAndPlotChangeNothingBesideTheDatabase) {
  Scratch s;
  finished_sweep(s);
  const std::set<std::string> before = s.names();
  const std::string bytes = read_text(s / "s.db");
  ASSERT_EQ(s.run({"results", "s.db", "--json"}).exit_code, 0);
  EXPECT_EQ(s.names(), before) << "results left a file beside the database";
  const RunResult p = s.run({"plot", "s.db", "-o", "plots"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  std::set<std::string> with_plots = before;
  with_plots.insert("plots");
  EXPECT_EQ(s.names(), with_plots);
  EXPECT_EQ(read_text(s / "s.db"), bytes);
}

// Polls until the sweep database exists and `palsim results` counts at least
// one point (each point is committed as it finishes).
bool wait_for_a_stored_point(const Scratch& s, double seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
    if (fs::exists(s / "s.db")) {
      const RunResult r =
          palsim_test::run_palsim({"results", s / "s.db", "--json"}, "/", s / "capture2", 30);
      if (r.exit_code == 0 && nlohmann::json::accept(r.out) &&
          !nlohmann::json::parse(r.out).empty())
        return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

void expect_interrupted_sweep(int sig, int exit_code, const std::string& name) {
  Scratch s;
  fs::create_directories(s / "capture2");
  const pid_t pid =
      s.start({"sweep", kSrc + "/tests/data/sweeps/resume.yaml", "--db", "s.db", "-j", "1"});
  const bool stored = wait_for_a_stored_point(s, 60);
  ::kill(pid, sig);
  const RunResult r = s.wait(pid);
  ASSERT_TRUE(stored) << r.err;
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  EXPECT_NE(r.err.find("stopped by " + name), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("100%"), std::string::npos) << r.err;
  // The count the message gives is what the database holds.
  const RunResult rows = s.run({"results", "s.db", "--json"});
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  const size_t n = nlohmann::json::parse(rows.out).size();
  EXPECT_NE(r.err.find(std::to_string(n) + " of 30 points stored"), std::string::npos) << r.err;
}

TEST(Signals, SigtermEndsASweepWith143AndTheCountOfStoredPoints) {
  expect_interrupted_sweep(SIGTERM, 143, "SIGTERM");
}

TEST(Signals, SigintEndsASweepWith130AndTheCountOfStoredPoints) {
  expect_interrupted_sweep(SIGINT, 130, "SIGINT");
}

// Class 8: one sweep at a time runs into a database.
TEST(ConcurrentSweeps, ASecondSweepIsRefusedAndTheClaimOfAKilledOneTakenOver) {
  Scratch s;
  fs::create_directories(s / "capture2");
  const std::string spec = kSrc + "/tests/data/sweeps/resume.yaml";
  const pid_t first = s.start({"sweep", spec, "--db", "s.db", "-j", "1", "-q"});
  ASSERT_TRUE(wait_for_a_stored_point(s, 60));
  const RunResult second = palsim_test::run_palsim(
      {"sweep", spec, "--db", "s.db", "--resume", "-q"}, s / "", s / "capture2", 120);
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("a sweep is already running into this database (pid " +
                            std::to_string(first)),
            std::string::npos)
      << second.err;
  // The first is killed outright: its claim stays behind, and is taken over.
  ::kill(first, SIGKILL);
  s.wait(first);
  const RunResult resumed = palsim_test::run_palsim(
      {"sweep", spec, "--db", "s.db", "--resume", "-q"}, s / "", s / "capture2", 120);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  const RunResult rows = s.run({"results", "s.db", "--json"});
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  EXPECT_EQ(nlohmann::json::parse(rows.out).size(), 30u);
}

// The parent pid and state of process `pid` from /proc/PID/stat ("" when gone).
std::string stat_field(pid_t pid, int field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return "";
  const size_t paren = stat.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return "";
  std::istringstream rest(stat.substr(paren + 2));
  std::string v;
  for (int i = 0; i < field && rest >> v; ++i) {
  }
  return v;
}

// The children of `pid`.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string n = e.path().filename().string();
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
    if (stat_field(std::stoi(n), 2) == std::to_string(pid)) out.push_back(std::stoi(n));
  }
  return out;
}

// Whether `pid` is still a running process (not a zombie, not gone).
bool running(pid_t pid) {
  const std::string state = stat_field(pid, 1);
  return !state.empty() && state != "Z" && state != "X";
}

TEST(Signals, TheDetailedChildDiesWithItsParent) {
  Scratch s;
  // A detailed run whose child alone takes about 7 s, far longer than the
  // 2 s the orphan is given to die (it takes milliseconds).
  const pid_t pid =
      s.start({"simulate", "resnet18", "--method", "lsq", "--input-size", "96", "--base-width",
               "32", "--stem", "small", "--classes", "10", "--mode", "detailed", "-q"});
  std::vector<pid_t> kids;
  const auto t0 = std::chrono::steady_clock::now();
  while (kids.empty() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
    kids = children_of(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(kids.size(), 1u) << "no SystemC child appeared";
  ::kill(pid, SIGKILL);  // the parent only, as a batch system or an OOM kill would
  ::waitpid(pid, nullptr, 0);
  const auto t1 = std::chrono::steady_clock::now();
  while (running(kids[0]) && std::chrono::steady_clock::now() - t1 < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const bool orphan = running(kids[0]);
  if (orphan) ::kill(kids[0], SIGKILL);
  EXPECT_FALSE(orphan) << "the SystemC child outlived its parent";
}

}  // namespace
