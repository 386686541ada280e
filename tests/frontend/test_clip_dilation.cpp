// Dilation and clip (ReLU6) in the IR and its lowering: shapes follow the
// dilated extent, a clip from 0 fuses into a conv's post-processing like a
// ReLU, and what the accelerator cannot run is refused naming the layer.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "common/error.h"
#include "frontend/ir/network.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/lowering/int_model.h"
#include "kernels/requantize.h"
#include "tests/common/input_error.h"
#include "tests/common/test_util.h"

namespace palsim::frontend {
namespace {

ConvAttrs dilated(int out, int kernel, int pad, int dilation) {
  ConvAttrs a;
  a.out_channels = out;
  a.kernel_h = a.kernel_w = kernel;
  a.pad_h = a.pad_w = pad;
  a.dilation_h = a.dilation_w = dilation;
  a.quant = QuantSpec{Quantizer::kLsq, 4, 4, 0};
  return a;
}

using palsim_test::input_error_of;

TEST(Dilation, OutputFollowsTheDilatedExtent) {
  Network net("d");
  net.add("input", InputAttrs{{4, 9, 11}}, {});
  ConvAttrs a = dilated(8, 3, 0, 2);  // extent 5
  a.dilation_w = 3;                   // extent 7
  net.add("conv", a, {0});
  net.infer_shapes();
  EXPECT_EQ(net.layer(1).out, (Shape{8, 5, 5}));
  Network bad("d");
  bad.add("input", InputAttrs{{4, 4, 4}}, {});
  bad.add("conv", dilated(8, 3, 0, 2), {0});
  EXPECT_CONTAINS(input_error_of([&] { bad.infer_shapes(); }),
                  "kernel 3 (dilation 2) does not fit the height 4 with padding 0");
}

TEST(Clip, BoundsMustBeOrdered) {
  Network net("c");
  net.add("input", InputAttrs{{4, 4, 4}}, {});
  net.add("clip", ClipAttrs{6, 0}, {0});
  EXPECT_CONTAINS(input_error_of([&] { net.infer_shapes(); }), "min 6 must be below max 0");
}

Network conv_clip(double lo, double hi) {
  Network net("cc");
  net.add("input", InputAttrs{{4, 8, 8}}, {});
  net.add("conv", dilated(8, 3, 2, 2), {0});
  net.add("bn", BatchNormAttrs{}, {1});
  net.add("relu6", ClipAttrs{lo, hi}, {2});
  net.add("conv2", dilated(8, 1, 0, 1), {3});
  net.infer_shapes();
  return net;
}

TEST(Clip, FromZeroFusesIntoTheConvLikeARelu) {
  const HwGraph g = build_hw_graph(conv_clip(0, 6), LoweringOptions{});
  ASSERT_EQ(g.ops.size(), 2u);
  EXPECT_EQ(g.ops[0].layers, (std::vector<std::string>{"conv", "bn", "relu6"}));
  EXPECT_TRUE(g.ops[0].relu_before_residual);
  EXPECT_EQ(g.ops[0].dh, 2);
  EXPECT_EQ(g.ops[0].dw, 2);
  EXPECT_EQ(g.ops[1].dh, 1);
}

TEST(Clip, BelowZeroCannotRunOnTheAccelerator) {
  EXPECT_CONTAINS(input_error_of([&] { build_hw_graph(conv_clip(-1, 1), LoweringOptions{}); }),
                  "layer 'relu6' (clip): a clip from -1 cannot run");
}

// The lowered dilated conv runs through the kernels (reference_execute, what
// the detailed simulator is checked against bit for bit) exactly as a direct
// loop over the dilated taps computes it from the same integer model.
TEST(Dilation, ReferenceExecutionMatchesADirectComputation) {
  Network net("direct");
  net.add("input", InputAttrs{{3, 11, 10}}, {});
  ConvAttrs a = dilated(5, 3, 2, 2);
  a.dilation_w = 3;
  a.stride_h = 2;
  net.add("conv", a, {0});
  net.infer_shapes();
  const HwGraph g = build_hw_graph(net, LoweringOptions{});
  ASSERT_EQ(g.ops.size(), 1u);
  const HwOp& op = g.ops[0];
  const IntegerModel m = synthetic_model(g, 7);
  const kernels::IntTensor got = reference_execute(g, m).at(op.output);
  const kernels::IntTensor& x = m.input;
  const kernels::IntTensor& w = m.ops[0].weights;
  ASSERT_EQ(got.h(), 6);  // (11 + 4 - 5) / 2 + 1
  ASSERT_EQ(got.w(), 8);  // (10 + 4 - 7) / 1 + 1
  int nonzero = 0;
  for (int o = 0; o < got.c(); ++o) {
    for (int y = 0; y < got.h(); ++y) {
      for (int xo = 0; xo < got.w(); ++xo) {
        int64_t acc = 0;
        for (int c = 0; c < x.c(); ++c) {
          for (int ky = 0; ky < 3; ++ky) {
            for (int kx = 0; kx < 3; ++kx) {
              const int iy = y * 2 - 2 + ky * 2, ix = xo - 2 + kx * 3;
              if (iy < 0 || iy >= x.h() || ix < 0 || ix >= x.w()) continue;
              acc += int64_t{x.at(0, c, iy, ix)} * w.at(o, c, ky, kx);
            }
          }
        }
        const int32_t want = kernels::requantize_element(acc, 0, o, m.ops[0].requant);
        ASSERT_EQ(got.at(0, o, y, xo), want) << o << " " << y << " " << xo;
        nonzero += want != 0;
      }
    }
  }
  EXPECT_GT(nonzero, 0);
}

}  // namespace
}  // namespace palsim::frontend
