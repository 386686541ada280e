// The timeline (sim/core/timeline.h): a Chrome trace with a slice per job on
// its engine's track, engines never running two jobs at once, a marker per
// layer, and the same file from the fast and the detailed mode.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
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

TEST(Timeline, OneSlicePerJobOnItsEngineTheSameInBothModes) {
  const frontend::HwConfig hw = hw_config("bpvec");
  const frontend::Network net =
      frontend::load_network_yaml(source_path("workloads/examples/tiny_palquant.yaml"));
  const frontend::Compiled c = sim::compile(hw, net, frontend::LoweringOptions{});
  palsim_test::TempDir dir;
  SimOptions fast;
  fast.timeline = dir.path() + "/fast.json";
  const RunStats f = simulate(hw, c.program, fast);
  SimOptions detailed = fast;
  detailed.mode = SimMode::kDetailed;
  detailed.timeline = dir.path() + "/detailed.json";
  simulate(hw, c.program, detailed);
  const nlohmann::json t = read_json(fast.timeline);
  EXPECT_EQ(t, read_json(detailed.timeline));

  const size_t jobs = expand_program(hw, c.program).jobs.size();
  size_t slices = 0, layers = 0;
  std::map<int, std::vector<std::pair<double, double>>> by_track;
  double last = 0;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] != "X") continue;
    const double ts = e["ts"], dur = e["dur"];
    last = std::max(last, ts + dur);
    if (e["tid"] == 0) {
      ++layers;
      continue;
    }
    ++slices;
    by_track[e["tid"].get<int>()].emplace_back(ts, ts + dur);
  }
  EXPECT_EQ(slices, jobs);
  EXPECT_EQ(layers, c.program.info.ops.size());
  EXPECT_EQ(by_track.size(), 4u);  // DMA load, DMA store, array, post-processing
  for (auto& [track, spans] : by_track) {
    std::sort(spans.begin(), spans.end());
    for (size_t k = 1; k < spans.size(); ++k)
      EXPECT_LE(spans[k - 1].second, spans[k].first + 1e-9) << "track " << track;
  }
  // Microseconds at the configured clock: the run ends at cycles / MHz.
  EXPECT_NEAR(last, static_cast<double>(f.cycles) / hw.clock_mhz, 1e-6);
}

}  // namespace
}  // namespace palsim::sim::test
