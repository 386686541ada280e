// The timeline (sim/core/timeline.h): a Chrome trace with a slice per job on
// its engine's track, engines never running two jobs at once, a marker per
// layer, buffer occupancy within the configured buffers, DDR4 bank tracks
// (only under the DDR4 model) whose commands are the model's own, and the
// same file from the fast and the detailed mode.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "frontend/ir/network_yaml.h"
#include "sim/compile.h"
#include "sim_test_util.h"
#include "tests/common/test_util.h"

namespace palsim::sim::test {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// Runs `net` on `hw` in both modes with a timeline; expects the same file
// from both and returns it with the fast run's statistics.
struct TimelineRun {
  nlohmann::json trace;
  RunStats stats;
  size_t jobs = 0, ops = 0;
};
TimelineRun run_both_modes(const frontend::HwConfig& hw, const std::string& network) {
  const frontend::Network net = frontend::load_network_yaml(source_path(network));
  const frontend::Compiled c = sim::compile(hw, net, frontend::LoweringOptions{});
  palsim_test::TempDir dir;
  SimOptions fast;
  fast.timeline = dir.path() + "/fast.json";
  TimelineRun r;
  r.stats = simulate(hw, c.program, fast);
  SimOptions detailed = fast;
  detailed.mode = SimMode::kDetailed;
  detailed.timeline = dir.path() + "/detailed.json";
  simulate(hw, c.program, detailed);
  r.trace = read_json(fast.timeline);
  EXPECT_EQ(r.trace, read_json(detailed.timeline)) << network << " on " << hw.name;
  r.jobs = expand_program(hw, c.program).jobs.size();
  r.ops = c.program.info.ops.size();
  return r;
}

constexpr int kFirstBankTrack = 10;
constexpr int kDramRankTrack = 5;

// The slices of each track, by track id.
std::map<int, std::vector<std::pair<double, double>>> slices_by_track(const nlohmann::json& t) {
  std::map<int, std::vector<std::pair<double, double>>> by_track;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] != "X") continue;
    const double ts = e["ts"], dur = e["dur"];
    by_track[e["tid"].get<int>()].emplace_back(ts, ts + dur);
  }
  for (auto& [track, spans] : by_track) std::sort(spans.begin(), spans.end());
  return by_track;
}

void expect_no_overlap(const std::map<int, std::vector<std::pair<double, double>>>& by_track) {
  for (const auto& [track, spans] : by_track) {
    if (track == 0) continue;  // layer markers overlap where layers do
    for (size_t k = 1; k < spans.size(); ++k)
      EXPECT_LE(spans[k - 1].second, spans[k].first + 1e-9) << "track " << track;
  }
}

TEST(Timeline, OneSlicePerJobOnItsEngineTheSameInBothModes) {
  const frontend::HwConfig hw = hw_config("bpvec");
  const TimelineRun r = run_both_modes(hw, "workloads/examples/tiny_palquant.yaml");
  const auto by_track = slices_by_track(r.trace);
  size_t slices = 0;
  double last = 0;
  for (const auto& [track, spans] : by_track) {
    for (const auto& s : spans) last = std::max(last, s.second);
    if (track >= 1 && track <= 4) slices += spans.size();
  }
  EXPECT_EQ(slices, r.jobs);
  EXPECT_EQ(by_track.at(0).size(), r.ops);
  // DMA load, DMA store, array, post-processing, the layers; no DRAM tracks
  // under the bandwidth model.
  EXPECT_EQ(by_track.size(), 5u);
  for (const auto& e : r.trace["traceEvents"]) {
    if (e["ph"] == "M" && e.contains("tid")) {
      EXPECT_LT(e["tid"].get<int>(), kDramRankTrack);
    }
  }
  expect_no_overlap(by_track);
  // Microseconds at the configured clock: the run ends at cycles / MHz.
  EXPECT_NEAR(last, static_cast<double>(r.stats.cycles) / hw.clock_mhz, 1e-6);
}

// The counter samples of `name`: (time, bits).
std::vector<std::pair<double, int64_t>> counter(const nlohmann::json& t, const std::string& name) {
  std::vector<std::pair<double, int64_t>> v;
  for (const auto& e : t["traceEvents"])
    if (e["ph"] == "C" && e["name"] == name) v.emplace_back(e["ts"], e["args"]["bits"]);
  return v;
}

TEST(Timeline, BufferOccupancyStaysWithinEachBufferAndEndsEmpty) {
  for (const char* hw_name : {"bitfusion", "bpvec"}) {
    for (const char* net :
         {"workloads/examples/tiny.yaml", "workloads/examples/tiny_palquant.yaml"}) {
      const frontend::HwConfig hw = hw_config(hw_name);
      const TimelineRun r = run_both_modes(hw, net);
      const nlohmann::json& size = r.trace["otherData"]["buffer_bits"];
      for (const char* buffer : {"IBUF", "WBUF", "OBUF"}) {
        const auto samples = counter(r.trace, std::string(buffer) + " bits resident");
        ASSERT_FALSE(samples.empty()) << buffer;
        int64_t peak = 0;
        for (const auto& [ts, bits] : samples) {
          EXPECT_GE(bits, 0) << buffer;
          peak = std::max(peak, bits);
        }
        EXPECT_GT(peak, 0) << buffer << " " << net << " on " << hw_name;
        EXPECT_LE(peak, size[buffer].get<int64_t>()) << buffer << " " << net << " on " << hw_name;
        EXPECT_EQ(samples.back().second, 0) << buffer << " holds data after the run";
      }
    }
  }
}

// Whole networks in fast mode: full-size ResNet-18 tiles fill the buffers
// (WBUF exactly, with LSQ 4/4 on Bit Fusion), packed depthwise groups and
// split/concat views in ShuffleNet, PalQuant's group convolutions.
TEST(Timeline, BufferOccupancyOfWholeNetworksStaysWithinEachBuffer) {
  frontend::NetworkRequest r18;
  r18.network = "resnet18";
  r18.method_given = true;
  r18.method.method = frontend::Method::kLsq;
  r18.method.a_bits = r18.method.w_bits = 4;
  const std::pair<const char*, frontend::Network> cases[] = {
      {"bitfusion", frontend::resolve_network(r18)},
      {"bpvec", shufflenet_tiny("lsq")},
      {"bitfusion", resnet18_narrow("palquant", 4)}};
  for (const auto& [hw_name, net] : cases) {
    const frontend::HwConfig hw = hw_config(hw_name);
    // The mapper's own choice (no simulated refinement): quicker, and as full.
    const frontend::Compiled c = sim::compile(hw, net, frontend::LoweringOptions{}, 1);
    palsim_test::TempDir dir;
    SimOptions fast;
    fast.timeline = dir.path() + "/t.json";
    simulate(hw, c.program, fast);
    const nlohmann::json t = read_json(fast.timeline);
    for (const char* buffer : {"IBUF", "WBUF", "OBUF"}) {
      int64_t peak = 0;
      for (const auto& [ts, bits] : counter(t, std::string(buffer) + " bits resident"))
        peak = std::max(peak, bits);
      EXPECT_GT(peak, 0) << buffer << " " << net.name() << " on " << hw_name;
      EXPECT_LE(peak, t["otherData"]["buffer_bits"][buffer].get<int64_t>())
          << buffer << " " << net.name() << " on " << hw_name;
    }
  }
}

TEST(Timeline, Ddr4BankTracksCarryTheModelsCommandsTheSameInBothModes) {
  const frontend::HwConfig hw = hw_config("bitfusion", {"offchip.model=ddr4"});
  const TimelineRun r = run_both_modes(hw, "workloads/examples/tiny.yaml");
  const auto by_track = slices_by_track(r.trace);
  expect_no_overlap(by_track);
  const int banks = hw.offchip.ddr4.bank_groups * hw.offchip.ddr4.banks_per_group;
  std::map<std::string, uint64_t> commands;
  std::set<int> named;
  for (const auto& e : r.trace["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") named.insert(e["tid"].get<int>());
    if (e["ph"] != "X" || e["cat"] != "dram") continue;
    const int tid = e["tid"];
    EXPECT_TRUE(tid == kDramRankTrack || (tid >= kFirstBankTrack && tid < kFirstBankTrack + banks))
        << tid;
    const std::string name = e["name"];
    ++commands[name.substr(0, name.find(' '))];
  }
  for (int b = 0; b < banks; ++b) EXPECT_TRUE(named.count(kFirstBankTrack + b)) << "bank " << b;
  // Every activate and every burst of the run is on a bank track (posted
  // writes still buffered at the end are drained into the picture).
  EXPECT_GE(commands["ACT"], r.stats.dram.activates);
  EXPECT_GT(r.stats.dram.activates, 0u);
  EXPECT_GE(commands["RD"] + commands["WR"], r.stats.dram.bursts);
  EXPECT_GT(commands["RD"], 0u);
  EXPECT_GT(commands["WR"], 0u);
}

}  // namespace
}  // namespace palsim::sim::test
