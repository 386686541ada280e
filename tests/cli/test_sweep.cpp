// palsim sweep / results / plot: expansion, errors, resume after a kill,
// exports and merging.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_test_util.h"

namespace {

using namespace palsim_test;

const std::string kSmall = kSource + "/tests/data/sweeps/small.yaml";
// Thirty points, 1 s in all: the eight of small.yaml take 0.3 s, short enough
// that a busy machine could let the sweep end before the test kills it.
const std::string kResume = kSource + "/tests/data/sweeps/resume.yaml";
constexpr int kResumePoints = 30;

// Rows of the points table, read directly (the database is the contract).
int done_rows(const std::string& db) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return -1;
  }
  sqlite3_busy_timeout(h, 2000);
  sqlite3_stmt* st = nullptr;
  int n = -1;
  if (sqlite3_prepare_v2(h, "SELECT COUNT(*) FROM points WHERE status = 'done'", -1, &st,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    n = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

nlohmann::json results(const std::string& db) {
  const Result r = palsim("results " + quoted(db) + " --json");
  EXPECT_EQ(r.code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

// key -> (cycles, energy) of every done point.
std::map<std::string, std::pair<uint64_t, double>> by_key(const nlohmann::json& list) {
  std::map<std::string, std::pair<uint64_t, double>> m;
  for (const auto& p : list) {
    if (p["status"] == "done")
      m[p["key"]] = {p["cycles"].get<uint64_t>(), p["energy_pj"].get<double>()};
  }
  return m;
}

TEST(CliSweep, ListExpandsTheCartesianProduct) {
  const Result r = palsim("sweep " + quoted(kSmall) + " --list");
  ASSERT_EQ(r.code, 0) << r.err;
  // 2 LSQ widths + 2 PalQuant G, on 2 accelerators.
  int lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_EQ(lines, 8);
  EXPECT_CONTAINS(r.out, "\"G\":4");
}

TEST(CliSweep, ShippedSweepsParse) {
  for (const char* f : {"smoke", "bg_resnet18", "buffers_resnet18", "perf100_resnet18"}) {
    const Result r =
        palsim("sweep " + quoted(kSource + "/configs/sweeps/" + f + ".yaml") + " --list");
    EXPECT_EQ(r.code, 0) << f << ": " << r.err;
  }
  // The B x G sweep: B in 2..4 x G in 1..4 on both accelerators, with baselines.
  const Result bg =
      palsim("sweep " + quoted(kSource + "/configs/sweeps/bg_resnet18.yaml") + " --list");
  EXPECT_CONTAINS(bg.out, "\"B\":4");
  EXPECT_CONTAINS(bg.out, "bpvec.yaml");
}

TEST(CliSweep, SpecErrorsNameFileLineAndKey) {
  struct Case {
    const char* file;
    int line;
    const char* key;
  } cases[] = {{"bad_key.yaml", 5, "methods[0].shuffle"},
               {"bad_value.yaml", 5, "methods[0].bits"},
               {"bad_groups.yaml", 6, "methods[0].G"},
               {"misapplied_key.yaml", 7, "methods[0].G"},
               {"bad_override.yaml", 8, "overrides.buffers.ibuf.size_bytes"}};
  for (const auto& c : cases) {
    const std::string path = kSource + "/tests/data/sweeps/" + c.file;
    const Result r = palsim("sweep " + quoted(path) + " --list");
    EXPECT_EQ(r.code, 1) << c.file;
    EXPECT_CONTAINS(r.err, path + ":" + std::to_string(c.line));
    EXPECT_CONTAINS(r.err, c.key);
  }
  // A request field's error is in the file's terms, never a command-line option's.
  for (const char* f : {"bad_groups.yaml", "misapplied_key.yaml"}) {
    const Result r = palsim("sweep " + quoted(kSource + "/tests/data/sweeps/" + f) + " --list");
    EXPECT_EQ(r.err.find(" --"), std::string::npos) << f << ": " << r.err;
  }
}

// Sweeps, the command line and training configurations read one range per
// field (frontend/builders/request_fields.cpp): the same G is refused by all.
TEST(CliSweep, OneRangePerFieldAcrossTheCommandLineAndSweeps) {
  const Result cli = palsim("bitops resnet18 --method palquant --G 17");
  EXPECT_EQ(cli.code, 2);
  EXPECT_CONTAINS(cli.err, "--G: must be between 1 and 16, got 17");
  const Result sweep =
      palsim("sweep " + quoted(kSource + "/tests/data/sweeps/bad_groups.yaml") + " --list");
  EXPECT_CONTAINS(sweep.err, "must be between 1 and 16, got 17");
  EXPECT_EQ(palsim("bitops resnet18 --method palquant --G 16").code, 0);
}

TEST(CliSweep, PermuteDirectionIsASweepKey) {
  TempDir dir;
  const std::string spec =
      dir.write("dir.yaml",
                "format: palsim-sweep-1\nname: d\nnetworks: [resnet18]\nmethods:\n"
                "  - {method: palquant, B: [2], G: [2], permute_direction: [paper, reference]}\n"
                "hardware: [" +
                    kSource + "/configs/bitfusion.yaml]\n");
  const Result r = palsim("sweep " + quoted(spec) + " --list");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "\"permute_direction\":\"paper\"");
  EXPECT_CONTAINS(r.out, "\"permute_direction\":\"reference\"");
}

TEST(CliSweep, RunExportAndRefuseToRerunWithoutResume) {
  TempDir dir;
  const std::string db = dir.path() + "/s.db";
  const Result r = palsim("sweep " + quoted(kSmall) + " --db " + quoted(db) + " -j 2 --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json list = results(db);
  ASSERT_EQ(list.size(), 8u);
  for (const auto& p : list) {
    EXPECT_EQ(p["status"], "done");
    EXPECT_GT(p["cycles"].get<uint64_t>(), 0u);
    EXPECT_GT(p["energy_pj"].get<double>(), 0.0);
    EXPECT_TRUE(p.contains("network") && p.contains("method") && p.contains("hardware"));
  }
  const Result again = palsim("sweep " + quoted(kSmall) + " --db " + quoted(db) + " --quiet");
  EXPECT_EQ(again.code, 1);
  EXPECT_CONTAINS(again.err, "--resume");
  const Result resumed =
      palsim("sweep " + quoted(kSmall) + " --db " + quoted(db) + " --resume --quiet");
  EXPECT_EQ(resumed.code, 0);
  EXPECT_CONTAINS(resumed.out, "0 done, 0 failed, 8 already done");
  const Result csv = palsim("results " + quoted(db) + " --csv -");
  EXPECT_EQ(csv.code, 0);
  // Every parameter that shaped a point is a column (small.yaml's network has
  // shape options), and the figures the database holds are exported.
  EXPECT_CONTAINS(csv.out, "network,input_size,classes,base_width,stem,blocks,method");
  EXPECT_CONTAINS(csv.out, "utilization,mac_utilization,dram_bits");
  EXPECT_CONTAINS(csv.out, "# provenance (JSON, one object):");
  const Result md = palsim("results " + quoted(db) + " --markdown -");
  EXPECT_CONTAINS(md.out, "| network |");
}

TEST(CliSweep, KilledMidwayResumesWithoutLosingOrRepeatingPoints) {
  TempDir dir;
  const std::string db = dir.path() + "/kill.db";
  const std::string reference = dir.path() + "/ref.db";
  ASSERT_EQ(
      palsim("sweep " + quoted(kResume) + " --db " + quoted(reference) + " -j 1 --quiet").code, 0);

  // Start the sweep, SIGKILL it once a point or two are committed.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(PALSIM_BINARY, PALSIM_BINARY, "sweep", kResume.c_str(), "--db", db.c_str(), "-j", "1",
            "--quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int committed = 0;
  for (int i = 0; i < 2400 && committed < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    committed = std::max(committed, done_rows(db));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before it could be killed";
  const int before = done_rows(db);
  ASSERT_GE(before, 2);
  ASSERT_LT(before, kResumePoints);

  const Result r =
      palsim("sweep " + quoted(kResume) + " --db " + quoted(db) + " --resume --quiet -j 2");
  ASSERT_EQ(r.code, 0) << r.err;
  // Only the missing points ran; the finished ones were not run again.
  EXPECT_CONTAINS(r.out, std::to_string(kResumePoints - before) + " done, 0 failed, " +
                             std::to_string(before) + " already done");
  EXPECT_EQ(by_key(results(db)), by_key(results(reference)));
}

TEST(CliSweep, ShardsMergeToTheSameResults) {
  TempDir dir;
  const std::string whole = dir.path() + "/whole.db";
  ASSERT_EQ(palsim("sweep " + quoted(kSmall) + " --db " + quoted(whole) + " --quiet").code, 0);
  for (int i = 0; i < 3; ++i) {
    const std::string shard = dir.path() + "/shard_" + std::to_string(i) + ".db";
    ASSERT_EQ(palsim("sweep " + quoted(kSmall) + " --shard " + std::to_string(i) + "/3 --db " +
                     quoted(shard) + " --quiet")
                  .code,
              0);
  }
  const std::string merged = dir.path() + "/merged.db";
  const Result m = palsim("results --merge " + quoted(dir.path() + "/shard_0.db") + " " +
                          quoted(dir.path() + "/shard_1.db") + " " +
                          quoted(dir.path() + "/shard_2.db") + " -o " + quoted(merged));
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(by_key(results(merged)), by_key(results(whole)));
}

TEST(CliSweep, SlurmScriptIsWritten) {
  TempDir dir;
  const Result r = palsim("sweep " + quoted(kSmall) + " --slurm " + quoted(dir.path() + "/array") +
                          " --tasks 4");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string script = slurp(dir.path() + "/array/sweep.sbatch");
  EXPECT_CONTAINS(script, "#SBATCH --array=0-3");
  EXPECT_CONTAINS(script, "--shard \"$SLURM_ARRAY_TASK_ID/4\"");
}

// sbatch runs without a shell and with default signal dispositions (palsim
// ignores SIGPIPE for itself), and the job script it is given quotes every
// path: a directory with a quote in its name is one word, and the script's
// task runs its shard into the right database.
TEST(CliSweep, SubmitRunsSbatchDirectlyWithDefaultSignalsAndAScriptThatQuotesPaths) {
  TempDir dir;
  const std::string bin = dir.path() + "/bin";
  fs::create_directories(bin);
  {
    std::ofstream f(bin + "/sbatch");
    f << "#!/bin/sh\ngrep '^SigIgn' /proc/self/status > \"$(dirname \"$0\")/sigign\"\n"
         "printf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args\"\n";
  }
  fs::permissions(bin + "/sbatch", fs::perms::owner_all);
  const std::string array = dir.path() + "/it's an array";
  const std::string old_path = ::getenv("PATH") ? ::getenv("PATH") : "";
  ::setenv("PATH", (bin + ":" + old_path).c_str(), 1);
  const Result r =
      palsim("sweep " + quoted(kSmall) + " --slurm \"" + array + "\" --tasks 4 --submit");
  ::setenv("PATH", old_path.c_str(), 1);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(bin + "/args"), array + "/sweep.sbatch\n");
  const std::string sigign = slurp(bin + "/sigign");
  ASSERT_EQ(sigign.rfind("SigIgn:", 0), 0u) << sigign;
  const unsigned long long ignored = std::stoull(sigign.substr(7), nullptr, 16);
  EXPECT_EQ(ignored & (1ull << (SIGPIPE - 1)), 0u) << "sbatch started with SIGPIPE ignored";
  // Task 0 of the script, as Slurm would run it.
  std::string word = "'";
  for (char c : array + "/sweep.sbatch")
    word += c == '\'' ? std::string("'\\''") : std::string(1, c);
  word += "'";
  ASSERT_EQ(std::system(("SLURM_ARRAY_TASK_ID=0 sh " + word + " 2>/dev/null").c_str()), 0);
  EXPECT_TRUE(fs::exists(array + "/shard_0.db"));
}

TEST(CliSweep, BadUsage) {
  EXPECT_EQ(palsim("sweep").code, 2);
  EXPECT_EQ(palsim("sweep " + quoted(kSmall) + " --shard 3/3").code, 2);
  EXPECT_EQ(palsim("sweep " + quoted(kSmall) + " --submit").code, 2);
  const Result missing = palsim("results /nonexistent/x.db");
  EXPECT_EQ(missing.code, 1);
  EXPECT_CONTAINS(missing.err, "/nonexistent/x.db");
}

TEST(CliPlot, WritesPlotsAndData) {
  TempDir dir;
  const std::string db = dir.path() + "/p.db";
  ASSERT_EQ(palsim("sweep " + quoted(kSmall) + " --db " + quoted(db) + " --quiet").code, 0);
  const Result r = palsim("plot " + quoted(db) + " -o " + quoted(dir.path() + "/plots"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.path() + "/plots/speedup_vs_G.csv"));
  EXPECT_TRUE(fs::exists(dir.path() + "/plots/energy_breakdown.csv"));
}

}  // namespace
