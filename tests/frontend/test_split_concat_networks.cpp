// The layers and networks of issue 9: channel split, concatenation and
// depthwise convolution in the IR and the YAML format; the plain18 and
// shufflenetv2 builders and their BitOps; how split and concatenation lower
// (channel views, copies) and what the reference executor computes for them.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "frontend/bitops.h"
#include "frontend/builders/registry.h"
#include "frontend/builders/resnet.h"
#include "frontend/builders/shufflenet.h"
#include "frontend/ir/network.h"
#include "frontend/ir/network_yaml.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/lowering/int_model.h"

namespace palsim::frontend {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}
#define EXPECT_CONTAINS(text, part) EXPECT_TRUE(Contains((text), (part)))

template <typename F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

QuantSpec lsq44() {
  return QuantSpec{Quantizer::kLsq, 4, 4, 0};
}

ConvAttrs conv(int out, int k, int groups, QuantSpec q = lsq44()) {
  ConvAttrs a;
  a.out_channels = out;
  a.kernel_h = a.kernel_w = k;
  a.pad_h = a.pad_w = k / 2;
  a.groups = groups;
  a.quant = q;
  return a;
}

// --- IR -----------------------------------------------------------------------

TEST(IrSplitConcat, ShapesOfSplitConcatAndDepthwise) {
  Network net("n");
  const int in = net.add("input", InputAttrs{{16, 8, 8}}, {});
  const int a = net.add("a", SplitAttrs{0, 6}, {in});
  const int b = net.add("b", SplitAttrs{6, 10}, {in});
  const int dw = net.add("dw", conv(10, 3, 10), {b});
  const int cat = net.add("cat", ConcatAttrs{}, {a, dw, a});
  net.infer_shapes();
  EXPECT_EQ(net.layer(a).out, (Shape{6, 8, 8}));
  EXPECT_EQ(net.layer(b).out, (Shape{10, 8, 8}));
  EXPECT_EQ(net.layer(dw).out, (Shape{10, 8, 8}));
  EXPECT_EQ(net.layer(cat).out, (Shape{22, 8, 8}));
  EXPECT_EQ(layer_macs(net, dw), 10LL * 8 * 8 * 9);  // one input channel per output
  EXPECT_EQ(layer_macs(net, a), 0);
  EXPECT_EQ(layer_macs(net, cat), 0);
}

TEST(IrSplitConcat, ShapeErrorsNameTheLayer) {
  auto infer = [](LayerAttrs attrs, std::vector<int> inputs, Shape second = {4, 8, 8}) {
    Network net("n");
    const int in = net.add("input", InputAttrs{{16, 8, 8}}, {});
    net.add("pool", MaxPoolAttrs{2, 2, 0}, {in});
    net.add("other", InputAttrs{second}, {});
    (void)in;
    net.add("bad", std::move(attrs), std::move(inputs));
    return input_error_of([&] { net.infer_shapes(); });
  };
  EXPECT_CONTAINS(infer(SplitAttrs{10, 8}, {0}),
                  "layer 'bad' (split): channels [10, 18) lie outside the input's 16");
  EXPECT_CONTAINS(infer(SplitAttrs{-1, 2}, {0}), "offset must be >= 0");
  EXPECT_CONTAINS(infer(SplitAttrs{0, 0}, {0}), "channels must be positive");
  EXPECT_CONTAINS(infer(ConcatAttrs{}, {0}),
                  "layer 'bad' (concat): expects at least 2 inputs, has 1");
  EXPECT_CONTAINS(infer(ConcatAttrs{}, {0, 1}),
                  "different heights or widths: 16x8x8 and 16x4x4 ('pool')");
  EXPECT_CONTAINS(infer(conv(16, 3, 3), {0}), "groups 3 do not divide the 16 input channels");
  EXPECT_EQ(infer(ConcatAttrs{}, {0, 2}), "(no InputError)");
}

// --- YAML ---------------------------------------------------------------------

const char* kSplitConcatYaml = R"(format: palsim-network-1
name: unit
layers:
  - {name: input, op: input, shape: [8, 6, 6]}
  - {name: x1, op: split, channels: 4}
  - {name: x2, op: split, offset: 4, channels: 4, inputs: [input]}
  - {name: dw, op: conv, out_channels: 4, kernel: 3, padding: 1, groups: 4, quant: {quantizer: lsq, w_bits: 4, a_bits: 4}}
  - {name: cat, op: concat, inputs: [x1, dw]}
  - {name: shuffle, op: channel_shuffle, groups: 2}
)";

TEST(YamlSplitConcat, ReadsWritesAndRoundTrips) {
  const Network net = parse_network_yaml(kSplitConcatYaml, "unit.yaml");
  const Layer& x2 = net.layer(net.find("x2"));
  EXPECT_EQ(x2.as<SplitAttrs>().offset, 4);
  EXPECT_EQ(x2.as<SplitAttrs>().channels, 4);
  EXPECT_EQ(net.layer(net.find("x1")).as<SplitAttrs>().offset, 0);  // offset defaults to 0
  EXPECT_EQ(net.layer(net.find("dw")).as<ConvAttrs>().groups, 4);
  EXPECT_EQ(net.layer(net.find("cat")).inputs, (std::vector<int>{net.find("x1"), net.find("dw")}));
  EXPECT_EQ(net.layer(net.output()).out, (Shape{8, 6, 6}));
  const std::string yaml = network_to_yaml(net);
  EXPECT_CONTAINS(yaml, "op: split");
  EXPECT_CONTAINS(yaml, "offset: 4");
  EXPECT_CONTAINS(yaml, "op: concat");
  EXPECT_EQ(network_to_yaml(parse_network_yaml(yaml, "again.yaml")), yaml);
}

TEST(YamlSplitConcat, ErrorsNameFileLineAndKey) {
  auto error_of = [](const std::string& layers) {
    const std::string text =
        "format: palsim-network-1\nname: n\nlayers:\n"
        "  - {name: input, op: input, shape: [8, 6, 6]}\n" +
        layers;
    try {
      parse_network_yaml(text, "n.yaml");
    } catch (const FileError& e) {
      return std::string(e.what());
    }
    return std::string("(no FileError)");
  };
  EXPECT_CONTAINS(error_of("  - {name: s, op: split, offset: 2}\n"), "n.yaml:5");
  EXPECT_CONTAINS(error_of("  - {name: s, op: split, offset: 2}\n"), "channels");
  EXPECT_CONTAINS(error_of("  - {name: s, op: split, channels: 4, groups: 2}\n"), "groups");
  const std::string one =
      error_of("  - {name: s, op: split, channels: 4}\n  - {name: c, op: concat}\n");
  EXPECT_CONTAINS(one, "n.yaml:6");
  EXPECT_CONTAINS(one, "expects at least 2 inputs");
  EXPECT_CONTAINS(error_of("  - {name: s, op: split, offset: 6, channels: 4}\n"),
                  "lie outside the input's 8 channels");
}

TEST(YamlSplitConcat, BuiltinNetworksRoundTrip) {
  for (const std::string name : {"plain18", "shufflenetv2"}) {
    NetworkRequest r;
    r.network = name;
    r.method.method = Method::kLsq;
    if (name == "shufflenetv2") r.cyclic_groups = 2;
    const Network net = resolve_network(r);
    const std::string yaml = network_to_yaml(net);
    const Network back = parse_network_yaml(yaml, name + ".yaml");
    EXPECT_EQ(network_to_yaml(back), yaml) << name;
    EXPECT_EQ(count_bitops(back, 4, 4).macs, count_bitops(net, 4, 4).macs) << name;
  }
}

// --- builders -------------------------------------------------------------------

Network build(const std::string& network, Method method,
              std::function<void(NetworkRequest&)> edit = {}) {
  NetworkRequest r;
  r.network = network;
  r.method.method = method;
  if (method == Method::kPalQuant) r.method.G = 2;
  if (edit) edit(r);
  return resolve_network(r);
}

int count_op(const Network& net, const std::string& op) {
  return static_cast<int>(std::count_if(net.layers().begin(), net.layers().end(),
                                        [&](const Layer& l) { return l.op() == op; }));
}

TEST(BuilderShuffleNet, TorchvisionChannelTablesAndStructure) {
  const std::vector<std::pair<double, std::vector<int>>> tables = {
      {0.5, {24, 48, 96, 192, 1024}},
      {1.0, {24, 116, 232, 464, 1024}},
      {1.5, {24, 176, 352, 704, 1024}},
      {2.0, {24, 244, 488, 976, 2048}}};
  for (const auto& [width, ch] : tables) {
    SCOPED_TRACE(width);
    EXPECT_EQ(shufflenet_channels(width), ch);
    const Network net =
        build("shufflenetv2", Method::kLsq, [w = width](NetworkRequest& r) { r.width = w; });
    EXPECT_EQ(net.layer(net.find("conv1.0")).out, (Shape{24, 112, 112}));
    EXPECT_EQ(net.layer(net.find("maxpool")).out, (Shape{24, 56, 56}));
    EXPECT_EQ(net.layer(net.find("stage2.3.shuffle")).out, (Shape{ch[1], 28, 28}));
    EXPECT_EQ(net.layer(net.find("stage3.7.shuffle")).out, (Shape{ch[2], 14, 14}));
    EXPECT_EQ(net.layer(net.find("stage4.3.shuffle")).out, (Shape{ch[3], 7, 7}));
    EXPECT_EQ(net.layer(net.find("conv5.0")).out, (Shape{ch[4], 7, 7}));
    EXPECT_EQ(net.layer(net.output()).out, (Shape{1000, 1, 1}));
    // 16 units, 13 of them basic (two splits each), each ending in concat + shuffle.
    EXPECT_EQ(count_op(net, "concat"), 16);
    EXPECT_EQ(count_op(net, "channel_shuffle"), 16);
    EXPECT_EQ(count_op(net, "split"), 26);
    EXPECT_EQ(count_op(net, "cyclic_permute"), 0);
    // Depthwise: groups = channels; the downsampling unit's branch 1 reads all its input.
    const auto& dw = net.layer(net.find("stage3.0.branch1.0")).as<ConvAttrs>();
    EXPECT_EQ(dw.groups, ch[1]);
    EXPECT_EQ(dw.out_channels, ch[1]);
    EXPECT_EQ(dw.stride_h, 2);
    EXPECT_EQ(net.layer(net.find("stage3.1.branch2.3")).as<ConvAttrs>().groups, ch[2] / 2);
    const auto& split2 = net.layer(net.find("stage3.1.split2")).as<SplitAttrs>();
    EXPECT_EQ(split2.offset, ch[2] / 2);
    EXPECT_EQ(split2.channels, ch[2] / 2);
    // Every body conv is quantized, the stem and classifier are not.
    EXPECT_FALSE(net.layer(net.find("conv1.0")).as<ConvAttrs>().quant.quantized());
    EXPECT_EQ(net.layer(net.find("conv5.0")).as<ConvAttrs>().quant, lsq44());
    EXPECT_EQ(net.layer(net.find("fc")).role, LayerRole::kClassifier);
  }
}

TEST(BuilderShuffleNet, CyclicShuffleModulesBeforeStages3And4) {
  const Network net =
      build("shufflenetv2", Method::kLsq, [](NetworkRequest& r) { r.cyclic_groups = 4; });
  EXPECT_EQ(count_op(net, "cyclic_permute"), 2);
  for (const auto& [stage, channels] : std::vector<std::pair<int, int>>{{3, 116}, {4, 232}}) {
    const std::string p = "shuffle" + std::to_string(stage);
    const Layer& perm = net.layer(net.find(p + ".permute"));
    EXPECT_EQ(perm.as<CyclicPermuteAttrs>().groups, 4);
    EXPECT_EQ(perm.as<CyclicPermuteAttrs>().direction, +1);
    const Layer& c = net.layer(net.find(p + ".conv1.0"));
    EXPECT_EQ(c.as<ConvAttrs>().groups, 4);
    EXPECT_EQ(c.out, (Shape{channels, stage == 3 ? 28 : 14, stage == 3 ? 28 : 14}));
    const Layer& add = net.layer(net.find(p + ".add"));
    // Z = X + ReLU(BN(conv(P(X)))): the addition reads the module's input.
    EXPECT_EQ(add.inputs[1], perm.inputs[0]);
    EXPECT_EQ(net.layer(net.find("stage" + std::to_string(stage) + ".0.branch1.0")).inputs[0],
              net.find(p + ".add"));
  }
  EXPECT_CONTAINS(input_error_of([] {
                    build("shufflenetv2", Method::kLsq,
                          [](NetworkRequest& r) { r.cyclic_groups = 3; });
                  }),
                  "--cyclic-groups: 3 groups do not divide the 116 channels entering stage 3");
}

TEST(BuilderShuffleNet, FormsSmallInputsAndErrors) {
  for (Method m : {Method::kFp, Method::kLsq, Method::kEwgs, Method::kBitDecomposed}) {
    const Network net = build("shufflenetv2", m, [](NetworkRequest& r) {
      r.input_size = 28;
      r.input_channels = 1;
      r.classes = 10;
      r.stem = "small";
      r.blocks = std::vector<int>{1, 2, 1};
    });
    EXPECT_EQ(net.find("maxpool"), -1);
    EXPECT_EQ(net.layer(net.find("conv1.0")).out, (Shape{24, 28, 28}));
    EXPECT_EQ(net.layer(net.find("conv5.0")).out, (Shape{1024, 4, 4}));
    EXPECT_EQ(net.layer(net.output()).out, (Shape{10, 1, 1}));
    EXPECT_EQ(net.layer(net.find("conv5.0")).as<ConvAttrs>().quant, MethodOptions{m}.body_quant());
  }
  EXPECT_CONTAINS(input_error_of([] { build("shufflenetv2", Method::kPalQuant); }),
                  "--method palquant");
  EXPECT_CONTAINS(input_error_of([] {
                    build("shufflenetv2", Method::kLsq, [](NetworkRequest& r) { r.width = 0.75; });
                  }),
                  "--width");
  EXPECT_CONTAINS(input_error_of([] {
                    build("shufflenetv2", Method::kLsq, [](NetworkRequest& r) {
                      r.blocks = std::vector<int>{4, 8, 4, 1};
                    });
                  }),
                  "3 stages");
  EXPECT_CONTAINS(
      input_error_of(
          [] { build("shufflenetv2", Method::kLsq, [](NetworkRequest& r) { r.base_width = 8; }); }),
      "--base-width");
  EXPECT_CONTAINS(input_error_of([] {
                    build("resnet18", Method::kLsq,
                          [](NetworkRequest& r) { r.projections = "drop"; });
                  }),
                  "--projections applies to plain18");
  EXPECT_CONTAINS(input_error_of([] {
                    build("plain18", Method::kLsq, [](NetworkRequest& r) { r.width = 1.0; });
                  }),
                  "--width applies to shufflenetv2");
  EXPECT_CONTAINS(input_error_of([] {
                    build("plain18", Method::kLsq, [](NetworkRequest& r) { r.cyclic_groups = 2; });
                  }),
                  "--cyclic-groups applies to shufflenetv2");
}

TEST(BuilderPlain18, EveryFormWithBothProjectionChoices) {
  for (Method m :
       {Method::kFp, Method::kLsq, Method::kEwgs, Method::kBitDecomposed, Method::kPalQuant}) {
    for (const std::string proj : {"keep", "drop"}) {
      const Network net = build("plain18", m, [&](NetworkRequest& r) { r.projections = proj; });
      EXPECT_EQ(count_op(net, "add") - (m == Method::kPalQuant ? 3 : 0), proj == "keep" ? 3 : 0);
      EXPECT_EQ(net.find("layer2.0.downsample.0") >= 0, proj == "keep");
      EXPECT_CONTAINS(net.name(), "plain18-projections_" + proj);
    }
  }
  // The shuffle options reach plain18 like the ResNets.
  const Network per_block = build("plain18", Method::kPalQuant, [](NetworkRequest& r) {
    r.method.channel_shuffle = ShuffleMode::kPerBlock;
    r.method.cyclic_shuffle = false;
  });
  EXPECT_EQ(count_op(per_block, "channel_shuffle"), 8);
  EXPECT_EQ(count_op(per_block, "cyclic_permute"), 0);
}

// --- BitOps -------------------------------------------------------------------

TEST(BitOpsPlain18, KeepingTheProjectionsGivesResNet18sBitOps) {
  auto bitops = [](const std::string& network, Method m, const std::string& proj) {
    const Network net = build(network, m, [&](NetworkRequest& r) {
      if (network == "plain18") r.projections = proj;
    });
    const MethodOptions mo = [&] {
      MethodOptions o;
      o.method = m;
      o.G = 2;
      return o;
    }();
    return std::make_pair(count_bitops(net, mo.bitops_w_bits(), mo.bitops_a_bits()), net);
  };
  for (Method m : {Method::kLsq, Method::kPalQuant}) {
    const auto [resnet, rn] = bitops("resnet18", m, "");
    const auto [keep, kn] = bitops("plain18", m, "keep");
    const auto [drop, dn] = bitops("plain18", m, "drop");
    // keep: the same MACs as ResNet-18 (additions count 0 under the rule).
    EXPECT_EQ(keep.macs, resnet.macs);
    EXPECT_EQ(keep.bitops_g, resnet.bitops_g);
    // drop: less by exactly the projections (1x1 conv + BN) of the three downsampling blocks.
    int64_t projections = 0;
    for (int i = 0; i < rn.size(); ++i) {
      if (rn.layer(i).name.find("downsample") != std::string::npos)
        projections += layer_macs(rn, i);
    }
    EXPECT_GT(projections, 0);
    EXPECT_EQ(drop.macs, resnet.macs - projections);
  }
  // The figures the rule gives (docs/method.md §4 and the supplementary's Table 2).
  EXPECT_DOUBLE_EQ(bitops("plain18", Method::kLsq, "keep").first.bitops_g, 29.10);
  EXPECT_DOUBLE_EQ(bitops("plain18", Method::kPalQuant, "keep").first.bitops_g, 14.87);
  EXPECT_DOUBLE_EQ(bitops("plain18", Method::kLsq, "drop").first.bitops_g, 28.78);
  EXPECT_DOUBLE_EQ(bitops("plain18", Method::kPalQuant, "drop").first.bitops_g, 14.71);
}

TEST(BitOpsShuffleNet, CyclicModulesAddTheirGroupConvs) {
  const Network base = build("shufflenetv2", Method::kLsq);
  const Network cyc =
      build("shufflenetv2", Method::kLsq, [](NetworkRequest& r) { r.cyclic_groups = 2; });
  // Each module: a C -> C 1x1 conv with 2 groups (C x C/2 x H x W MACs) and its BN (2 per element).
  const int64_t stage3 = 116LL * 58 * 28 * 28 + 2LL * 116 * 28 * 28;
  const int64_t stage4 = 232LL * 116 * 14 * 14 + 2LL * 232 * 14 * 14;
  EXPECT_EQ(count_bitops(cyc, 4, 4).macs - count_bitops(base, 4, 4).macs, stage3 + stage4);
}

// --- lowering ---------------------------------------------------------------------

Network small_shufflenet(Method m, int cyclic = 0) {
  return build("shufflenetv2", m, [=](NetworkRequest& r) {
    r.width = 0.5;
    r.input_size = 16;
    r.stem = "small";
    r.blocks = std::vector<int>{1, 2, 1};
    if (cyclic) r.cyclic_groups = cyclic;
  });
}

const HwOp& op_named(const HwGraph& g, const std::string& name) {
  for (const auto& op : g.ops) {
    if (op.name == name) return op;
  }
  throw std::logic_error("no op " + name);
}

TEST(LoweringSplitConcat, ViewsForSplitsAndConcatPlacesCopiesForTheIdentityHalf) {
  const HwGraph g = build_hw_graph(small_shufflenet(Method::kLsq), LoweringOptions{});
  const auto& T = g.tensors;
  int copies = 0;
  for (const auto& op : g.ops) copies += op.kind == HwOpKind::kCopy;
  EXPECT_EQ(copies, 1);  // the one basic unit (stage3.1); downsampling units copy nothing
  const HwOp& copy = op_named(g, "stage3.1.concat.copy0");
  EXPECT_EQ(copy.kind, HwOpKind::kCopy);
  EXPECT_EQ(to_string(copy.kind), "copy");
  // It reads the first half of the unit's input and writes the even channels of its output.
  const HwTensor& src = T[static_cast<size_t>(copy.input)];
  const HwTensor& dst = T[static_cast<size_t>(copy.output)];
  ASSERT_TRUE(src.is_view());
  EXPECT_EQ(src.view_offset, 0);
  EXPECT_EQ(src.view_stride, 1);
  EXPECT_EQ(src.shape.c, 48);
  ASSERT_TRUE(dst.is_view());
  EXPECT_EQ(dst.view_offset, 0);
  EXPECT_EQ(dst.view_stride, 2);
  // Branch 2 reads the second half in place and writes the odd channels.
  const HwOp& first = op_named(g, "stage3.1.branch2.0");
  const HwTensor& x2 = T[static_cast<size_t>(first.input)];
  ASSERT_TRUE(x2.is_view());
  EXPECT_EQ(x2.view_of, src.view_of);
  EXPECT_EQ(x2.view_offset, 48);
  const HwOp& last = op_named(g, "stage3.1.branch2.5");
  const HwTensor& out = T[static_cast<size_t>(last.output)];
  EXPECT_EQ(out.view_of, dst.view_of);
  EXPECT_EQ(out.view_offset, 1);
  EXPECT_EQ(out.view_stride, 2);
  EXPECT_EQ(T[static_cast<size_t>(dst.view_of)].name, "stage3.1.shuffle");
  // Downsampling unit: branch 1 at even, branch 2 at odd channels of one tensor.
  const HwTensor& b1 = T[static_cast<size_t>(op_named(g, "stage2.0.branch1.2").output)];
  const HwTensor& b2 = T[static_cast<size_t>(op_named(g, "stage2.0.branch2.5").output)];
  EXPECT_EQ(b1.view_of, b2.view_of);
  EXPECT_EQ(b1.view_offset, 0);
  EXPECT_EQ(b2.view_offset, 1);
  // Views have no DRAM space of their own: their owner's address and encoding.
  for (const HwTensor& t : T) {
    if (!t.is_view()) continue;
    EXPECT_EQ(t.dram_bit, T[static_cast<size_t>(t.view_of)].dram_bit);
    EXPECT_EQ(t.bits, T[static_cast<size_t>(t.view_of)].bits);
  }
}

// The reference executor computes concat + shuffle through the views.
TEST(LoweringSplitConcat, ReferenceExecutionIsShuffledConcatenation) {
  for (Method m : {Method::kLsq, Method::kEwgs}) {
    const HwGraph g = build_hw_graph(small_shufflenet(m, 2), LoweringOptions{});
    const IntegerModel model = synthetic_model(g, 7);
    const auto t = reference_execute(g, model);
    const HwOp& copy = op_named(g, "stage3.1.concat.copy0");
    const HwOp& branch = op_named(g, "stage3.1.branch2.5");
    const int unit_in = g.tensors[static_cast<size_t>(copy.input)].view_of;
    const int unit_out = g.tensors[static_cast<size_t>(copy.output)].view_of;
    const auto& x = t.at(unit_in);
    const auto& y = t.at(branch.output);
    const auto& z = t.at(unit_out);
    ASSERT_EQ(z.c(), 96);
    bool varied = false;
    for (int c = 0; c < 48; ++c)
      for (int h = 0; h < z.h(); ++h)
        for (int w = 0; w < z.w(); ++w) {
          EXPECT_EQ(z.at(0, 2 * c, h, w), x.at(0, c, h, w));
          EXPECT_EQ(z.at(0, 2 * c + 1, h, w), y.at(0, c, h, w));
          varied = varied || z.at(0, 2 * c, h, w) != z.at(0, 2 * c + 1, h, w);
        }
    EXPECT_TRUE(varied);
  }
}

TEST(LoweringSplitConcat, ConcatWithoutShuffleStandaloneShuffleAndNestedConcat) {
  Network net("n");
  const int in = net.add("input", InputAttrs{{8, 6, 6}}, {});
  const int c1 = net.add("c1", conv(8, 3, 1), {in});
  const int r1 = net.add("r1", ReluAttrs{}, {c1});
  const int c2 = net.add("c2", conv(4, 1, 1), {r1});
  const int inner = net.add("inner", ConcatAttrs{}, {r1, c2});     // r1 has two readers: copied
  const int outer = net.add("outer", ConcatAttrs{}, {in, inner});  // the graph input: copied
  const int pool = net.add("pool", MaxPoolAttrs{2, 2, 0}, {outer});
  const int sh = net.add("sh", ChannelShuffleAttrs{4}, {pool});  // nothing absorbs it: a copy
  net.add("c3", conv(8, 1, 2), {sh});
  net.infer_shapes();
  const HwGraph g = build_hw_graph(net, LoweringOptions{});
  std::vector<std::string> kinds;
  for (const auto& op : g.ops) kinds.push_back(op.name + ":" + to_string(op.kind));
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"c1:conv", "c2:conv", "inner.copy0:copy", "outer.copy0:copy",
                                      "pool:maxpool", "sh:copy", "c3:conv"}));
  // c2 writes its place in inner, which is itself a place in outer: channels 16..19.
  const HwTensor& c2_out = g.tensors[static_cast<size_t>(op_named(g, "c2").output)];
  EXPECT_EQ(c2_out.view_offset, 16);
  EXPECT_EQ(c2_out.view_stride, 1);
  EXPECT_EQ(g.tensors[static_cast<size_t>(c2_out.view_of)].name, "outer");
  EXPECT_EQ(op_named(g, "sh").out_shuffle_groups, 4);
  // Values: outer = [input, r1, c2]; sh = shuffle(pool(outer)).
  const IntegerModel model = synthetic_model(g, 3);
  const auto t = reference_execute(g, model);
  const auto& x = t.at(g.input_tensor);
  const auto& o = t.at(g.storage_of(c2_out.id));
  const auto& r = t.at(op_named(g, "c1").output);
  for (int c = 0; c < 8; ++c) {
    EXPECT_EQ(o.at(0, c, 2, 3), x.at(0, c, 2, 3));
    EXPECT_EQ(o.at(0, 8 + c, 4, 1), r.at(0, c, 4, 1));
  }
  const auto& p = t.at(op_named(g, "pool").output);
  const auto& s = t.at(op_named(g, "sh").output);
  for (int c = 0; c < 20; ++c) EXPECT_EQ(s.at(0, (c % 5) * 4 + c / 5, 1, 2), p.at(0, c, 1, 2));
  (void)outer;
  (void)inner;
}

TEST(LoweringSplitConcat, ViewsAreNeverOnChipIntermediates) {
  // An op whose output is a concat place, or whose output a split reads, keeps DRAM.
  Network net("n");
  const int in = net.add("input", InputAttrs{{8, 6, 6}}, {});
  const int a = net.add("a", conv(8, 3, 2), {in});
  const int half = net.add("half", SplitAttrs{0, 4}, {a});
  net.add("b", conv(4, 3, 2), {half});
  net.infer_shapes();
  const HwGraph g = build_hw_graph(net, LoweringOptions{});
  ASSERT_EQ(g.ops.size(), 2u);
  EXPECT_TRUE(g.tensors[static_cast<size_t>(g.ops[1].input)].is_view());
  EXPECT_EQ(g.storage_of(g.ops[1].input), g.ops[0].output);
}

TEST(LoweringSplitConcat, ModelValidationRejectsBadViews) {
  HwGraph g = build_hw_graph(small_shufflenet(Method::kLsq), LoweringOptions{});
  const IntegerModel model = synthetic_model(g, 1);
  for (auto& t : g.tensors) {
    if (t.is_view()) {
      t.view_stride = 1000;
      break;
    }
  }
  EXPECT_CONTAINS(input_error_of([&] { validate_model(g, model); }), "bad channel view");
}

}  // namespace
}  // namespace palsim::frontend
