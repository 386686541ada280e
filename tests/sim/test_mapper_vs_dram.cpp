// The mapper's DRAM pricing (frontend/arch/access_cost.h with the tiles of
// frontend/mapping/tile_traffic.h, in the layouts the planner chose) against
// the DDR4 timing model, layer by layer: bits moved on the bus and the
// cycles the DMA spends on them. The pricing prices one representative tile
// per operand and a transfer alone, the simulation every tile and the
// overlap of transfers, so they agree within a tolerance, stated here and in
// docs/dram_mapping.md.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "frontend/arch/access_cost.h"
#include "frontend/builders/registry.h"
#include "frontend/lowering/layout_plan.h"
#include "frontend/mapping/mapper.h"
#include "sim/compile.h"
#include "sim/simulator.h"
#include "tests/sim/sim_test_util.h"

namespace palsim::sim::test {
namespace {

// Tolerances (relative, per layer and over the network).
constexpr double kMovedBitsLayer = 0.20;
constexpr double kMovedBitsTotal = 0.05;
constexpr double kCyclesLayer = 0.50;
constexpr double kCyclesTotal = 0.15;

void check_network(const std::string& hw_name, frontend::Method method, int G) {
  frontend::NetworkRequest r;
  r.network = "resnet18";
  r.method_given = true;
  r.method.method = method;
  if (method == frontend::Method::kPalQuant) {
    r.method.B = 2;
    r.method.G = G;
  } else {
    r.method.a_bits = r.method.w_bits = 4;
  }
  const frontend::HwConfig hw = hw_config(hw_name, {"offchip.model=ddr4"});
  const frontend::Compiled c = compile(hw, frontend::resolve_network(r), {});
  SimOptions o;
  o.graph = &c.plan.graph;
  const RunStats s = simulate(hw, c.program, o);
  const auto cost = frontend::make_access_cost(hw.offchip, hw.clock_mhz);
  double est_moved = 0, sim_moved = 0, est_cycles = 0, sim_cycles = 0;
  for (size_t i = 0; i < c.plan.ops.size(); ++i) {
    const frontend::OpPlan& op = c.plan.ops[i];
    const frontend::DramTraffic t =
        frontend::mapping_traffic(hw, *cost, op.problem, op.mapping,
                                  frontend::op_tensors(c.plan, static_cast<int>(i)))
            .total();
    const LayerStats& l = s.layers[i];
    const double moved = static_cast<double>(l.counts.dram_moved_bits);
    const double dma = static_cast<double>(l.counts.engine_busy[0] + l.counts.engine_busy[1]);
    std::printf(
        "%-24s moved est %10.0f sim %10.0f (%+5.1f%%)  cycles est %8.0f sim %8.0f (%+5.1f%%)\n",
        l.name.c_str(), t.moved_bits, moved, 100 * (t.moved_bits / moved - 1), t.cycles, dma,
        100 * (t.cycles / dma - 1));
    EXPECT_NEAR(t.moved_bits / moved, 1.0, kMovedBitsLayer) << l.name;
    EXPECT_NEAR(t.cycles / dma, 1.0, kCyclesLayer) << l.name;
    est_moved += t.moved_bits;
    sim_moved += moved;
    est_cycles += t.cycles;
    sim_cycles += dma;
  }
  std::printf("total moved %+5.1f%%, cycles %+5.1f%%\n", 100 * (est_moved / sim_moved - 1),
              100 * (est_cycles / sim_cycles - 1));
  EXPECT_NEAR(est_moved / sim_moved, 1.0, kMovedBitsTotal);
  EXPECT_NEAR(est_cycles / sim_cycles, 1.0, kCyclesTotal);
}

TEST(MapperVsDram, ResNet18PalQuantOnBitFusion) {
  check_network("bitfusion", frontend::Method::kPalQuant, 2);
}

TEST(MapperVsDram, ResNet18LsqOnBitFusion) {
  check_network("bitfusion", frontend::Method::kLsq, 0);
}

}  // namespace
}  // namespace palsim::sim::test
