// Per-layer figures are each meaningful on their own: attributed cycles sum
// to the run's cycles, and a layer's utilization and MAC utilization stay
// within [0, 1] even where layers interleave (a producer and its consumer kept
// on chip). Before the array-occupancy rule (cycle_attribution.h) the second
// conv of such a pair reported 173% (ResNet-18 PalQuant on Bit Fusion) and
// tiny_palquant.yaml 107% on BPVeC.
#include <gtest/gtest.h>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "frontend/builders/registry.h"
#include "sim/compile.h"
#include "sim/core/cycle_attribution.h"
#include "sim/simulator.h"

namespace palsim::sim {
namespace {

const std::string kSrc = PALSIM_SOURCE_DIR;

RunStats run(const std::string& network, const std::string& hw_file, bool palquant) {
  const frontend::HwConfig hw = frontend::load_hw_config(kSrc + "/configs/" + hw_file);
  frontend::NetworkRequest r;
  r.network = network;
  if (palquant) {
    r.method.method = frontend::Method::kPalQuant;
    r.method.B = 2;
    r.method.G = 2;
    r.method_given = true;
  }
  const frontend::Compiled c =
      compile(hw, frontend::resolve_network(r), frontend::LoweringOptions{});
  SimOptions so;
  so.progress = false;
  return simulate(hw, c.program, so);
}

void expect_physical(const RunStats& s, const std::string& what) {
  uint64_t sum = 0;
  for (const auto& l : s.layers) {
    sum += l.cycles;
    EXPECT_LE(l.utilization, 1.0) << what << " " << l.name;
    EXPECT_LE(l.mac_utilization, 1.0) << what << " " << l.name;
    EXPECT_GE(l.utilization, 0.0) << what << " " << l.name;
    // Every cycle a layer's tiles occupy the array is its own.
    EXPECT_GE(l.cycles, l.counts.engine_busy[static_cast<size_t>(Engine::kArray)])
        << what << " " << l.name;
  }
  EXPECT_EQ(sum, s.cycles) << what;
}

TEST(LayerAttribution, EveryLayerWithinPhysicalRange) {
  expect_physical(run(kSrc + "/workloads/examples/tiny_palquant.yaml", "bpvec.yaml", false),
                  "tiny_palquant bpvec");
  expect_physical(run("resnet18", "bitfusion.yaml", true), "resnet18 palquant bitfusion");
}

// Two layers whose array tiles interleave: each owns the cycles of its tiles;
// idle cycles go to the earliest layer in flight.
TEST(LayerAttribution, InterleavedLayersOwnTheirArrayCycles) {
  JobList list;
  auto add = [&](Engine e, int op, uint64_t start, uint64_t end) {
    Job j;
    j.engine = e;
    j.op = op;
    j.start = start;
    j.end = end;
    j.done = end;
    list.queue[static_cast<int>(e)].push_back(static_cast<uint32_t>(list.jobs.size()));
    list.jobs.push_back(j);
  };
  add(Engine::kLoad, 0, 0, 10);    // layer 0 loads: idle array, layer 0 in flight
  add(Engine::kArray, 0, 10, 20);  // layer 0 computes
  add(Engine::kArray, 1, 20, 30);  // layer 1 computes (layer 0 still in flight)
  add(Engine::kArray, 0, 30, 35);  // layer 0 again
  add(Engine::kArray, 1, 40, 50);  // idle 35..40: layer 0 in flight until 45
  add(Engine::kStore, 0, 35, 45);
  add(Engine::kStore, 1, 50, 60);  // after the array: layer 1
  const std::vector<uint64_t> c = attribute_cycles(list, 2, 60);
  EXPECT_EQ(c[0], 10u + 10u + 5u + 5u);
  EXPECT_EQ(c[1], 10u + 10u + 10u);
}

// A failed correctness check is a failed run (simulate exits 1, a sweep
// point is recorded failed): detailed mode found a value mismatch.
TEST(RunChecks, AValueMismatchIsARunFailure) {
  RunStats r;
  EXPECT_NO_THROW(require_bit_exact(r));  // fast mode: nothing checked
  r.values_checked = true;
  r.bit_exact = true;
  EXPECT_NO_THROW(require_bit_exact(r));
  r.bit_exact = false;
  r.first_mismatch = "op 3 (layer2.0.conv1) element 17";
  try {
    require_bit_exact(r);
    FAIL() << "a mismatch passed";
  } catch (const RunFailure& e) {
    EXPECT_NE(std::string(e.what()).find("layer2.0.conv1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace palsim::sim
