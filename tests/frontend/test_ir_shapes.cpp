// Shape inference of the network IR: every layer kind, and errors that name
// the failing layer.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "frontend/ir/layer.h"
#include "frontend/ir/network.h"
#include "tests/common/input_error.h"

namespace palsim::frontend {
namespace {

using palsim_test::input_error_of;

// Checks that `text` contains `part` (each argument evaluated once).
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}
#define EXPECT_CONTAINS(text, part) EXPECT_TRUE(Contains((text), (part)))

ConvAttrs conv(int out, int kernel, int stride, int pad, int groups = 1) {
  ConvAttrs a;
  a.out_channels = out;
  a.kernel_h = a.kernel_w = kernel;
  a.stride_h = a.stride_w = stride;
  a.pad_h = a.pad_w = pad;
  a.groups = groups;
  return a;
}

// A network holding only an input layer of shape `s`.
Network with_input(Shape s) {
  Network net("t");
  net.add("input", InputAttrs{s}, {});
  return net;
}

// Adds `attrs` reading the last layer, infers shapes and returns the new layer's shape.
Shape infer_one(Shape in, LayerAttrs attrs) {
  Network net = with_input(in);
  net.add("x", std::move(attrs), {0});
  net.infer_shapes();
  return net.layer(1).out;
}

TEST(IrShape, InputKeepsItsShape) {
  Network net = with_input({3, 224, 200});
  net.infer_shapes();
  EXPECT_EQ(net.layer(0).out, (Shape{3, 224, 200}));
  EXPECT_EQ(net.layer(0).out.elements(), 3LL * 224 * 200);
  EXPECT_EQ(to_string(net.layer(0).out), "3x224x200");
}

TEST(IrShape, ConvStridePaddingGroups) {
  // (in + 2 pad - k) / stride + 1, floor division.
  EXPECT_EQ(infer_one({3, 224, 224}, conv(64, 7, 2, 3)), (Shape{64, 112, 112}));
  EXPECT_EQ(infer_one({64, 56, 56}, conv(128, 3, 2, 1, 2)), (Shape{128, 28, 28}));
  EXPECT_EQ(infer_one({64, 56, 56}, conv(128, 1, 2, 0, 4)), (Shape{128, 28, 28}));
  EXPECT_EQ(infer_one({16, 7, 7}, conv(16, 3, 2, 1, 16)),
            (Shape{16, 4, 4}));  // depthwise, odd size
  EXPECT_EQ(infer_one({8, 10, 10}, conv(8, 3, 1, 0)), (Shape{8, 8, 8}));
  EXPECT_EQ(infer_one({8, 10, 10}, conv(8, 3, 3, 0)), (Shape{8, 3, 3}));
  EXPECT_EQ(infer_one({8, 5, 5}, conv(8, 5, 1, 0)), (Shape{8, 1, 1}));  // kernel = input
}

TEST(IrShape, ConvRectangularKernelStridePadding) {
  ConvAttrs a = conv(16, 1, 1, 0);
  a.kernel_h = 3;
  a.kernel_w = 1;
  a.stride_h = 2;
  a.stride_w = 1;
  a.pad_h = 1;
  a.pad_w = 0;
  EXPECT_EQ(infer_one({8, 20, 12}, a), (Shape{16, 10, 12}));
}

TEST(IrShape, BatchNormAndReluKeepTheShape) {
  EXPECT_EQ(infer_one({5, 6, 7}, BatchNormAttrs{}), (Shape{5, 6, 7}));
  EXPECT_EQ(infer_one({5, 6, 7}, ReluAttrs{}), (Shape{5, 6, 7}));
}

TEST(IrShape, MaxPool) {
  EXPECT_EQ(infer_one({64, 112, 112}, MaxPoolAttrs{3, 2, 1}), (Shape{64, 56, 56}));
  EXPECT_EQ(infer_one({4, 7, 7}, MaxPoolAttrs{2, 2, 0}), (Shape{4, 3, 3}));
  EXPECT_EQ(infer_one({4, 8, 8}, MaxPoolAttrs{3, 1, 1}), (Shape{4, 8, 8}));
}

TEST(IrShape, AvgPool) {
  EXPECT_EQ(infer_one({4, 8, 8}, AvgPoolAttrs{2, 2, 0}), (Shape{4, 4, 4}));
  EXPECT_EQ(infer_one({4, 7, 9}, AvgPoolAttrs{3, 3, 0}), (Shape{4, 2, 3}));
  EXPECT_EQ(infer_one({4, 7, 7}, AvgPoolAttrs{3, 2, 1}), (Shape{4, 4, 4}));
}

TEST(IrShape, GlobalAvgPool) {
  EXPECT_EQ(infer_one({512, 7, 7}, GlobalAvgPoolAttrs{}), (Shape{512, 1, 1}));
  EXPECT_EQ(infer_one({3, 5, 9}, GlobalAvgPoolAttrs{}), (Shape{3, 1, 1}));
}

TEST(IrShape, AddOfEqualShapes) {
  Network net = with_input({8, 4, 4});
  const int r = net.add("relu", ReluAttrs{}, {0});
  net.add("add", AddAttrs{}, {r, 0});
  net.infer_shapes();
  EXPECT_EQ(net.layer(2).out, (Shape{8, 4, 4}));
}

TEST(IrShape, ChannelShuffleAndCyclicPermuteKeepTheShape) {
  EXPECT_EQ(infer_one({12, 5, 5}, ChannelShuffleAttrs{3}), (Shape{12, 5, 5}));
  EXPECT_EQ(infer_one({12, 5, 5}, ChannelShuffleAttrs{1}), (Shape{12, 5, 5}));
  EXPECT_EQ(infer_one({12, 5, 5}, CyclicPermuteAttrs{4, +1}), (Shape{12, 5, 5}));
  EXPECT_EQ(infer_one({12, 5, 5}, CyclicPermuteAttrs{2, -1}), (Shape{12, 5, 5}));
}

TEST(IrShape, FcAndFlatten) {
  FcAttrs fc;
  fc.out_features = 1000;
  EXPECT_EQ(infer_one({512, 1, 1}, fc), (Shape{1000, 1, 1}));
  EXPECT_EQ(infer_one({32, 4, 3}, FlattenAttrs{}), (Shape{384, 1, 1}));
}

TEST(IrShape, ChainedResidualBlock) {
  Network net = with_input({16, 32, 32});
  int x = net.add("c1", conv(32, 3, 2, 1), {0});
  x = net.add("b1", BatchNormAttrs{}, {x});
  x = net.add("r1", ReluAttrs{}, {x});
  x = net.add("c2", conv(32, 3, 1, 1, 4), {x});
  const int sc = net.add("down", conv(32, 1, 2, 0, 4), {0});
  x = net.add("add", AddAttrs{}, {x, sc});
  x = net.add("gap", GlobalAvgPoolAttrs{}, {x});
  x = net.add("flat", FlattenAttrs{}, {x});
  FcAttrs fc;
  fc.out_features = 10;
  net.add("fc", fc, {x});
  net.infer_shapes();
  EXPECT_EQ(net.layer(net.find("c2")).out, (Shape{32, 16, 16}));
  EXPECT_EQ(net.layer(net.find("down")).out, (Shape{32, 16, 16}));
  EXPECT_EQ(net.layer(net.find("add")).out, (Shape{32, 16, 16}));
  EXPECT_EQ(net.layer(net.output()).out, (Shape{10, 1, 1}));
}

TEST(IrNetwork, FindConsumersOutput) {
  Network net = with_input({4, 4, 4});
  const int a = net.add("a", ReluAttrs{}, {0});
  const int b = net.add("b", BatchNormAttrs{}, {a});
  const int c = net.add("c", AddAttrs{}, {a, b});
  EXPECT_EQ(net.find("b"), b);
  EXPECT_EQ(net.find("nope"), -1);
  EXPECT_EQ(net.consumers(a), (std::vector<int>{b, c}));
  EXPECT_EQ(net.consumers(c), std::vector<int>{});
  EXPECT_EQ(net.output(), c);
  EXPECT_EQ(net.size(), 4);
  EXPECT_EQ(net.layer(c).op(), "add");
  EXPECT_TRUE(net.layer(c).is<AddAttrs>());
}

TEST(IrNetwork, OpNamesFollowTheVariantOrder) {
  const std::vector<LayerAttrs> attrs = {
      InputAttrs{},         ConvAttrs{},    BatchNormAttrs{},
      ReluAttrs{},          MaxPoolAttrs{}, AvgPoolAttrs{},
      GlobalAvgPoolAttrs{}, AddAttrs{},     ChannelShuffleAttrs{},
      CyclicPermuteAttrs{}, FcAttrs{},      FlattenAttrs{},
      SplitAttrs{},         ConcatAttrs{},  ClipAttrs{}};
  const std::vector<std::string> names = {"input",          "conv",    "batchnorm",
                                          "relu",           "maxpool", "avgpool",
                                          "global_avgpool", "add",     "channel_shuffle",
                                          "cyclic_permute", "fc",      "flatten",
                                          "split",          "concat",  "clip"};
  ASSERT_EQ(op_names(), names);
  for (size_t i = 0; i < attrs.size(); ++i) EXPECT_EQ(op_name(attrs[i]), names[i]);
  EXPECT_EQ(to_string(Quantizer::kLsq), "lsq");
  EXPECT_EQ(to_string(Quantizer::kUniform), "uniform");
  EXPECT_EQ(to_string(Quantizer::kNone), "none");
  EXPECT_EQ(to_string(LayerRole::kStem), "stem");
  EXPECT_EQ(to_string(LayerRole::kClassifier), "classifier");
  EXPECT_EQ(to_string(LayerRole::kBody), "body");
}

TEST(IrNetwork, AddRejectsDuplicateUnknownAndUnnamedLayers) {
  Network net = with_input({4, 4, 4});
  net.add("a", ReluAttrs{}, {0});
  std::string m = input_error_of([&] { net.add("a", ReluAttrs{}, {0}); });
  EXPECT_CONTAINS(m, "duplicate layer name 'a'");
  m = input_error_of([&] { net.add("b", ReluAttrs{}, {2}); });  // itself / a later layer
  EXPECT_CONTAINS(m, "'b'");
  m = input_error_of([&] { net.add("c", ReluAttrs{}, {-1}); });
  EXPECT_CONTAINS(m, "'c'");
  m = input_error_of([&] { net.add("", ReluAttrs{}, {0}); });
  EXPECT_CONTAINS(m, "no name");
  EXPECT_EQ(net.size(), 2);  // nothing was added by the failed calls
}

// ---- errors name the layer ----

TEST(IrErrors, GroupsNotDividingInputChannels) {
  const std::string m = input_error_of([] { infer_one({10, 8, 8}, conv(12, 3, 1, 1, 4)); });
  EXPECT_CONTAINS(m, "layer 'x' (conv)");
  EXPECT_CONTAINS(m, "groups 4 do not divide the 10 input channels");
}

TEST(IrErrors, GroupsNotDividingOutputChannels) {
  const std::string m = input_error_of([] { infer_one({12, 8, 8}, conv(10, 3, 1, 1, 4)); });
  EXPECT_CONTAINS(m, "layer 'x' (conv)");
  EXPECT_CONTAINS(m, "10 output channels");
}

TEST(IrErrors, NonPositiveConvParameters) {
  EXPECT_CONTAINS(input_error_of([] {
                    infer_one({4, 8, 8}, conv(4, 3, 1, 1, 0));
                  }),
                  "groups must be positive");
  EXPECT_CONTAINS(input_error_of([] { infer_one({4, 8, 8}, conv(0, 3, 1, 1)); }), "out_channels");
  EXPECT_CONTAINS(input_error_of([] { infer_one({4, 8, 8}, conv(4, 3, 0, 1)); }), "layer 'x'");
  EXPECT_CONTAINS(input_error_of([] { infer_one({4, 8, 8}, conv(4, 3, 1, -1)); }), "layer 'x'");
  EXPECT_CONTAINS(input_error_of([] { infer_one({4, 8, 8}, conv(4, 0, 1, 0)); }), "layer 'x'");
}

TEST(IrErrors, AddOfDifferentShapes) {
  Network net = with_input({8, 8, 8});
  const int c = net.add("down", conv(8, 3, 2, 1), {0});
  net.add("res.add", AddAttrs{}, {c, 0});
  const std::string m = input_error_of([&] { net.infer_shapes(); });
  EXPECT_CONTAINS(m, "layer 'res.add' (add)");
  EXPECT_CONTAINS(m, "8x4x4");
  EXPECT_CONTAINS(m, "8x8x8");
}

TEST(IrErrors, AddOfDifferentChannels) {
  Network net = with_input({8, 8, 8});
  const int c = net.add("wide", conv(16, 1, 1, 0), {0});
  net.add("sum", AddAttrs{}, {0, c});
  EXPECT_CONTAINS(input_error_of([&] { net.infer_shapes(); }), "layer 'sum' (add)");
}

TEST(IrErrors, KernelLargerThanPaddedInput) {
  std::string m = input_error_of([] { infer_one({4, 5, 5}, conv(4, 7, 1, 0)); });
  EXPECT_CONTAINS(m, "layer 'x' (conv)");
  EXPECT_CONTAINS(m, "kernel 7 does not fit the height 5 with padding 0");
  // Padding makes it fit: 5 + 2 - 7 = 0 -> one output.
  EXPECT_EQ(infer_one({4, 5, 5}, conv(4, 7, 1, 1)), (Shape{4, 1, 1}));
  // Only the width is too small.
  ConvAttrs a = conv(4, 3, 1, 0);
  a.kernel_w = 6;
  m = input_error_of([&] { infer_one({4, 8, 5}, a); });
  EXPECT_CONTAINS(m, "the width 5");
  m = input_error_of([] { infer_one({4, 2, 2}, MaxPoolAttrs{3, 2, 0}); });
  EXPECT_CONTAINS(m, "layer 'x' (maxpool)");
  m = input_error_of([] { infer_one({4, 2, 2}, AvgPoolAttrs{4, 4, 0}); });
  EXPECT_CONTAINS(m, "layer 'x' (avgpool)");
}

TEST(IrErrors, PoolPaddingAtMostHalfTheKernel) {
  EXPECT_CONTAINS(input_error_of([] { infer_one({4, 8, 8}, MaxPoolAttrs{3, 2, 2}); }), "padding");
  EXPECT_CONTAINS(input_error_of([] { infer_one({4, 8, 8}, AvgPoolAttrs{2, 2, 2}); }), "padding");
}

TEST(IrErrors, WrongInputCount) {
  struct Case {
    LayerAttrs attrs;
    std::vector<int> inputs;
    const char* expect;
  };
  FcAttrs fc;
  fc.out_features = 3;
  const std::vector<Case> cases = {
      {conv(4, 1, 1, 0), {0, 1}, "expects 1 input, has 2"},
      {AddAttrs{}, {1}, "expects 2 inputs, has 1"},
      {AddAttrs{}, {0, 1, 1}, "expects 2 inputs, has 3"},
      {ReluAttrs{}, {}, "expects 1 input, has 0"},
      {BatchNormAttrs{}, {0, 1}, "expects 1 input, has 2"},
      {fc, {0, 1}, "expects 1 input, has 2"},
      {InputAttrs{Shape{1, 1, 1}}, {0}, "expects 0 inputs, has 1"},
      {GlobalAvgPoolAttrs{}, {}, "expects 1 input, has 0"},
      {ChannelShuffleAttrs{2}, {0, 1}, "expects 1 input"},
      {CyclicPermuteAttrs{2, 1}, {0, 1}, "expects 1 input"},
      {FlattenAttrs{}, {0, 1}, "expects 1 input"},
      {MaxPoolAttrs{}, {}, "expects 1 input"},
      {AvgPoolAttrs{}, {}, "expects 1 input"},
  };
  for (const auto& c : cases) {
    Network net = with_input({4, 4, 4});
    net.add("r", ReluAttrs{}, {0});
    net.add("bad", c.attrs, c.inputs);
    const std::string m = input_error_of([&] { net.infer_shapes(); });
    EXPECT_CONTAINS(m, "layer 'bad' (" + op_name(c.attrs) + ")");
    EXPECT_CONTAINS(m, c.expect);
  }
}

TEST(IrErrors, BadCyclicDirection) {
  for (int d : {0, 2, -2}) {
    const std::string m = input_error_of([&] { infer_one({8, 4, 4}, CyclicPermuteAttrs{2, d}); });
    EXPECT_CONTAINS(m, "layer 'x' (cyclic_permute)");
    EXPECT_CONTAINS(m, "direction");
  }
}

TEST(IrErrors, ShuffleGroupsNotDividingChannels) {
  std::string m = input_error_of([] { infer_one({10, 4, 4}, ChannelShuffleAttrs{4}); });
  EXPECT_CONTAINS(m, "layer 'x' (channel_shuffle)");
  EXPECT_CONTAINS(m, "groups 4 do not divide the 10 channels");
  m = input_error_of([] { infer_one({10, 4, 4}, CyclicPermuteAttrs{3, 1}); });
  EXPECT_CONTAINS(m, "layer 'x' (cyclic_permute)");
  EXPECT_CONTAINS(input_error_of([] {
                    infer_one({10, 4, 4}, ChannelShuffleAttrs{0});
                  }),
                  "groups must be positive");
}

TEST(IrErrors, QuantBitsOutOfRange) {
  for (auto [w, a] : std::vector<std::pair<int, int>>{{1, 4}, {9, 4}, {4, 1}, {4, 9}, {0, 0}}) {
    ConvAttrs c = conv(4, 1, 1, 0);
    c.quant = QuantSpec{Quantizer::kLsq, w, a, 0};
    const std::string m = input_error_of([&] { infer_one({4, 4, 4}, c); });
    EXPECT_CONTAINS(m, "layer 'x' (conv)");
    EXPECT_CONTAINS(m, "2..8 bits");
  }
  FcAttrs fc;
  fc.out_features = 2;
  fc.quant = QuantSpec{Quantizer::kUniform, 2, 12, 0};
  EXPECT_CONTAINS(input_error_of([&] { infer_one({4, 1, 1}, fc); }), "layer 'x' (fc)");
  ConvAttrs c = conv(4, 1, 1, 0);
  c.quant = QuantSpec{Quantizer::kLsq, 4, 4, 3};
  EXPECT_CONTAINS(input_error_of([&] { infer_one({4, 4, 4}, c); }), "slice width");
  // Limits are inclusive; full precision ignores the bit fields.
  for (int bits : {2, 8}) {
    c.quant = QuantSpec{Quantizer::kUniform, bits, bits, 0};
    EXPECT_NO_THROW(infer_one({4, 4, 4}, c));
  }
  c.quant = QuantSpec{Quantizer::kNone, 0, 99, 0};
  EXPECT_NO_THROW(infer_one({4, 4, 4}, c));
}

TEST(IrErrors, NonPositiveInputAndFcSizes) {
  Network net = with_input({3, 0, 8});
  EXPECT_CONTAINS(input_error_of([&] { net.infer_shapes(); }), "layer 'input' (input)");
  FcAttrs fc;
  fc.out_features = 0;
  EXPECT_CONTAINS(input_error_of([&] { infer_one({4, 1, 1}, fc); }), "out_features");
}

TEST(IrErrors, FirstFailingLayerIsNamed) {
  // Two bad layers: the error names the earlier one.
  Network net = with_input({6, 8, 8});
  net.add("first_bad", conv(6, 3, 1, 1, 4), {0});
  net.add("second_bad", ChannelShuffleAttrs{5}, {0});
  const std::string m = input_error_of([&] { net.infer_shapes(); });
  EXPECT_CONTAINS(m, "first_bad");
  EXPECT_EQ(m.find("second_bad"), std::string::npos) << m;
}

}  // namespace
}  // namespace palsim::frontend
