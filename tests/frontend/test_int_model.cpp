// The integer model of a hardware graph and its reference executor: synthetic
// parameters (determinism, ranges, spread), validation errors, and the
// executor checked element by element against plain loops written here.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "frontend/builders/method.h"
#include "frontend/builders/registry.h"
#include "frontend/ir/network.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/lowering/int_model.h"
#include "kernels/conv.h"
#include "kernels/requantize.h"
#include "tests/common/input_error.h"

namespace palsim::frontend {
namespace {

using kernels::IntTensor;
using kernels::RequantParams;

using palsim_test::input_error_of;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}
#define EXPECT_CONTAINS(text, part) EXPECT_TRUE(Contains((text), (part)))

// ---------------------------------------------------------------------------
// Networks.
// ---------------------------------------------------------------------------

QuantSpec lsq(int a_bits, int w_bits) {
  return QuantSpec{Quantizer::kLsq, w_bits, a_bits, 0};
}
QuantSpec uniform(int a_bits, int w_bits) {
  return QuantSpec{Quantizer::kUniform, w_bits, a_bits, 0};
}

ConvAttrs conv(int out, int kernel, int stride, int pad, int groups, QuantSpec q) {
  ConvAttrs a;
  a.out_channels = out;
  a.kernel_h = a.kernel_w = kernel;
  a.stride_h = a.stride_w = stride;
  a.pad_h = a.pad_w = pad;
  a.groups = groups;
  a.quant = q;
  return a;
}

HwGraph lower(const Network& net, int batch = 1) {
  LoweringOptions o;
  o.batch = batch;
  return build_hw_graph(net, o);
}

// Every fusion and op kind the executor handles, in a few hundred elements:
//   c1: group conv (G=2) + bn + relu + channel shuffle + add(input) + relu
//   c2: cyclic permutation (G=3, `direction`) feeding a group conv, uniform quantizer
//   mp: max pool with padding;  c3: plain conv;  ap: avg pool;  gap: global avg pool.
Network tiny_network(int direction) {
  Network net("tiny");
  const int x = net.add("input", InputAttrs{Shape{6, 9, 9}}, {});
  int y = net.add("c1", conv(6, 3, 1, 1, 2, lsq(4, 4)), {x});
  y = net.add("c1.bn", BatchNormAttrs{}, {y});
  y = net.add("c1.relu", ReluAttrs{}, {y});
  y = net.add("c1.shuffle", ChannelShuffleAttrs{2}, {y});
  y = net.add("c1.add", AddAttrs{}, {y, x});
  y = net.add("c1.relu2", ReluAttrs{}, {y});
  y = net.add("perm", CyclicPermuteAttrs{3, direction}, {y});
  y = net.add("c2", conv(6, 3, 2, 1, 3, uniform(2, 2)), {y});
  y = net.add("c2.bn", BatchNormAttrs{}, {y});
  y = net.add("c2.relu", ReluAttrs{}, {y});
  y = net.add("mp", MaxPoolAttrs{3, 2, 1}, {y});
  y = net.add("c3", conv(8, 3, 1, 1, 1, lsq(3, 5)), {y});
  y = net.add("c3.bn", BatchNormAttrs{}, {y});
  y = net.add("ap", AvgPoolAttrs{2, 1, 0}, {y});
  net.add("gap", GlobalAvgPoolAttrs{}, {y});
  net.infer_shapes();
  return net;
}

const HwOp& op_named(const HwGraph& g, const std::string& name) {
  for (const auto& op : g.ops) {
    if (op.name == name) return op;
  }
  ADD_FAILURE() << "no op " << name;
  return g.ops.front();
}
size_t op_index(const HwGraph& g, const std::string& name) {
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].name == name) return i;
  }
  ADD_FAILURE() << "no op " << name;
  return 0;
}

Network resnet18(const MethodOptions& m, int input_size = 224) {
  NetworkRequest r;
  r.network = "resnet18";
  r.method = m;
  r.method_given = true;
  if (input_size != 224) r.input_size = input_size;
  return resolve_network(r);
}
MethodOptions palquant(int B, int G) {
  MethodOptions m;
  m.method = Method::kPalQuant;
  m.B = B;
  m.G = G;
  return m;
}
MethodOptions lsq_method(int a, int w) {
  MethodOptions m;
  m.method = Method::kLsq;
  m.a_bits = a;
  m.w_bits = w;
  return m;
}

// ---------------------------------------------------------------------------
// The independent reference: plain loops straight from the definitions.
// ---------------------------------------------------------------------------

// round half to even of t / 2^f, then clamp.
int32_t naive_round_clamp(__int128 t, int f, int32_t lo, int32_t hi) {
  const __int128 one = static_cast<__int128>(1) << f;
  __int128 q = t / one;  // truncates towards zero
  if (q * one > t) --q;  // floor
  const __int128 rem = t - q * one;
  if (2 * rem > one || (2 * rem == one && (q % 2 != 0))) ++q;
  if (q < lo) return lo;
  if (q > hi) return hi;
  return static_cast<int32_t>(q);
}

int32_t naive_requant(int64_t acc, int32_t r, int c, const RequantParams& p,
                      bool relu_before = true) {
  __int128 t = static_cast<__int128>(acc) * p.scale[static_cast<size_t>(c)] +
               p.offset[static_cast<size_t>(c)];
  if (relu_before && p.relu_before_residual && t < 0) t = 0;
  if (p.has_residual) t += static_cast<__int128>(r) * p.residual_scale + p.residual_offset;
  if (p.relu_after_residual && t < 0) t = 0;
  return naive_round_clamp(t, p.frac_bits, p.out_min, p.out_max);
}

struct NaiveConv {
  const HwOp& op;
  const OpParameters& params;
  const IntTensor& x;
  const IntTensor* residual;
  int rotate;  // conv group g reads input group g - rotate
  bool relu_before = true;

  // ShuffleNet transpose: view channels as (G, C/G), transpose, flatten; so
  // position j*G + i holds channel i*(C/G) + j.
  int source_channel(int p) const {
    const int G = op.out_shuffle_groups;
    if (G <= 1) return p;
    return (p % G) * (op.out.c / G) + p / G;
  }

  int32_t element(int n, int p, int oy, int ox) const {
    const int c = source_channel(p);
    const int cin_g = op.in.c / op.groups, cout_g = op.out.c / op.groups;
    const int g = c / cout_g;
    const int gin = ((g - rotate) % op.groups + op.groups) % op.groups;
    int64_t acc = 0;
    for (int ci = 0; ci < cin_g; ++ci) {
      for (int ky = 0; ky < op.kh; ++ky) {
        for (int kx = 0; kx < op.kw; ++kx) {
          const int iy = oy * op.sh - op.ph + ky, ix = ox * op.sw - op.pw + kx;
          if (iy < 0 || iy >= op.in.h || ix < 0 || ix >= op.in.w) continue;
          int64_t w = params.weights.at(c, ci, ky, kx);
          if (op.uniform_quantizer) w = 2 * w - ((int64_t{1} << op.w_bits) - 1);
          acc += w * x.at(n, gin * cin_g + ci, iy, ix);
        }
      }
    }
    const int32_t r = residual ? residual->at(n, p, oy, ox) : 0;
    return naive_requant(acc, r, c, params.requant, relu_before);
  }

  IntTensor all() const {
    IntTensor out(x.n(), op.out.c, op.out.h, op.out.w);
    for (int n = 0; n < x.n(); ++n)
      for (int p = 0; p < op.out.c; ++p)
        for (int y = 0; y < op.out.h; ++y)
          for (int xx = 0; xx < op.out.w; ++xx) out.at(n, p, y, xx) = element(n, p, y, xx);
    return out;
  }
};

IntTensor naive_pool(const HwOp& op, const OpParameters& params, const IntTensor& x) {
  IntTensor out(x.n(), op.out.c, op.out.h, op.out.w);
  const bool global = op.kind == HwOpKind::kGlobalAvgPool;
  const int k = global ? 0 : op.kh, s = op.sh, pad = op.ph;
  for (int n = 0; n < x.n(); ++n) {
    for (int c = 0; c < op.out.c; ++c) {
      for (int oy = 0; oy < op.out.h; ++oy) {
        for (int ox = 0; ox < op.out.w; ++ox) {
          int64_t sum = 0;
          int32_t best = INT32_MIN;
          const int y0 = global ? 0 : oy * s - pad, y1 = global ? op.in.h : y0 + k;
          const int x0 = global ? 0 : ox * s - pad, x1 = global ? op.in.w : x0 + k;
          for (int y = y0; y < y1; ++y) {
            for (int xx = x0; xx < x1; ++xx) {
              if (y < 0 || y >= op.in.h || xx < 0 || xx >= op.in.w)
                continue;  // padding: 0 / never wins
              sum += x.at(n, c, y, xx);
              best = std::max(best, x.at(n, c, y, xx));
            }
          }
          out.at(n, c, oy, ox) =
              op.kind == HwOpKind::kMaxPool ? best : naive_requant(sum, 0, c, params.requant);
        }
      }
    }
  }
  return out;
}

// Runs the whole graph with the plain loops; `rotation` gives each permuted
// conv's rotation as the test derives it from the network.
std::map<int, IntTensor> naive_execute(const HwGraph& g, const IntegerModel& m,
                                       const std::map<std::string, int>& rotation) {
  std::map<int, IntTensor> t;
  t[g.input_tensor] = m.input;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const HwOp& op = g.ops[i];
    const IntTensor& x = t.at(op.input);
    if (op.kind == HwOpKind::kConv) {
      auto it = rotation.find(op.name);
      const int rot = it == rotation.end() ? 0 : it->second;
      const IntTensor* r = op.residual >= 0 ? &t.at(op.residual) : nullptr;
      t[op.output] = NaiveConv{op, m.ops[i], x, r, rot}.all();
    } else {
      t[op.output] = naive_pool(op, m.ops[i], x);
    }
  }
  return t;
}

// ---------------------------------------------------------------------------
// Statistics.
// ---------------------------------------------------------------------------

struct Spread {
  int levels_used = 0;
  int levels = 0;
  double at_min = 0, at_max = 0;  // fraction of elements at 0 / at 2^bits - 1
};

Spread spread_of(const IntTensor& t, int bits) {
  Spread s;
  s.levels = 1 << bits;
  std::vector<int64_t> hist(static_cast<size_t>(s.levels), 0);
  for (int32_t v : t.values()) ++hist.at(static_cast<size_t>(v));
  for (int64_t h : hist) s.levels_used += h > 0;
  s.at_min = static_cast<double>(hist.front()) / static_cast<double>(t.size());
  s.at_max = static_cast<double>(hist.back()) / static_cast<double>(t.size());
  return s;
}

void expect_in_range(const IntTensor& t, int bits, const std::string& what) {
  const auto [lo, hi] = std::minmax_element(t.values().begin(), t.values().end());
  EXPECT_GE(*lo, 0) << what;
  EXPECT_LE(*hi, (1 << bits) - 1) << what;
}

bool same_requant(const RequantParams& a, const RequantParams& b) {
  return a.scale == b.scale && a.offset == b.offset && a.frac_bits == b.frac_bits &&
         a.relu_before_residual == b.relu_before_residual && a.has_residual == b.has_residual &&
         a.residual_scale == b.residual_scale && a.residual_offset == b.residual_offset &&
         a.relu_after_residual == b.relu_after_residual && a.out_min == b.out_min &&
         a.out_max == b.out_max;
}
bool same_model(const IntegerModel& a, const IntegerModel& b) {
  if (a.input != b.input || a.ops.size() != b.ops.size()) return false;
  for (size_t i = 0; i < a.ops.size(); ++i) {
    if (a.ops[i].weights != b.ops[i].weights || !same_requant(a.ops[i].requant, b.ops[i].requant))
      return false;
  }
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ResNet-18 (ImageNet shapes, batch 1, stem and classifier excluded), built,
// synthesized (seed 2024) and executed once per method for all tests.
struct ResNetRun {
  HwGraph graph;
  IntegerModel model;
  std::map<int, IntTensor> tensors;
  double synth_seconds = 0, exec_seconds = 0;
};

const ResNetRun& resnet_run(const MethodOptions& method) {
  static std::map<std::string, ResNetRun> runs;
  auto it = runs.find(method.label());
  if (it != runs.end()) return it->second;
  ResNetRun r;
  r.graph = lower(resnet18(method));
  auto t0 = std::chrono::steady_clock::now();
  r.model = synthetic_model(r.graph, 2024);
  r.synth_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  r.tensors = reference_execute(r.graph, r.model);
  r.exec_seconds = seconds_since(t0);
  std::cout << "ResNet-18 " << method.label() << ": " << r.graph.ops.size()
            << " ops, synthetic_model " << r.synth_seconds << " s, reference_execute "
            << r.exec_seconds << " s\n";
  return runs.emplace(method.label(), std::move(r)).first->second;
}

// ---------------------------------------------------------------------------
// The tiny graph: its lowering is what the tests below assume.
// ---------------------------------------------------------------------------

TEST(IntModelTiny, LoweringHasEveryFusion) {
  const HwGraph g = lower(tiny_network(+1), 2);
  ASSERT_EQ(g.ops.size(), 6u);
  const HwOp& c1 = op_named(g, "c1");
  EXPECT_EQ(c1.groups, 2);
  EXPECT_EQ(c1.out_shuffle_groups, 2);
  EXPECT_EQ(c1.residual, g.input_tensor);
  EXPECT_TRUE(c1.relu_before_residual);
  EXPECT_TRUE(c1.relu_after_residual);
  const HwOp& c2 = op_named(g, "c2");
  EXPECT_TRUE(c2.uniform_quantizer);
  EXPECT_EQ(c2.groups, 3);
  EXPECT_EQ(c2.in_group_rotate, 1);
  EXPECT_EQ(op_named(lower(tiny_network(-1)), "c2").in_group_rotate, 2);
  EXPECT_EQ(op_named(g, "mp").kind, HwOpKind::kMaxPool);
  EXPECT_EQ(op_named(g, "ap").kind, HwOpKind::kAvgPool);
  EXPECT_EQ(op_named(g, "gap").kind, HwOpKind::kGlobalAvgPool);
  // Encodings: 4-bit input, 2-bit c1 output, 3-bit c2 / mp outputs, 8-bit after c3.
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.input_tensor)].bits, 4);
  EXPECT_EQ(g.tensors[static_cast<size_t>(c1.output)].bits, 2);
  EXPECT_EQ(g.tensors[static_cast<size_t>(c2.output)].bits, 3);
  EXPECT_EQ(g.tensors[static_cast<size_t>(op_named(g, "c3").output)].bits, 8);
}

// ---------------------------------------------------------------------------
// synthetic_model
// ---------------------------------------------------------------------------

TEST(IntModelSynthetic, SameSeedSameModelOtherSeedOtherModel) {
  const HwGraph g = lower(tiny_network(+1), 2);
  const IntegerModel a = synthetic_model(g, 42);
  EXPECT_TRUE(same_model(a, synthetic_model(g, 42)));
  const IntegerModel b = synthetic_model(g, 43);
  EXPECT_FALSE(same_model(a, b));
  EXPECT_NE(a.input, b.input);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].kind == HwOpKind::kConv) {
      EXPECT_NE(a.ops[i].weights, b.ops[i].weights) << g.ops[i].name;
    }
  }
  const HwGraph r = lower(resnet18(lsq_method(4, 4), 64));
  EXPECT_TRUE(same_model(synthetic_model(r, 1), synthetic_model(r, 1)));
}

TEST(IntModelSynthetic, ShapesAndParametersFollowTheGraph) {
  const HwGraph g = lower(tiny_network(+1), 2);
  const IntegerModel m = synthetic_model(g, 5);
  EXPECT_NO_THROW(validate_model(g, m));
  ASSERT_EQ(m.ops.size(), g.ops.size());
  EXPECT_EQ(m.input.n(), 2);
  EXPECT_EQ(m.input.c(), 6);
  EXPECT_EQ(m.input.h(), 9);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const HwOp& op = g.ops[i];
    const RequantParams& rq = m.ops[i].requant;
    const int out_bits = g.tensors[static_cast<size_t>(op.output)].bits;
    if (op.kind == HwOpKind::kConv) {
      EXPECT_EQ(m.ops[i].weights.n(), op.out.c) << op.name;
      EXPECT_EQ(m.ops[i].weights.c(), op.in.c / op.groups) << op.name;
      EXPECT_EQ(m.ops[i].weights.h(), op.kh) << op.name;
      EXPECT_EQ(m.ops[i].weights.w(), op.kw) << op.name;
      EXPECT_EQ(rq.relu_before_residual, op.relu_before_residual) << op.name;
      EXPECT_EQ(rq.relu_after_residual, op.relu_after_residual) << op.name;
      EXPECT_EQ(rq.has_residual, op.residual >= 0) << op.name;
      if (rq.has_residual) {
        EXPECT_NE(rq.residual_scale, 0) << op.name;
        EXPECT_NE(rq.residual_offset, 0) << op.name;
      }
      // Per output channel, and not all alike (they centre each channel).
      EXPECT_EQ(rq.scale.size(), static_cast<size_t>(op.out.c)) << op.name;
      EXPECT_GT(std::set<int64_t>(rq.offset.begin(), rq.offset.end()).size(), 1u) << op.name;
    } else {
      EXPECT_TRUE(m.ops[i].weights.empty()) << op.name;
    }
    if (op.kind != HwOpKind::kMaxPool) {
      EXPECT_EQ(rq.out_min, 0) << op.name;
      EXPECT_EQ(rq.out_max, (1 << out_bits) - 1) << op.name;
    }
    if (op.kind == HwOpKind::kAvgPool || op.kind == HwOpKind::kGlobalAvgPool) {
      // Divides by the window: scale = 2^frac / window (rounded), no offset.
      const int window = op.kind == HwOpKind::kAvgPool ? op.kh * op.kw : op.in.h * op.in.w;
      ASSERT_EQ(rq.scale.size(), static_cast<size_t>(op.out.c)) << op.name;
      for (size_t c = 0; c < rq.scale.size(); ++c) {
        EXPECT_NEAR(static_cast<double>(rq.scale[c]) * window, std::ldexp(1.0, rq.frac_bits),
                    window)
            << op.name;
        EXPECT_EQ(rq.offset[c], 0) << op.name;
      }
    }
  }
}

// Weights cover exactly their full range (both ends reached on ResNet-sized
// layers), inputs likewise.
TEST(IntModelSynthetic, WeightsAndInputCoverTheirFullRange) {
  for (const MethodOptions& method : {lsq_method(4, 4), palquant(2, 2)}) {
    const HwGraph& g = resnet_run(method).graph;
    const IntegerModel& m = resnet_run(method).model;
    const int in_bits = g.tensors[static_cast<size_t>(g.input_tensor)].bits;
    const auto [ilo, ihi] = std::minmax_element(m.input.values().begin(), m.input.values().end());
    EXPECT_EQ(*ilo, 0);
    EXPECT_EQ(*ihi, (1 << in_bits) - 1);
    int convs = 0;
    for (size_t i = 0; i < g.ops.size(); ++i) {
      const HwOp& op = g.ops[i];
      if (op.kind != HwOpKind::kConv) continue;
      ++convs;
      const auto& w = m.ops[i].weights.values();
      const auto [lo, hi] = std::minmax_element(w.begin(), w.end());
      if (op.uniform_quantizer) {
        EXPECT_EQ(*lo, 0) << op.name;
        EXPECT_EQ(*hi, (1 << op.w_bits) - 1) << op.name;
      } else {
        EXPECT_EQ(*lo, -(1 << (op.w_bits - 1))) << op.name;
        EXPECT_EQ(*hi, (1 << (op.w_bits - 1)) - 1) << op.name;
      }
      // Roughly uniform: the mean level is near the middle of the range.
      double mean = 0;
      for (int32_t v : w) mean += v;
      mean /= static_cast<double>(w.size());
      const double centre = op.uniform_quantizer ? ((1 << op.w_bits) - 1) / 2.0 : -0.5;
      EXPECT_NEAR(mean, centre, 0.1) << op.name;
    }
    EXPECT_GT(convs, 15);
  }
}

// The requantization maps the accumulators onto the output range: no layer is
// all zeros or saturated.
void expect_spread(const HwGraph& g, const std::map<int, IntTensor>& t, double min_levels,
                   double max_clamp) {
  for (const HwOp& op : g.ops) {
    if (op.kind != HwOpKind::kConv) continue;
    const int bits = g.tensors[static_cast<size_t>(op.output)].bits;
    const Spread s = spread_of(t.at(op.output), bits);
    EXPECT_GE(s.levels_used, min_levels * s.levels) << op.name;
    EXPECT_LT(s.at_min, max_clamp) << op.name;
    EXPECT_LT(s.at_max, max_clamp) << op.name;
  }
}

TEST(IntModelSynthetic, OutputsSpreadOnAResNetSizedLayer) {
  // Two 8-bit 3x3 convs of ResNet-18's stage 3, the second reading the first.
  Network net("wide");
  int x = net.add("input", InputAttrs{Shape{256, 14, 14}}, {});
  x = net.add("a", conv(256, 3, 1, 1, 1, lsq(8, 8)), {x});
  x = net.add("a.bn", BatchNormAttrs{}, {x});
  x = net.add("a.relu", ReluAttrs{}, {x});
  x = net.add("b", conv(256, 3, 1, 1, 1, lsq(8, 8)), {x});
  x = net.add("b.bn", BatchNormAttrs{}, {x});
  net.add("b.relu", ReluAttrs{}, {x});
  net.infer_shapes();
  const HwGraph g = lower(net);
  const auto t = reference_execute(g, synthetic_model(g, 3));
  for (const HwOp& op : g.ops) {
    const Spread s = spread_of(t.at(op.output), 8);
    std::cout << op.name << ": " << s.levels_used << "/256 levels, " << 100 * s.at_min << "% at 0, "
              << 100 * s.at_max << "% at 255\n";
    EXPECT_GE(s.levels_used, 128) << op.name;
    EXPECT_LT(s.at_min, 0.1) << op.name;
    EXPECT_LT(s.at_max, 0.1) << op.name;
  }
}

// With the stem and classifier quantized to 8 bits, the FC (a conv with one
// output position per sample) and the stem spread too: per-channel statistics
// of a single sample cannot centre a channel, pooled ones can.
TEST(IntModelSynthetic, Int8StemAndClassifierSpread) {
  for (int batch : {1, 2}) {
    SCOPED_TRACE(batch);
    LoweringOptions o;
    o.fp_layers = FpLayerTreatment::kInt8;
    o.batch = batch;
    const HwGraph g = build_hw_graph(resnet18(lsq_method(4, 4), 64), o);
    const auto t = reference_execute(g, synthetic_model(g, 6));
    const HwOp& fc = op_named(g, "fc");
    ASSERT_EQ(fc.out.h * fc.out.w, 1);
    ASSERT_EQ(g.tensors[static_cast<size_t>(fc.output)].bits, 8);
    const Spread s = spread_of(t.at(fc.output), 8);
    std::cout << "fc: " << s.levels_used << "/256 levels, " << 100 * s.at_min << "% at 0, "
              << 100 * s.at_max << "% at 255\n";
    expect_spread(g, t, 0.25, 0.15);
  }
}

// ---------------------------------------------------------------------------
// validate_model
// ---------------------------------------------------------------------------

class IntModelValidate : public ::testing::Test {
 protected:
  IntModelValidate() : g_(lower(tiny_network(+1), 2)), m_(synthetic_model(g_, 9)) {}
  OpParameters& params(const std::string& name) { return m_.ops[op_index(g_, name)]; }
  std::string error() {
    return input_error_of([&] { validate_model(g_, m_); });
  }
  HwGraph g_;
  IntegerModel m_;
};

TEST_F(IntModelValidate, AcceptsTheSyntheticModel) {
  EXPECT_NO_THROW(validate_model(g_, m_));
}

TEST_F(IntModelValidate, OpCountMismatch) {
  m_.ops.pop_back();
  EXPECT_CONTAINS(error(), "5 op parameter sets for a graph of 6 ops");
}

TEST_F(IntModelValidate, InputShapeAndRange) {
  IntegerModel m = m_;
  m_.input = IntTensor(1, 6, 9, 9);  // batch 2 expected
  EXPECT_CONTAINS(error(), "input is (1, 6, 9, 9)");
  m_ = m;
  m_.input.at(1, 5, 8, 8) = 16;  // 4-bit input
  EXPECT_CONTAINS(error(), "outside the 4-bit range [0, 15]");
  m_.input.at(1, 5, 8, 8) = 15;
  EXPECT_NO_THROW(validate_model(g_, m_));
  m_.input.at(0, 0, 0, 0) = -1;
  EXPECT_CONTAINS(error(), "input element 0 = -1");
}

TEST_F(IntModelValidate, WeightShape) {
  params("c1").weights = IntTensor(6, 6, 3, 3);  // groups 2: 3 input channels per group
  const std::string e = error();
  EXPECT_CONTAINS(e, "'c1'");
  EXPECT_CONTAINS(e, "weights are (6, 6, 3, 3), expected (6, 3, 3, 3)");
}

TEST_F(IntModelValidate, SignedWeightRange) {
  IntTensor& w = params("c1").weights;  // LSQ 4-bit: -8..7
  w.at(2, 1, 0, 0) = 7;
  w.at(3, 1, 0, 0) = -8;
  EXPECT_NO_THROW(validate_model(g_, m_));
  w.at(2, 1, 0, 0) = 8;
  std::string e = error();
  EXPECT_CONTAINS(e, "'c1'");
  EXPECT_CONTAINS(e, "= 8 outside the 4-bit signed range [-8, 7]");
  w.at(2, 1, 0, 0) = -9;
  EXPECT_CONTAINS(error(), "= -9 outside");
}

TEST_F(IntModelValidate, UniformWeightLevels) {
  IntTensor& w = params("c2").weights;  // uniform 2-bit levels: 0..3
  w.at(0, 0, 0, 0) = 3;
  EXPECT_NO_THROW(validate_model(g_, m_));
  w.at(0, 0, 0, 0) = -1;
  std::string e = error();
  EXPECT_CONTAINS(e, "'c2'");
  EXPECT_CONTAINS(e, "uniform-level range [0, 3]");
  w.at(0, 0, 0, 0) = 4;
  EXPECT_CONTAINS(error(), "'c2'");
}

TEST_F(IntModelValidate, Requantization) {
  const IntegerModel m = m_;
  params("c3").requant.scale.pop_back();
  EXPECT_CONTAINS(error(), "'c3' (conv): requantization has 7 scales and 8 offsets for 8 channels");
  m_ = m;
  params("c2").requant.out_max = 8;  // 3-bit output
  EXPECT_CONTAINS(error(),
                  "'c2' (conv): requantization clamps to [0, 8], outside the 3-bit output [0, 7]");
  m_ = m;
  params("c2").requant.has_residual = true;
  EXPECT_CONTAINS(error(), "'c2' (conv): requantization adds a residual");
  m_ = m;
  params("c1").requant.has_residual = false;
  EXPECT_CONTAINS(error(), "'c1' (conv): the op adds a residual");
  m_ = m;
  params("c1").requant.relu_before_residual = false;
  EXPECT_CONTAINS(error(), "'c1' (conv): requantization ReLU flags");
  m_ = m;
  params("gap").requant.frac_bits = 63;
  EXPECT_CONTAINS(error(), "'gap' (global_avgpool): requantization frac_bits 63");
  m_ = m;
  params("ap").requant.offset.clear();
  EXPECT_CONTAINS(error(), "'ap' (avgpool)");
}

TEST_F(IntModelValidate, PoolsHaveNoWeights) {
  params("mp").weights = IntTensor(1, 1, 1, 1);
  EXPECT_CONTAINS(error(), "'mp' (maxpool): a pool has no weights");
}

TEST_F(IntModelValidate, ReferenceExecuteValidatesFirst) {
  params("c1").weights.at(0, 0, 0, 0) = 100;
  EXPECT_CONTAINS(input_error_of([&] { reference_execute(g_, m_); }), "'c1'");
}

TEST_F(IntModelValidate, InconsistentGraph) {
  g_.ops[op_index(g_, "c3")].out.h = 4;
  EXPECT_CONTAINS(error(), "'c3' (conv): output shape");
}

// ---------------------------------------------------------------------------
// reference_execute
// ---------------------------------------------------------------------------

void expect_same_tensors(const HwGraph& g, const std::map<int, IntTensor>& got,
                         const std::map<int, IntTensor>& want) {
  ASSERT_EQ(got.size(), g.tensors.size());
  for (const auto& [id, t] : want) {
    ASSERT_TRUE(got.count(id)) << "tensor " << id;
    const IntTensor& a = got.at(id);
    ASSERT_TRUE(a.same_shape(t)) << g.tensors[static_cast<size_t>(id)].name;
    size_t mismatches = 0;
    for (size_t i = 0; i < t.size(); ++i) mismatches += a.values()[i] != t.values()[i];
    EXPECT_EQ(mismatches, 0u) << "tensor '" << g.tensors[static_cast<size_t>(id)].name << "'";
  }
}

TEST(IntModelReference, TinyGraphMatchesPlainLoops) {
  for (int direction : {+1, -1}) {
    SCOPED_TRACE(direction);
    const HwGraph g = lower(tiny_network(direction), 2);
    for (uint64_t seed : {1u, 2u, 3u}) {
      const IntegerModel m = synthetic_model(g, seed);
      const auto got = reference_execute(g, m);
      // Paper Eq. 8 with `direction`: Y[:, (i + d) mod G] = X[:, i], so conv
      // group g reads input group g - d.
      const auto want = naive_execute(g, m, {{"c2", direction}});
      expect_same_tensors(g, got, want);
      for (const auto& [id, t] : got)
        expect_in_range(t, g.tensors[static_cast<size_t>(id)].bits, "tensor");
      // The data exercise the fusions: the ReLU before the residual clips
      // something, and the outputs are not constant.
      const size_t c1 = op_index(g, "c1");
      const HwOp& op = g.ops[c1];
      const IntTensor no_relu =
          NaiveConv{op, m.ops[c1], got.at(op.input), &got.at(op.residual), 0, false}.all();
      EXPECT_NE(no_relu, got.at(op.output));
      for (const auto& [id, t] : got) {
        const auto [lo, hi] = std::minmax_element(t.values().begin(), t.values().end());
        EXPECT_LT(*lo, *hi) << g.tensors[static_cast<size_t>(id)].name;
      }
    }
  }
}

// The executor returns every tensor, the graph input (unchanged) included.
TEST(IntModelReference, ReturnsEveryTensor) {
  const HwGraph g = lower(tiny_network(+1), 2);
  const IntegerModel m = synthetic_model(g, 4);
  const auto t = reference_execute(g, m);
  EXPECT_EQ(t.size(), g.tensors.size());
  EXPECT_EQ(t.at(g.input_tensor), m.input);
  for (const HwOp& op : g.ops) {
    const IntTensor& o = t.at(op.output);
    EXPECT_EQ(o.n(), 2);
    EXPECT_EQ(o.c(), op.out.c);
    EXPECT_EQ(o.h(), op.out.h);
    EXPECT_EQ(o.w(), op.out.w);
  }
}

// A uniform-quantizer conv multiplies the signed values 2q - (2^b - 1).
TEST(IntModelReference, UniformConvIsConv2dWithSignedWeights) {
  Network net("u");
  int x = net.add("input", InputAttrs{Shape{4, 7, 7}}, {});
  x = net.add("u", conv(6, 3, 2, 1, 2, uniform(3, 3)), {x});
  net.add("u.bn", BatchNormAttrs{}, {x});
  net.infer_shapes();
  const HwGraph g = lower(net, 2);
  ASSERT_EQ(g.ops.size(), 1u);
  ASSERT_TRUE(g.ops[0].uniform_quantizer);
  const IntegerModel m = synthetic_model(g, 8);
  IntTensor w_signed = m.ops[0].weights;
  for (auto& v : w_signed.values()) v = 2 * v - 7;
  kernels::Conv2dParams cp;
  cp.stride_h = cp.stride_w = 2;
  cp.pad_h = cp.pad_w = 1;
  cp.groups = 2;
  const IntTensor want =
      kernels::requantize(kernels::conv2d(m.input, w_signed, cp), m.ops[0].requant);
  const IntTensor got = reference_execute(g, m).at(g.output_tensor);
  EXPECT_EQ(got, want);
  // The unsigned levels alone would give something else.
  const IntTensor levels =
      kernels::requantize(kernels::conv2d(m.input, m.ops[0].weights, cp), m.ops[0].requant);
  EXPECT_NE(got, levels);
}

// Identity 1x1 convs with unit scale make placement visible: each output
// channel's value names the input channel it came from.
IntegerModel identity_model(const HwGraph& g, int channels_per_group) {
  IntegerModel m;
  const HwOp& op = g.ops.at(0);
  m.input = IntTensor(1, op.in.c, op.in.h, op.in.w);
  for (int c = 0; c < op.in.c; ++c)
    for (int y = 0; y < op.in.h; ++y)
      for (int x = 0; x < op.in.w; ++x) m.input.at(0, c, y, x) = (c * 3 + y + x) % 4;
  OpParameters p;
  p.weights = IntTensor(op.out.c, channels_per_group, 1, 1);
  for (int o = 0; o < op.out.c; ++o) p.weights.at(o, o % channels_per_group, 0, 0) = 1;
  p.requant.frac_bits = 0;
  p.requant.scale.assign(static_cast<size_t>(op.out.c), 1);
  for (int c = 0; c < op.out.c; ++c)
    p.requant.offset.push_back(2 * c);  // marks the requant channel
  p.requant.out_max = (1 << g.tensors[static_cast<size_t>(op.output)].bits) - 1;
  m.ops.push_back(p);
  return m;
}

TEST(IntModelReference, ShuffleWritesChannelAtItsShuffledPosition) {
  Network net("s");
  int x = net.add("input", InputAttrs{Shape{6, 2, 3}}, {});
  x = net.add("c", conv(6, 1, 1, 0, 1, lsq(4, 4)), {x});
  net.add("c.shuffle", ChannelShuffleAttrs{2}, {x});
  net.infer_shapes();
  const HwGraph g = lower(net);
  ASSERT_EQ(g.ops.size(), 1u);
  ASSERT_EQ(g.ops[0].out_shuffle_groups, 2);
  const IntegerModel m = identity_model(g, 6);
  const IntTensor out = reference_execute(g, m).at(g.output_tensor);
  // ShuffleNet over 2 groups of 3: positions 0..5 hold channels 0, 3, 1, 4, 2, 5.
  const int src[6] = {0, 3, 1, 4, 2, 5};
  for (int p = 0; p < 6; ++p) {
    EXPECT_EQ(kernels::channel_shuffle_source(p, 6, 2), src[p]);
    for (int y = 0; y < 2; ++y)
      for (int xx = 0; xx < 3; ++xx)
        EXPECT_EQ(out.at(0, p, y, xx), m.input.at(0, src[p], y, xx) + 2 * src[p])
            << p << " " << y << " " << xx;
  }
  // The same as the IR's separate shuffle of the unshuffled result.
  IntegerModel plain = m;
  Network unshuffled("s");
  unshuffled.add("input", InputAttrs{Shape{6, 2, 3}}, {});
  unshuffled.add("c", conv(6, 1, 1, 0, 1, lsq(4, 4)), {0});
  unshuffled.infer_shapes();
  const HwGraph gu = lower(unshuffled);
  const IntTensor before = reference_execute(gu, plain).at(gu.output_tensor);
  EXPECT_EQ(out, kernels::channel_shuffle(before, 2));
}

TEST(IntModelReference, RotationMakesGroupGReadGroupGMinusRotate) {
  for (int direction : {+1, -1}) {
    SCOPED_TRACE(direction);
    Network net("r");
    int x = net.add("input", InputAttrs{Shape{6, 1, 2}}, {});
    x = net.add("perm", CyclicPermuteAttrs{3, direction}, {x});
    net.add("c", conv(6, 1, 1, 0, 3, lsq(4, 4)), {x});
    net.infer_shapes();
    const HwGraph g = lower(net);
    ASSERT_EQ(g.ops.size(), 1u);
    const IntegerModel m = identity_model(g, 2);
    const IntTensor out = reference_execute(g, m).at(g.output_tensor);
    // Paper Eq. 8 (+1): group i moves to i+1, so conv group 0 sees input group 2.
    // Reference code (-1): output group i is input group i+1.
    const std::vector<int> src =
        direction == +1 ? std::vector<int>{4, 5, 0, 1, 2, 3} : std::vector<int>{2, 3, 4, 5, 0, 1};
    const IntTensor permuted = kernels::cyclic_group_permute(m.input, 3, direction);
    for (int o = 0; o < 6; ++o) {
      for (int xx = 0; xx < 2; ++xx) {
        EXPECT_EQ(out.at(0, o, 0, xx), m.input.at(0, src[static_cast<size_t>(o)], 0, xx) + 2 * o)
            << o;
        EXPECT_EQ(out.at(0, o, 0, xx), permuted.at(0, o, 0, xx) + 2 * o) << o;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// ResNet-18 end to end.
// ---------------------------------------------------------------------------

void print_spread(const ResNetRun& r) {
  for (const HwOp& op : r.graph.ops) {
    const int bits = r.graph.tensors[static_cast<size_t>(op.output)].bits;
    const Spread s = spread_of(r.tensors.at(op.output), bits);
    std::cout << "  " << op.name << ": " << s.levels_used << "/" << s.levels << " levels, "
              << 100 * s.at_min << "% at 0, " << 100 * s.at_max << "% at max\n";
  }
}

// Every op checked against the plain loops on its own inputs: all elements
// of small ops, a random sample of the others.
void expect_ops_match_plain_loops(const ResNetRun& r) {
  std::mt19937 rng(7);
  for (size_t i = 0; i < r.graph.ops.size(); ++i) {
    const HwOp& op = r.graph.ops[i];
    const IntTensor& x = r.tensors.at(op.input);
    const IntTensor& got = r.tensors.at(op.output);
    if (op.kind != HwOpKind::kConv) {
      EXPECT_EQ(naive_pool(op, r.model.ops[i], x), got) << op.name;
      continue;
    }
    const IntTensor* res = op.residual >= 0 ? &r.tensors.at(op.residual) : nullptr;
    const NaiveConv naive{op, r.model.ops[i], x, res, op.in_group_rotate};
    if (op.macs() <= 15'000'000) {
      EXPECT_EQ(naive.all(), got) << op.name;
      continue;
    }
    int mismatches = 0;
    for (int k = 0; k < 3000; ++k) {
      const int p = static_cast<int>(rng() % static_cast<unsigned>(op.out.c));
      const int y = static_cast<int>(rng() % static_cast<unsigned>(op.out.h));
      const int xx = static_cast<int>(rng() % static_cast<unsigned>(op.out.w));
      mismatches += naive.element(0, p, y, xx) != got.at(0, p, y, xx);
    }
    EXPECT_EQ(mismatches, 0) << op.name;
  }
}

TEST(IntModelResNet, ResNet18PalQuantG2RunsEndToEnd) {
  const ResNetRun& r = resnet_run(palquant(2, 2));
  const HwGraph& g = r.graph;
  // The graph has what the executor must get right.
  int rotated = 0, shuffled = 0, residual = 0, relu_before = 0;
  for (const HwOp& op : g.ops) {
    rotated += op.in_group_rotate != 0;
    shuffled += op.out_shuffle_groups > 1;
    residual += op.residual >= 0;
    relu_before += op.residual >= 0 && op.relu_before_residual;
  }
  EXPECT_EQ(rotated, 3);
  EXPECT_EQ(shuffled, 3);
  EXPECT_GE(residual, 8);
  EXPECT_EQ(relu_before, 3);
  ASSERT_EQ(r.tensors.size(), g.tensors.size());
  for (const HwTensor& t : g.tensors) {
    const IntTensor& v = r.tensors.at(t.id);
    EXPECT_EQ(v.n(), 1);
    EXPECT_EQ(v.c(), t.shape.c) << t.name;
    EXPECT_EQ(v.h(), t.shape.h) << t.name;
    EXPECT_EQ(v.w(), t.shape.w) << t.name;
    expect_in_range(v, t.bits, t.name);
  }
  print_spread(r);
  // 2-bit outputs: every level in use, neither end dominating.
  expect_spread(g, r.tensors, 1.0, 0.25);
  expect_ops_match_plain_loops(r);
}

TEST(IntModelResNet, ResNet18Lsq44RunsEndToEnd) {
  const ResNetRun& r = resnet_run(lsq_method(4, 4));
  ASSERT_EQ(r.tensors.size(), r.graph.tensors.size());
  for (const HwTensor& t : r.graph.tensors) expect_in_range(r.tensors.at(t.id), t.bits, t.name);
  print_spread(r);
  expect_spread(r.graph, r.tensors, 0.75, 0.15);
  expect_ops_match_plain_loops(r);
}

}  // namespace
}  // namespace palsim::frontend
