// Compile + simulate (fast mode) of the issue-9 networks at their ImageNet
// shapes: plain18 and ShuffleNet v2 run end to end on both accelerators, the
// copies of ShuffleNet's identity halves cost DRAM traffic and PPU work, and
// depthwise convolutions show their low multiplier utilization per layer.
#include <gtest/gtest.h>

#include <string>

#include "frontend/builders/registry.h"
#include "sim/compile.h"
#include "sim/simulator.h"
#include "tests/sim/sim_test_util.h"

namespace palsim::sim::test {
namespace {

RunStats run_fast_network(const std::string& hw_name, frontend::NetworkRequest r) {
  r.method_given = true;
  const frontend::HwConfig hw = hw_config(hw_name, {});
  const frontend::Compiled c =
      compile(hw, frontend::resolve_network(r), frontend::LoweringOptions{}, 1);
  SimOptions o;
  o.graph = &c.plan.graph;
  return simulate(hw, c.program, o);
}

frontend::NetworkRequest request(const std::string& network, frontend::Method m) {
  frontend::NetworkRequest r;
  r.network = network;
  r.method.method = m;
  return r;
}

const LayerStats& layer(const RunStats& s, const std::string& name) {
  for (const auto& l : s.layers) {
    if (l.name == name) return l;
  }
  throw std::logic_error("no layer " + name);
}

TEST(NetworksFast, ShuffleNetV2OnBothAccelerators) {
  for (const char* hw : {"bitfusion", "bpvec"}) {
    SCOPED_TRACE(hw);
    const RunStats s = run_fast_network(hw, request("shufflenetv2", frontend::Method::kLsq));
    EXPECT_GT(s.cycles, 0u);
    EXPECT_GT(s.energy.total(), 0.0);
    uint64_t sum = 0;
    int copies = 0;
    for (const auto& l : s.layers) {
      sum += l.cycles;
      if (l.kind != "copy") continue;
      ++copies;
      // The identity half: read once and written once at 4 bits, every element through the PPU.
      const uint64_t elements = static_cast<uint64_t>(l.counts.ppu_elements);
      EXPECT_GT(elements, 0u) << l.name;
      EXPECT_EQ(l.counts.dram_read_bits, elements * 4) << l.name;
      EXPECT_EQ(l.counts.dram_write_bits, elements * 4) << l.name;
      EXPECT_GT(l.energy[sim::EnergyComponent::kDram], 0.0);
      EXPECT_GT(l.energy[sim::EnergyComponent::kPpu], 0.0);
      EXPECT_EQ(l.counts.chunk_products, 0u);
    }
    EXPECT_EQ(copies, 13);  // one per basic unit: 3 + 7 + 3
    EXPECT_EQ(sum, s.cycles);
    // A depthwise 3x3 uses a few percent of the multipliers; a 1x1 of the same unit far more.
    const LayerStats& dw = layer(s, "stage3.1.branch2.3");
    const LayerStats& pw = layer(s, "stage3.1.branch2.5");
    EXPECT_LT(dw.mac_utilization, 0.05);
    EXPECT_GT(pw.mac_utilization, 3 * dw.mac_utilization);
  }
}

TEST(NetworksFast, ShuffleNetV2WithCyclicModules) {
  frontend::NetworkRequest r = request("shufflenetv2", frontend::Method::kLsq);
  r.width = 0.5;
  r.cyclic_groups = 2;
  const RunStats s = run_fast_network("bitfusion", r);
  // The module is one conv op: the permutation rotates its input groups, the addition is fused.
  const LayerStats& m = layer(s, "shuffle3.conv1.0");
  EXPECT_EQ(m.layers, (std::vector<std::string>{"shuffle3.conv1.0", "shuffle3.conv1.1",
                                                "shuffle3.conv1.2", "shuffle3.add"}));
  EXPECT_GT(m.cycles, 0u);
}

TEST(NetworksFast, Plain18) {
  const RunStats keep = run_fast_network("bitfusion", request("plain18", frontend::Method::kLsq));
  frontend::NetworkRequest drop_request = request("plain18", frontend::Method::kLsq);
  drop_request.projections = "drop";
  const RunStats drop = run_fast_network("bitfusion", drop_request);
  EXPECT_GT(drop.cycles, 0u);
  EXPECT_LT(drop.cycles, keep.cycles);  // three convs fewer
  EXPECT_EQ(keep.layers.size(), drop.layers.size() + 3);
  // PalQuant B=2 G=2 at a small shape on BPVeC.
  frontend::NetworkRequest pq = request("plain18", frontend::Method::kPalQuant);
  pq.method.G = 2;
  pq.input_size = 32;
  pq.base_width = 16;
  pq.stem = "small";
  const RunStats p = run_fast_network("bpvec", pq);
  EXPECT_GT(p.cycles, 0u);
}

}  // namespace
}  // namespace palsim::sim::test
