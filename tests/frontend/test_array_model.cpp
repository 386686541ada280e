// The array model: the modes a configuration allows, and the cycles and
// access counts of one tile, worked out by hand.
#include "frontend/mapping/array_model.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "tests/frontend/shipped_config.h"

namespace palsim::frontend {
namespace {

// (fa, fw, a_chunks, w_chunks, lanes_per_unit, outputs_per_unit) of each mode.
using ModeTuple = std::tuple<int, int, int, int, int, int>;
std::vector<ModeTuple> tuples(const std::vector<ArrayMode>& modes) {
  std::vector<ModeTuple> out;
  for (const ArrayMode& m : modes) {
    out.emplace_back(m.fa, m.fw, m.a_chunks, m.w_chunks, m.lanes_per_unit, m.outputs_per_unit);
  }
  return out;
}

ComputeTile tile(int64_t pixels, int64_t k_elems, int64_t m, bool accumulate = false,
                 bool activation_sum = false) {
  ComputeTile t;
  t.pixels = pixels;
  t.k_elems = k_elems;
  t.m = m;
  t.accumulate = accumulate;
  t.activation_sum = activation_sum;
  return t;
}

TEST(ArrayModel, BitFusionTwoBitModeOnly) {
  const HwConfig hw = config("bitfusion");
  ASSERT_EQ(hw.array.fusion_bits, std::vector<int>{2});
  // 2-bit operands: one pass; 16 BitBricks = 16 reduction lanes per FU.
  EXPECT_EQ(tuples(array_modes(hw, 2, 2)), (std::vector<ModeTuple>{{2, 2, 1, 1, 16, 1}}));
  // M-bit operands are bit-decomposed into 2-bit slices (Eq. 4).
  EXPECT_EQ(tuples(array_modes(hw, 4, 4)), (std::vector<ModeTuple>{{2, 2, 2, 2, 16, 1}}));
  EXPECT_EQ(tuples(array_modes(hw, 8, 8)), (std::vector<ModeTuple>{{2, 2, 4, 4, 16, 1}}));
  EXPECT_EQ(tuples(array_modes(hw, 8, 2)), (std::vector<ModeTuple>{{2, 2, 4, 1, 16, 1}}));
  const ArrayMode m = array_modes(hw, 4, 4).front();
  EXPECT_EQ(m.unit_rows, 16);
  EXPECT_EQ(m.unit_cols, 32);
  EXPECT_EQ(m.passes(), 4);
  EXPECT_EQ(m.k_lanes(), 256);
  EXPECT_EQ(m.m_lanes(), 32);
}

TEST(ArrayModel, SixBitOperandIsThreeTwoBitChunks) {
  for (const char* name : {"bitfusion", "bpvec"}) {
    const HwConfig hw = config(name);
    for (const ArrayMode& m : array_modes(hw, 6, 6)) {
      EXPECT_EQ(m.fa, 2) << name;
      EXPECT_EQ(m.a_chunks, 3) << name;
      EXPECT_EQ(m.w_chunks, 3) << name;
      EXPECT_EQ(m.passes(), 9) << name;
    }
    for (const ArrayMode& m : array_modes(hw, 6, 2)) EXPECT_EQ(m.passes(), 3) << name;
  }
}

TEST(ArrayModel, BitFusionFusedModes) {
  const HwConfig hw = config("bitfusion", {"array.fusion_bits=[2,4,8]"});
  // 8-bit operands: every pair of widths; a fused FU has 16 / ((fa/2)(fw/2)) lanes.
  EXPECT_EQ(tuples(array_modes(hw, 8, 8)), (std::vector<ModeTuple>{{2, 2, 4, 4, 16, 1},
                                                                   {2, 4, 4, 2, 8, 1},
                                                                   {2, 8, 4, 1, 4, 1},
                                                                   {4, 2, 2, 4, 8, 1},
                                                                   {4, 4, 2, 2, 4, 1},
                                                                   {4, 8, 2, 1, 2, 1},
                                                                   {8, 2, 1, 4, 4, 1},
                                                                   {8, 4, 1, 2, 2, 1},
                                                                   {8, 8, 1, 1, 1, 1}}));
  // 4-bit operands: an 8-bit chunk would only waste BitBricks.
  EXPECT_EQ(tuples(array_modes(hw, 4, 4)),
            (std::vector<ModeTuple>{
                {2, 2, 2, 2, 16, 1}, {2, 4, 2, 1, 8, 1}, {4, 2, 1, 2, 8, 1}, {4, 4, 1, 1, 4, 1}}));
  // 2-bit operands: only the 2-bit mode.
  EXPECT_EQ(tuples(array_modes(hw, 2, 2)), (std::vector<ModeTuple>{{2, 2, 1, 1, 16, 1}}));
  // 6-bit operands: 4-bit chunks (2 of them) or one 8-bit chunk.
  bool has_8x8 = false;
  for (const ArrayMode& m : array_modes(hw, 6, 6)) {
    EXPECT_EQ(m.a_chunks, (6 + m.fa - 1) / m.fa);
    has_8x8 = has_8x8 || (m.fa == 8 && m.fw == 8 && m.passes() == 1 && m.lanes_per_unit == 1);
  }
  EXPECT_TRUE(has_8x8);
  EXPECT_EQ(array_modes(hw, 6, 6).size(), 9u);
}

TEST(ArrayModel, BpvecNbveGrouping) {
  const HwConfig hw = config("bpvec");
  // 16 NBVEs of 16 multipliers per CVU. 2-bit operands: each NBVE is a dot
  // product of 16; the aggregator sums k of them: 16k lanes, 16/k outputs.
  EXPECT_EQ(tuples(array_modes(hw, 2, 2)), (std::vector<ModeTuple>{{2, 2, 1, 1, 16, 16},
                                                                   {2, 2, 1, 1, 32, 8},
                                                                   {2, 2, 1, 1, 64, 4},
                                                                   {2, 2, 1, 1, 128, 2},
                                                                   {2, 2, 1, 1, 256, 1}}));
  // Bit-decomposed 4-bit operands keep the grouping and take 4 passes.
  const auto modes4 = array_modes(hw, 4, 4);
  ASSERT_EQ(modes4.size(), 5u);
  for (const ArrayMode& m : modes4) {
    EXPECT_EQ(m.passes(), 4);
    EXPECT_EQ(m.lanes_per_unit * m.outputs_per_unit, 256);
    EXPECT_EQ(m.unit_rows, 4);
    EXPECT_EQ(m.unit_cols, 8);
  }
  EXPECT_EQ(modes4[2].k_lanes(), 4 * 64);
  EXPECT_EQ(modes4[2].m_lanes(), 8 * 4);
}

TEST(ArrayModel, BpvecComposedModes) {
  const HwConfig hw = config("bpvec", {"array.fusion_bits=[2,4,8]"});
  // A 4x4-bit dot product takes 4 NBVEs (one per slice pair): 4 engines, grouped 1, 2 or 4.
  std::vector<ModeTuple> four;
  // An 8x8-bit one takes all 16: one engine of 16 lanes.
  std::vector<ModeTuple> eight;
  for (const ModeTuple& t : tuples(array_modes(hw, 8, 8))) {
    if (std::get<0>(t) == 4 && std::get<1>(t) == 4) four.push_back(t);
    if (std::get<0>(t) == 8 && std::get<1>(t) == 8) eight.push_back(t);
  }
  EXPECT_EQ(four, (std::vector<ModeTuple>{
                      {4, 4, 2, 2, 16, 4}, {4, 4, 2, 2, 32, 2}, {4, 4, 2, 2, 64, 1}}));
  EXPECT_EQ(eight, (std::vector<ModeTuple>{{8, 8, 1, 1, 16, 1}}));
  // 5 + 4 + 3 + 4 + 3 + 2 + 3 + 2 + 1 groupings over the nine width pairs.
  EXPECT_EQ(array_modes(hw, 8, 8).size(), 27u);
}

// Bit Fusion 2-bit mode: 16 x 32 FUs, 16 lanes each: 256 reduction lanes x 32 outputs.
TEST(ArrayModel, BitFusionTileCostByHand) {
  const HwConfig hw = config("bitfusion");
  const ArrayMode mode = array_modes(hw, 2, 2).front();
  ASSERT_EQ(hw.array.weight_load_cycles, 1);
  ASSERT_EQ(hw.accumulator_bits, 32);
  {
    // 49 pixels, k = 3x3x64 = 576 (folds of 256, 256, 64), m = 64 (blocks of 32, 32).
    // F = 3 x 2 = 6; cycles = W + (F-1) max(P, W) + P = 1 + 5 x 49 + 49 = 295.
    const ComputeCost c = compute_tile_cost(hw, mode, tile(49, 576, 64));
    EXPECT_EQ(c.folds, 6);
    EXPECT_EQ(c.cycles, 295);
    EXPECT_EQ(c.latency, 16 + 32 - 2);
    EXPECT_EQ(c.macs, 49 * 576 * 64);
    // Unit rows used per k fold: 16, 16, 64/16 = 4 (sum 36); columns per m block: 32, 32 (sum 64).
    EXPECT_EQ(c.unit_busy_cycles, 49 * 36 * 64);
    // Every active row reads a 16 x 2-bit word per pixel, per fold (2 m blocks).
    EXPECT_EQ(c.ibuf_read_bits, 2 * 49 * 36 * 16 * 2);
    // Every active FU loads 16 2-bit weights per fold.
    EXPECT_EQ(c.wbuf_read_bits, 36 * 64 * 16 * 2);
    // One 32-bit accumulator update per output per k fold; the first one only writes.
    EXPECT_EQ(c.obuf_write_bits, 3 * 49 * 64 * 32);
    EXPECT_EQ(c.obuf_read_bits, 2 * 49 * 64 * 32);
    EXPECT_EQ(c.asu_busy_cycles, 0);
  }
  {
    // Partial fold and partial block: k = 40 (3 rows: 16, 16, 8 lanes), m = 5 (5 of 32 columns).
    // 4-bit operands: 2 x 2 passes. F = 4; P = 10: 1 + 3 x 10 + 10 = 41.
    const ArrayMode m4 = array_modes(hw, 4, 4).front();
    const ComputeCost c = compute_tile_cost(hw, m4, tile(10, 40, 5, /*accumulate=*/true));
    EXPECT_EQ(c.folds, 4);
    EXPECT_EQ(c.cycles, 41);
    EXPECT_EQ(c.unit_busy_cycles, 4 * 10 * 3 * 5);
    EXPECT_EQ(c.ibuf_read_bits, 4 * 10 * 3 * 16 * 2);
    EXPECT_EQ(c.wbuf_read_bits, 4 * 3 * 5 * 16 * 2);
    EXPECT_EQ(c.obuf_write_bits, 4 * 10 * 5 * 32);
    EXPECT_EQ(c.obuf_read_bits, 4 * 10 * 5 * 32);  // accumulating: every update reads
    EXPECT_EQ(c.macs, 10 * 40 * 5 * 4);
  }
  {
    // Exactly full: k = 256, m = 32: one fold, every FU busy. P = 1: 1 + 0 + 1 = 2.
    const ComputeCost c = compute_tile_cost(hw, mode, tile(1, 256, 32));
    EXPECT_EQ(c.folds, 1);
    EXPECT_EQ(c.cycles, 2);
    EXPECT_EQ(c.unit_busy_cycles, 16 * 32);
    EXPECT_EQ(c.obuf_read_bits, 0);
    EXPECT_EQ(c.obuf_write_bits, 32 * 32);
  }
  {
    // One lane more spills into a second fold on one row with one lane.
    const ComputeCost c = compute_tile_cost(hw, mode, tile(3, 257, 33));
    EXPECT_EQ(c.folds, 4);
    EXPECT_EQ(c.cycles, 1 + 3 * 3 + 3);
    EXPECT_EQ(c.unit_busy_cycles, 3 * (16 + 1) * (32 + 1));
    EXPECT_EQ(c.ibuf_read_bits, 2 * 3 * 17 * 16 * 2);
  }
  // Nothing to do costs nothing.
  EXPECT_EQ(compute_tile_cost(hw, mode, tile(0, 10, 10)).cycles, 0);
  EXPECT_EQ(compute_tile_cost(hw, mode, tile(10, 0, 10)).folds, 0);
}

TEST(ArrayModel, WeightLoadSlowerThanStreaming) {
  // W = 8 > P = 3: folds wait for their weights. F = 2 x 2 (k 300 -> 2 folds, m 40 -> 2 blocks).
  const HwConfig hw = config("bitfusion", {"array.weight_load_cycles=8"});
  const ArrayMode mode = array_modes(hw, 2, 2).front();
  const ComputeCost c = compute_tile_cost(hw, mode, tile(3, 300, 40));
  EXPECT_EQ(c.folds, 4);
  EXPECT_EQ(c.cycles, 8 + 3 * 8 + 3);
  // P = W: both terms agree.
  EXPECT_EQ(compute_tile_cost(hw, mode, tile(8, 300, 40)).cycles, 8 + 3 * 8 + 8);
  // P > W.
  EXPECT_EQ(compute_tile_cost(hw, mode, tile(20, 300, 40)).cycles, 8 + 3 * 20 + 20);
}

// BPVeC: 4 x 8 CVUs of 16 NBVEs x 16 multipliers.
TEST(ArrayModel, BpvecTileCostByHand) {
  const HwConfig hw = config("bpvec");
  const auto modes = array_modes(hw, 2, 2);
  ASSERT_EQ(modes.size(), 5u);
  {
    // Grouping 4: 64 lanes x 4 outputs per CVU: 256 reduction lanes x 32 outputs.
    // k = 300: folds of 256 (4 rows) and 44 (1 row); m = 40: blocks of 32 (8 columns)
    // and 8 (2 columns). F = 4; P = 10: 1 + 3 x 10 + 10 = 41. Latency 4 + 8 - 2.
    const ArrayMode& m = modes[2];
    ASSERT_EQ(m.lanes_per_unit, 64);
    ASSERT_EQ(m.outputs_per_unit, 4);
    const ComputeCost c = compute_tile_cost(hw, m, tile(10, 300, 40, true, true));
    EXPECT_EQ(c.folds, 4);
    EXPECT_EQ(c.cycles, 41);
    EXPECT_EQ(c.latency, 10);
    EXPECT_EQ(c.unit_busy_cycles, 10 * 5 * 10);
    EXPECT_EQ(c.ibuf_read_bits, 2 * 10 * 5 * 64 * 2);
    EXPECT_EQ(c.wbuf_read_bits, 5 * 10 * 64 * 4 * 2);
    // Accumulators: 2 k folds x 10 pixels x 40 outputs; activation sums: 2 k folds x 10 pixels.
    EXPECT_EQ(c.asu_busy_cycles, 2 * 10);
    EXPECT_EQ(c.obuf_write_bits, (2 * 10 * 40 + 2 * 10) * 32);
    EXPECT_EQ(c.obuf_read_bits, (2 * 10 * 40 + 2 * 10) * 32);
    // Not accumulating: the first update of each output and activation sum only writes.
    const ComputeCost first = compute_tile_cost(hw, m, tile(10, 300, 40, false, true));
    EXPECT_EQ(first.obuf_read_bits, (2 * 10 * 40 - 10 * 40 + 2 * 10 - 10) * 32);
    EXPECT_EQ(first.obuf_write_bits, c.obuf_write_bits);
  }
  {
    // Grouping 1: 16 lanes x 16 outputs: 64 x 128. k = 64 (one fold, 4 rows),
    // m = 130: blocks of 128 (8 columns) and 2 (one column with 2 of 16 outputs).
    // Bit-decomposed 4-bit: 4 passes; F = 4 x 2 x 1 = 8; P = 5: 1 + 7 x 5 + 5 = 41.
    const ArrayMode m = array_modes(hw, 4, 4)[0];
    ASSERT_EQ(m.lanes_per_unit, 16);
    ASSERT_EQ(m.outputs_per_unit, 16);
    const ComputeCost c = compute_tile_cost(hw, m, tile(5, 64, 130));
    EXPECT_EQ(c.folds, 8);
    EXPECT_EQ(c.cycles, 41);
    EXPECT_EQ(c.unit_busy_cycles, 4 * 5 * 4 * 9);
    EXPECT_EQ(c.ibuf_read_bits, 4 * 2 * 5 * 4 * 16 * 2);
    EXPECT_EQ(c.wbuf_read_bits, 4 * 4 * 9 * 16 * 16 * 2);
    // Activation sums: one per activation chunk (2) and k fold (1) per pixel.
    const ComputeCost s = compute_tile_cost(hw, m, tile(5, 64, 130, false, true));
    EXPECT_EQ(s.asu_busy_cycles, 2 * 1 * 5);
    EXPECT_EQ(s.cycles, c.cycles);
  }
  {
    // Grouping 16: 256 lanes x 1 output: 1024 x 8. k = 1024 exactly, m = 8: one fold, all CVUs.
    const ComputeCost c = compute_tile_cost(hw, modes[4], tile(7, 1024, 8));
    EXPECT_EQ(c.folds, 1);
    EXPECT_EQ(c.cycles, 1 + 7);
    EXPECT_EQ(c.unit_busy_cycles, 7 * 4 * 8);
  }
}

TEST(ArrayModel, PostProcessingTile) {
  const HwConfig hw = config("bitfusion");
  ASSERT_EQ(hw.ppu.lanes, 32);
  PostTile conv;
  conv.elements = 100;
  conv.out_bits = 2;
  conv.residual_bits = 4;
  conv.activation_sums = 10;
  const PostCost c = post_tile_cost(hw, conv);
  EXPECT_EQ(c.cycles, 4);  // ceil(100 / 32)
  EXPECT_EQ(c.obuf_read_bits, 100 * 32 + 10 * 32);
  EXPECT_EQ(c.ibuf_read_bits, 100 * 4);
  EXPECT_EQ(c.obuf_write_bits, 100 * 2);
  PostTile pool;
  pool.elements = 50;
  pool.window = 9;
  pool.in_bits = 2;
  pool.from_obuf = false;
  pool.out_bits = 2;
  const PostCost p = post_tile_cost(hw, pool);
  EXPECT_EQ(p.cycles, 15);  // ceil(450 / 32)
  EXPECT_EQ(p.ibuf_read_bits, 450 * 2);
  EXPECT_EQ(p.obuf_read_bits, 0);
}

// The mapper prunes tilings by the cycles alone before it costs them in full:
// the two must agree for every mode and tile shape, or the pruning is wrong.
TEST(ArrayModel, CyclesAloneEqualTheFullCost) {
  int64_t checked = 0;
  for (const char* name : {"bitfusion", "bpvec"}) {
    const HwConfig hw = config(name);
    for (int bits : {2, 4, 8}) {
      for (const ArrayMode& mode : array_modes(hw, bits, bits)) {
        for (int64_t pixels : {1, 2, 7, 8, 9, 64, 100})
          for (int64_t k : {1, 3, 9, 16, 17, 144, 577})
            for (int64_t m : {1, 5, 8, 33, 64}) {
              const ComputeCost full = compute_tile_cost(hw, mode, tile(pixels, k, m, true, true));
              EXPECT_EQ(tile_folds(mode, k, m), full.folds);
              EXPECT_EQ(fold_cycles(hw, tile_folds(mode, k, m), pixels), full.cycles)
                  << name << " " << mode.describe() << " " << pixels << " " << k << " " << m;
              ++checked;
            }
      }
    }
    for (int64_t elements : {1, 31, 32, 33, 1000})
      for (int64_t window : {1, 4, 9}) {
        PostTile t;
        t.elements = elements;
        t.window = window;
        EXPECT_EQ(post_tile_cycles(hw, elements, window), post_tile_cost(hw, t).cycles);
      }
  }
  EXPECT_GT(checked, 1000);
}

}  // namespace
}  // namespace palsim::frontend
