// The array's timing against a closed form written here (hardware issue 10).
//
// One conv layer as a single tile (a hand-written nest: every loop one trip,
// every operand loaded once), on a machine whose memory system never limits
// it: buffers of 1 GB, 2^20 bits per cycle off chip, no latency. Then every
// DMA job moves its box in one access of one cycle, and the layer takes
//
//   T_in + T_w                     the input, then the weights, on the one channel
//   + 1                            completion hop: the array sees both loads
//   + W + (F - 1) max(P, W) + P    the array's occupancy: W weight-load cycles,
//                                  F folds back to back, P pixels streamed per fold
//   + rows + cols - 2              the skew of the last pixel through the array
//   + 1 + ceil(P M / lanes)        hop, then the PPU requantizes P x M outputs
//   + 1 + T_out                    hop, then the store
//
// with F = passes x output blocks x reduction folds:
//   passes  = ceil(a_bits / fa) ceil(w_bits / fw)   (Eq. 4 slice pairs in 2-bit mode)
//   k folds = ceil(C kh kw / (rows x lanes per unit))
//   m blocks = ceil(M / (cols x outputs per unit)).
// The only differences from the bare systolic formula are the three
// completion hops (kCompletionHopCycles, one cycle each) and the two loads
// sharing the channel; both are part of the model, not of the array.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/core/fast_engine.h"
#include "tests/sim/sim_test_util.h"

namespace palsim::sim::test {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

struct Layer {
  int c = 32, h = 8, w = 8, m = 64, k = 3;
  frontend::QuantSpec q = lsq(2, 2);
};

struct Mode {
  int fa = 2, fw = 2, lanes = 16, outputs = 1;
};

const std::vector<std::string> kUnlimitedMemory = {
    "buffers.ibuf.size_bytes=1073741824", "buffers.wbuf.size_bytes=1073741824",
    "buffers.obuf.size_bytes=1073741824", "offchip.bits_per_cycle=1048576",
    "offchip.latency_cycles=0"};

struct Result {
  uint64_t closed_form = 0;
  uint64_t fast = 0, detailed = 0;
  uint64_t compute_start = 0, compute_occupancy = 0, compute_done = 0;
  int64_t folds = 0;
};

Result run(const std::string& accelerator, const std::vector<std::string>& extra, const Layer& l,
           const Mode& mode) {
  Result r;
  std::vector<std::string> overrides = kUnlimitedMemory;
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  const frontend::HwConfig hw = hw_config(accelerator, overrides);
  frontend::LoweringOptions lo;
  frontend::Compiled compiled =
      frontend::compile_network(hw, single_conv({l.c, l.h, l.w}, l.m, l.k, 1, l.k / 2, 1, l.q), lo);
  isa::Program& p = compiled.program;
  replace_nest(
      p, 0, Tiles{1, l.h, l.w, l.m, l.c},
      {"LOOP dim=G trips=1", "LOAD operand=input", "LOAD operand=weight", "LOAD operand=psum",
       "LOOP dim=N trips=1", "LOOP dim=H trips=1", "LOOP dim=W trips=1", "LOOP dim=M trips=1",
       "LOOP dim=C trips=1", "COMPUTE", "ENDLOOP", "ENDLOOP", "ENDLOOP", "ENDLOOP", "ENDLOOP",
       "STORE operand=output", "ENDLOOP"});
  set_layer_register(p, 0, isa::Reg::kModeFa, static_cast<uint64_t>(mode.fa));
  set_layer_register(p, 0, isa::Reg::kModeFw, static_cast<uint64_t>(mode.fw));
  set_layer_register(p, 0, isa::Reg::kModeLanes, static_cast<uint64_t>(mode.lanes));
  set_layer_register(p, 0, isa::Reg::kModeOutputs, static_cast<uint64_t>(mode.outputs));

  // The closed form.
  const int64_t P = static_cast<int64_t>(l.h) * l.w;  // stride 1, same padding
  const int64_t W = hw.array.weight_load_cycles;
  const int64_t passes = ceil_div(l.q.a_bits, mode.fa) * ceil_div(l.q.w_bits, mode.fw);
  const int64_t k_folds =
      ceil_div(static_cast<int64_t>(l.c) * l.k * l.k, hw.array.rows * mode.lanes);
  const int64_t m_blocks = ceil_div(l.m, static_cast<int64_t>(hw.array.cols) * mode.outputs);
  const int64_t F = passes * k_folds * m_blocks;
  const int64_t occupancy = W + (F - 1) * std::max(P, W) + P;
  const int64_t T_in = 1, T_w = 1, T_out = 1, hop = 1;
  const int64_t ppu = ceil_div(P * l.m, hw.ppu.lanes);
  r.closed_form = static_cast<uint64_t>(T_in + T_w + hop + occupancy + hw.array.rows +
                                        hw.array.cols - 2 + hop + ppu + hop + T_out);
  r.folds = F;

  // The job list: one of each, every DMA one access.
  JobList jobs = expand_program(hw, p);
  EXPECT_EQ(jobs.jobs.size(), 5u);  // input, weights, compute, PPU, store
  for (const Job& j : jobs.jobs) {
    if (j.engine == Engine::kLoad || j.engine == Engine::kStore) {
      EXPECT_EQ(j.accesses.size(), 1u) << transfer_name(j.transfer);
    }
  }
  auto memory = make_offchip_memory(hw.offchip, hw.clock_mhz);
  r.fast = run_fast(hw, jobs, *memory);
  for (const Job& j : jobs.jobs) {
    if (j.engine != Engine::kArray) continue;
    r.compute_start = j.start;
    r.compute_occupancy = j.end - j.start;
    r.compute_done = j.done;
    EXPECT_EQ(job_counts(hw, j).folds, static_cast<uint64_t>(F));
  }
  EXPECT_EQ(r.compute_start, static_cast<uint64_t>(T_in + T_w + hop));
  EXPECT_EQ(r.compute_occupancy, static_cast<uint64_t>(occupancy));
  EXPECT_EQ(r.compute_done, r.compute_start + static_cast<uint64_t>(occupancy) +
                                static_cast<uint64_t>(hw.array.rows + hw.array.cols - 2));

  // The detailed mode steps the same layer unit by unit.
  SimOptions o;
  o.mode = SimMode::kDetailed;
  o.graph = &compiled.plan.graph;
  const frontend::IntegerModel model = frontend::synthetic_model(compiled.plan.graph, 3);
  o.model = &model;
  const RunStats d = simulate(hw, p, o);
  EXPECT_TRUE(d.bit_exact) << d.first_mismatch;
  EXPECT_EQ(d.counts.folds, static_cast<uint64_t>(F));
  r.detailed = d.cycles;
  return r;
}

void expect_closed_form(const Result& r) {
  EXPECT_EQ(r.fast, r.closed_form) << r.folds << " folds";
  EXPECT_EQ(r.detailed, r.closed_form) << r.folds << " folds";
}

TEST(SystolicClosedForm, BitFusionTwoBitLayer) {
  // 2-bit operands: one pass; 288 reduction elements in 2 folds of 16 x 16
  // lanes; 64 outputs in 2 blocks of 32 columns: F = 4.
  const Result r = run("bitfusion", {}, Layer{}, Mode{});
  EXPECT_EQ(r.folds, 4);
  expect_closed_form(r);
  // 3 + (1 + 3 x 64 + 64) + 46 + 1 + 128 + 1 + 1.
  EXPECT_EQ(r.closed_form, 3u + 257u + 46u + 1u + 128u + 2u);
}

TEST(SystolicClosedForm, BitFusionEightBitDecomposed) {
  // 8-bit operands in 2-bit mode: 4 x 4 slice pairs, F = 16 x 4 = 64.
  Layer l;
  l.q = lsq(8, 8);
  const Result r = run("bitfusion", {}, l, Mode{});
  EXPECT_EQ(r.folds, 64);
  expect_closed_form(r);
}

TEST(SystolicClosedForm, BitFusionOddWidthsAndFusedMode) {
  // 5 x 7 bits in 4 x 8-bit Fusion Units: 2 x 1 passes of 2 lanes per unit.
  Layer l;
  l.q = lsq(5, 7);
  l.c = 8;
  const Result r = run("bitfusion", {"array.fusion_bits=[2,4,8]"}, l, Mode{4, 8, 2, 1});
  EXPECT_EQ(r.folds, 2 * ceil_div(8 * 9, 16 * 2) * 2);
  expect_closed_form(r);
}

TEST(SystolicClosedForm, WeightLoadSlowerThanStreaming) {
  // W = 100 > P = 64: folds are spaced by the weight load, not by the pixels.
  const Result r = run("bitfusion", {"array.weight_load_cycles=100"}, Layer{}, Mode{});
  EXPECT_EQ(r.folds, 4);
  expect_closed_form(r);
  EXPECT_EQ(r.compute_occupancy, 100u + 3u * 100u + 64u);
}

TEST(SystolicClosedForm, BpvecNbveGroupings) {
  // 4 x 8 CVUs of 16 NBVEs of 16 multipliers; the aggregator sums k NBVEs
  // per dot product: 16k lanes and 16/k outputs per CVU.
  for (int k : {1, 4, 16}) {
    const Mode mode{2, 2, 16 * k, 16 / k};
    const Result r = run("bpvec", {}, Layer{}, mode);
    EXPECT_EQ(r.folds, ceil_div(288, 4 * 16 * k) * ceil_div(64, 8 * (16 / k))) << "k = " << k;
    expect_closed_form(r);
  }
}

}  // namespace
}  // namespace palsim::sim::test
