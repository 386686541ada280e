// Crash safety and determinism of the palsim executable (issue 10).
//
// Every command that writes a result is killed with SIGKILL at several points
// of its run; what is on disk afterwards must be the previous complete file
// (or nothing), or the new complete result when the run had finished. A
// training run killed twice (during the first epoch, then during a later one)
// and resumed ends with the same weights and optimizer state, bit for bit, as
// an uninterrupted run. The same inputs give byte-identical JSON across runs
// and across -j 1 and -j N. (Export, with libtorch: the same.)
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/hardening_util/run_palsim.h"
#include "tests/hardening_util/scratch.h"
#ifdef PALSIM_WITH_TORCH
#include "training/array_file.h"
#endif

namespace {

namespace fs = std::filesystem;
using palsim_test::read_text;
using palsim_test::RunResult;

const std::string kSrc = PALSIM_SOURCE_DIR;

using palsim_test::Scratch;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A result without the command lines that produced it (they name -j and the
// database, which the comparisons vary on purpose): every figure and every
// other provenance field must still be equal byte for byte.
void drop_command_lines(nlohmann::json& j) {
  if (j.is_object()) {
    j.erase("command_line");
    for (auto& [k, v] : j.items()) drop_command_lines(v);
  } else if (j.is_array()) {
    for (auto& v : j) drop_command_lines(v);
  }
}
std::string without_command_lines(const std::string& json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text);
  drop_command_lines(j);
  return j.dump(1);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs palsim ARGS in `s` to completion into `result` and returns how long it
// took: the kill points of a test are fractions of this time.
double run_timed(const std::vector<std::string>& args, const Scratch& s, RunResult& result) {
  const auto t0 = std::chrono::steady_clock::now();
  result = palsim_test::run_palsim(args, s.path(), s.capture());
  return seconds_since(t0);
}

// Starts palsim ARGS in `dir`, SIGKILLs it (and its children) after
// `delay` seconds unless it ended first; returns whether it completed.
bool run_and_kill(const std::vector<std::string>& args, const Scratch& s, double delay) {
  const pid_t pid = palsim_test::start_palsim(args, s.path(), s.capture());
  const auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  while (seconds_since(t0) < delay) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A result file after a kill: the previous complete file, or the new complete
// result when the run completed (atomic replacement: never a mix, never empty).
void expect_previous_or_complete(const std::string& path, const std::string& previous,
                                 const std::string& complete, bool completed,
                                 const std::string& what) {
  ASSERT_TRUE(fs::exists(path)) << what << ": the previous file vanished";
  const std::string now = read_text(path);
  if (completed) {
    EXPECT_EQ(now, complete) << what << ": the run completed but the file is not its result";
  } else {
    EXPECT_TRUE(now == previous || now == complete)
        << what << ": neither the previous nor a complete file (" << now.size() << " bytes)";
  }
}

TEST(CrashSafety, SimulateJsonAndCsvArePreviousOrComplete) {
  Scratch s;
  const std::vector<std::string> args = {
      "simulate", "resnet18",    "--method", "lsq",   "--abits", "4", "--wbits",
      "4",        "--json-file", "out.json", "--csv", "out.csv", "-q"};
  RunResult ref;
  const double T = run_timed(args, s, ref);
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::string json = read_text(s / "out.json"), csv = read_text(s / "out.csv");
  ASSERT_FALSE(json.empty());
  ASSERT_FALSE(csv.empty());
  ASSERT_TRUE(nlohmann::json::accept(json));
  for (double f : {0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 1.5}) {
    write_text(s / "out.json", "previous json\n");
    write_text(s / "out.csv", "previous csv\n");
    const bool completed = run_and_kill(args, s, f * T);
    expect_previous_or_complete(s / "out.json", "previous json\n", json, completed, "--json-file");
    expect_previous_or_complete(s / "out.csv", "previous csv\n", csv, completed, "--csv");
  }
}

// Kill points are fractions of a complete run's time measured here: a faster
// mapper or machine must not turn a fixed delay into a finished run.
TEST(CrashSafety, Table2FilesArePreviousOrComplete) {
  Scratch s;
  const std::vector<std::string> args = {"table2", "--markdown", "t2.md", "--csv",
                                         "t2.csv", "--refine",   "1",     "--no-onchip-effect",
                                         "-q"};
  RunResult ref;
  const double T = run_timed(args, s, ref);
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::string md = read_text(s / "t2.md"), csv = read_text(s / "t2.csv");
  ASSERT_FALSE(md.empty());
  ASSERT_FALSE(csv.empty());
  int interrupted = 0;
  for (double f : {0.1, 0.4, 0.7, 0.95}) {
    write_text(s / "t2.md", "previous markdown\n");
    write_text(s / "t2.csv", "previous csv\n");
    const bool completed = run_and_kill(args, s, f * T);
    interrupted += completed ? 0 : 1;
    expect_previous_or_complete(s / "t2.md", "previous markdown\n", md, completed, "--markdown");
    expect_previous_or_complete(s / "t2.csv", "previous csv\n", csv, completed, "--csv");
  }
  EXPECT_GT(interrupted, 0) << "no kill landed before table2 finished";
}

// A sweep killed midway: the database holds only finished points and reads
// back; resumed, it equals an uninterrupted run, and -j 1 equals -j 2, byte
// for byte.
TEST(CrashSafety, SweepDatabaseSurvivesAKillAndResultsAreDeterministic) {
  Scratch s;
  const std::string sweep = kSrc + "/tests/data/sweeps/small.yaml";
  const RunResult a = palsim_test::run_palsim({"sweep", sweep, "--db", "j1.db", "-j", "1", "-q"},
                                              s.path(), s.capture());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const RunResult ja =
      palsim_test::run_palsim({"results", "j1.db", "--json"}, s.path(), s.capture());
  ASSERT_EQ(ja.exit_code, 0) << ja.err;
  const RunResult b = palsim_test::run_palsim({"sweep", sweep, "--db", "j2.db", "-j", "2", "-q"},
                                              s.path(), s.capture());
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const RunResult jb =
      palsim_test::run_palsim({"results", "j2.db", "--json"}, s.path(), s.capture());
  EXPECT_EQ(without_command_lines(ja.out), without_command_lines(jb.out))
      << "results --json differs between -j 1 and -j 2";

  bool completed = run_and_kill({"sweep", sweep, "--db", "killed.db", "-j", "2", "-q"}, s, 1.0);
  // On a loaded machine the kill can land before the database exists (the
  // executable's start alone took over a second): then there is nothing to
  // read back, and the resumed run starts it.
  if (std::filesystem::exists(s / "killed.db")) {
    const RunResult partial =
        palsim_test::run_palsim({"results", "killed.db", "--json"}, s.path(), s.capture());
    ASSERT_EQ(partial.exit_code, 0)
        << "the killed sweep's database does not read back: " << partial.err;
    for (const auto& p : nlohmann::json::parse(partial.out))
      EXPECT_EQ(p["status"], "done") << p.dump();
  }
  if (!completed) {
    const RunResult resumed = palsim_test::run_palsim(
        {"sweep", sweep, "--db", "killed.db", "--resume", "-q"}, s.path(), s.capture());
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  }
  const RunResult jk =
      palsim_test::run_palsim({"results", "killed.db", "--json"}, s.path(), s.capture());
  EXPECT_EQ(without_command_lines(ja.out), without_command_lines(jk.out))
      << "a killed and resumed sweep differs from an uninterrupted one";
}

TEST(Determinism, SimulateJsonIsByteIdenticalAcrossRuns) {
  Scratch s;
  const std::vector<std::string> args = {
      "simulate", kSrc + "/workloads/examples/tiny_palquant.yaml", "--json", "-q"};
  const RunResult a = palsim_test::run_palsim(args, s.path(), s.capture());
  const RunResult b = palsim_test::run_palsim(args, s.path(), s.capture());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_FALSE(a.out.empty());
  EXPECT_EQ(a.out, b.out);
}

TEST(Determinism, Table2JsonIsByteIdenticalAcrossJobCounts) {
  Scratch s;
  const RunResult a = palsim_test::run_palsim(
      {"table2", "--json", "--no-onchip-effect", "--refine", "1", "-j", "1", "-q"}, s.path(),
      s.capture());
  const RunResult b = palsim_test::run_palsim(
      {"table2", "--json", "--no-onchip-effect", "--refine", "1", "-j", "2", "-q"}, s.path(),
      s.capture());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_GT(nlohmann::json::parse(a.out)["rows"].size(), 0u);
  EXPECT_EQ(without_command_lines(a.out), without_command_lines(b.out));
}

#ifdef PALSIM_WITH_TORCH
// Every trained value and optimizer state (meta/* holds timings).
std::map<std::string, std::string> trained_state(const std::string& run_dir) {
  const auto f = palsim::training::ArrayFile::read(run_dir + "/checkpoint.bin");
  std::map<std::string, std::string> out;
  for (const auto& [name, a] : f.arrays()) {
    if (name.rfind("meta/", 0) != 0) out[name] = std::string(a.data.begin(), a.data.end());
  }
  return out;
}

// The checkpoint and metrics of a killed run: absent or complete.
void expect_run_dir_consistent(const std::string& run_dir, const std::string& when) {
  if (fs::exists(run_dir + "/checkpoint.bin")) {
    EXPECT_NO_THROW(palsim::training::ArrayFile::read(run_dir + "/checkpoint.bin").arrays().size())
        << when;
  }
  if (fs::exists(run_dir + "/metrics.json")) {
    EXPECT_TRUE(nlohmann::json::accept(read_text(run_dir + "/metrics.json"))) << when;
  }
}

// The epochs a run's checkpoint records (0 without one). The file is replaced
// atomically, so a read sees a whole checkpoint even while training goes on.
int64_t checkpoint_epoch(const std::string& run_dir) {
  if (!fs::exists(run_dir + "/checkpoint.bin")) return 0;
  return palsim::training::ArrayFile::read(run_dir + "/checkpoint.bin").get_int64("meta/epoch");
}

void kill_and_reap(pid_t pid, int& status) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
}

// The kill points follow the run's own progress on disk, not timings taken
// from another run: under ctest -j2 one run can be several times slower than
// the next, and a delay measured on one then misses the epoch it aims at.
TEST(CrashSafety, TrainingKilledWithSigkillResumesToIdenticalWeights) {
  Scratch s;
  // workloads/fmnist/smoke.yaml with four epochs: a run resumed after the
  // first kill (at most one epoch done) sees its next checkpoint with at least
  // two epochs still to go, so the second kill always lands in a running epoch.
  std::string config = read_text(kSrc + "/workloads/fmnist/smoke.yaml");
  const std::string one = "epochs: 1", four = "epochs: 4";
  ASSERT_NE(config.find(one), std::string::npos);
  config.replace(config.find(one), one.size(), four);
  // A quarter of its images: about a second per epoch.
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"train_limit: 512", "train_limit: 128"},
        {"test_limit: 256", "test_limit: 64"}}) {
    ASSERT_NE(config.find(from), std::string::npos);
    config.replace(config.find(from), from.size(), to);
  }
  write_text(s / "train.yaml", config);

  RunResult ref;
  const double T = run_timed({"train", "train.yaml", "-o", "ref", "-q"}, s, ref);
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::vector<std::string> args = {"train", "train.yaml", "-o", "killed", "-q"};
  const std::string killed_dir = s / "killed";

  // First kill: in the first epoch (a fifth of the reference run's time), or
  // as soon as the first checkpoint appears if this run is much faster.
  {
    const pid_t pid = palsim_test::start_palsim(args, s.path(), s.capture());
    const auto t1 = std::chrono::steady_clock::now();
    int status = 0;
    bool ended = false;
    while (!ended && seconds_since(t1) < 0.2 * T && !fs::exists(killed_dir + "/checkpoint.bin")) {
      ended = ::waitpid(pid, &status, WNOHANG) == pid;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_FALSE(ended) << "the run ended before the first kill: "
                        << read_text(s.capture() + "/stderr");
    kill_and_reap(pid, status);
  }
  expect_run_dir_consistent(killed_dir, "after a kill in epoch 1");
  const int64_t first_epochs = checkpoint_epoch(killed_dir);
  ASSERT_LE(first_epochs, 1);

  // Second kill: resumed, then killed as soon as its next checkpoint appears,
  // that is in the epoch after it. No delay timed from an epoch: the first
  // epoch of a process pays libtorch's warm-up, and in a CI run a third of it
  // outlasted the whole next epoch, so the run ended before the kill.
  {
    const pid_t pid = palsim_test::start_palsim(args, s.path(), s.capture());
    const auto t1 = std::chrono::steady_clock::now();
    int status = 0;
    bool killed = false;
    while (seconds_since(t1) < 10 * T + 60 && ::waitpid(pid, &status, WNOHANG) != pid) {
      if (checkpoint_epoch(killed_dir) > first_epochs) {
        kill_and_reap(pid, status);
        killed = WIFSIGNALED(status);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(killed) << "the resumed run was not interrupted in a later epoch";
  }
  expect_run_dir_consistent(killed_dir, "after a kill in a later epoch");
  ASSERT_LT(checkpoint_epoch(killed_dir), 4);
  const RunResult resumed = palsim_test::run_palsim(args, s.path(), s.capture());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(trained_state(s / "ref") == trained_state(killed_dir))
      << "resumed weights differ from the uninterrupted run's";
  EXPECT_EQ(read_text(s / "ref/config.yaml"), read_text(killed_dir + "/config.yaml"));
}

// `palsim export` killed at several points: the model file is the previous
// one or the complete export (exports are deterministic).
TEST(CrashSafety, ExportIsPreviousOrComplete) {
  Scratch s;
  write_text(s / "net.yaml",
             "format: palsim-network-1\nname: tiny-fmnist\nlayers:\n"
             "  - {name: input, op: input, shape: [1, 28, 28]}\n"
             "  - {name: conv1, op: conv, out_channels: 4, kernel: 3, stride: 2, padding: 1,\n"
             "     quant: {quantizer: lsq, w_bits: 4, a_bits: 8}}\n"
             "  - {name: relu1, op: relu}\n"
             "  - {name: pool, op: global_avgpool}\n"
             "  - {name: fc, op: fc, out_features: 10, role: classifier}\n");
  write_text(s / "train.yaml",
             "format: palsim-train-1\nnetwork: {name: ./net.yaml}\n"
             "data: {dataset: fashion-mnist, train_limit: 64, test_limit: 64}\n"
             "training: {epochs: 1, batch_size: 16, lr_weights: 0.05, lr_quantizers: 0.001, "
             "momentum: 0.9,\n"
             "           weight_decay: 0.0001, seed: 1, threads: 1}\n");
  const RunResult trained =
      palsim_test::run_palsim({"train", "train.yaml", "-o", "run", "-q"}, s.path(), s.capture());
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const std::vector<std::string> args = {"export", "run", "-o", "model.pim", "--limit", "16", "-q"};
  RunResult ref;
  const double T = run_timed(args, s, ref);
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::string model = read_text(s / "model.pim");
  for (double f : {0.2, 0.5, 0.8, 0.95, 1.5}) {
    write_text(s / "model.pim", "previous model\n");
    const bool completed = run_and_kill(args, s, f * T);
    expect_previous_or_complete(s / "model.pim", "previous model\n", model, completed, "export -o");
  }
}
#endif

}  // namespace
