// ResNet builders in every form of docs/method.md §3.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "frontend/builders/method.h"
#include "frontend/builders/registry.h"
#include "frontend/builders/request_fields.h"
#include "frontend/builders/resnet.h"
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

MethodOptions fp() {
  return MethodOptions{};
}
MethodOptions quantized(Method method, int a, int w) {
  MethodOptions m;
  m.method = method;
  m.a_bits = a;
  m.w_bits = w;
  return m;
}
MethodOptions palquant(int B, int G, ShuffleMode shuffle = ShuffleMode::kPerStage,
                       bool cyclic = true, bool permutation = true, int direction = +1) {
  MethodOptions m;
  m.method = Method::kPalQuant;
  m.B = B;
  m.G = G;
  m.channel_shuffle = shuffle;
  m.cyclic_shuffle = cyclic;
  m.cyclic_permutation = permutation;
  m.permute_direction = direction;
  return m;
}

Network build(int depth, const MethodOptions& m) {
  return build_resnet("net", resnet_options_for_depth(depth), m);
}

std::vector<int> blocks_of(int depth) {
  return depth == 18 ? std::vector<int>{2, 2, 2, 2} : std::vector<int>{3, 4, 6, 3};
}

const Layer& at(const Network& net, const std::string& name) {
  const int i = net.find(name);
  EXPECT_GE(i, 0) << "no layer " << name;
  return net.layer(i < 0 ? 0 : i);
}

std::set<std::string> names_of_kind(const Network& net, const std::string& op) {
  std::set<std::string> out;
  for (const auto& l : net.layers()) {
    if (l.op() == op) out.insert(l.name);
  }
  return out;
}

// Expected layer count from the architecture: input, 4 stem layers, 7 layers
// per block (+2 for a downsampling shortcut), 3 classifier layers, plus the
// PalQuant channel shuffles and cyclic modules (5 layers, 4 without P).
int expected_layers(const std::vector<int>& blocks, int G, ShuffleMode shuffle, bool cyclic,
                    bool permutation) {
  int n = 1 + 4 + 3;
  int total_blocks = 0;
  for (int b : blocks) total_blocks += b;
  n += 7 * total_blocks + 2 * 3;
  if (G > 1) {
    if (shuffle == ShuffleMode::kPerStage) n += 3;
    if (shuffle == ShuffleMode::kPerBlock) n += total_blocks;
    if (cyclic) n += 3 * (permutation ? 5 : 4);
  }
  return n;
}

// The forms every structural test runs over.
struct Form {
  std::string label;
  MethodOptions method;
};
std::vector<Form> all_forms() {
  MethodOptions bd = quantized(Method::kBitDecomposed, 8, 8);
  bd.slice_bits = 2;
  MethodOptions bd_ewgs = quantized(Method::kBitDecomposed, 4, 6);
  bd_ewgs.slice_bits = 4;
  bd_ewgs.decomposed_quantizer = Quantizer::kUniform;
  return {{"fp", fp()},
          {"lsq44", quantized(Method::kLsq, 4, 4)},
          {"lsq86", quantized(Method::kLsq, 8, 6)},
          {"ewgs33", quantized(Method::kEwgs, 3, 3)},
          {"bitdecomposed-lsq88s2", bd},
          {"bitdecomposed-ewgs46s4", bd_ewgs},
          {"palquant-b2g1", palquant(2, 1)},
          {"palquant-b2g2", palquant(2, 2)},
          {"palquant-b3g3", palquant(3, 3)},
          {"palquant-b2g4", palquant(2, 4)},
          {"palquant-b4g2-perblock", palquant(4, 2, ShuffleMode::kPerBlock)},
          {"palquant-b2g2-noshuffle", palquant(2, 2, ShuffleMode::kNone)},
          {"palquant-b2g2-nocyclic", palquant(2, 2, ShuffleMode::kPerStage, false)},
          {"palquant-b2g2-noperm", palquant(2, 2, ShuffleMode::kPerStage, true, false)},
          {"palquant-b2g4-reference", palquant(2, 4, ShuffleMode::kPerStage, true, true, -1)}};
}

QuantSpec expected_body_quant(const MethodOptions& m) {
  switch (m.method) {
    case Method::kFp:
      return QuantSpec{};
    case Method::kLsq:
      return QuantSpec{Quantizer::kLsq, m.w_bits, m.a_bits, 0};
    case Method::kEwgs:
      return QuantSpec{Quantizer::kUniform, m.w_bits, m.a_bits, 0};
    case Method::kBitDecomposed:
      return QuantSpec{m.decomposed_quantizer, m.w_bits, m.a_bits, m.slice_bits};
    case Method::kPalQuant:
      return QuantSpec{Quantizer::kUniform, m.B, m.B, 0};
  }
  return QuantSpec{};
}

void check_structure(int depth, const Form& form) {
  SCOPED_TRACE("resnet" + std::to_string(depth) + " " + form.label);
  const MethodOptions& m = form.method;
  const bool pal = m.method == Method::kPalQuant;
  const int G = pal ? m.G : 1;
  const std::vector<int> blocks = blocks_of(depth);
  const Network net = build(depth, m);

  EXPECT_EQ(net.size(), expected_layers(blocks, G, pal ? m.channel_shuffle : ShuffleMode::kNone,
                                        pal && m.cyclic_shuffle, m.cyclic_permutation));

  // Stem: 7x7/2 conv 3 -> 64G, full precision, not grouped; BN, ReLU, 3x3/2 max pool.
  const Layer& stem = at(net, "conv1");
  ASSERT_TRUE(stem.is<ConvAttrs>());
  const auto& sa = stem.as<ConvAttrs>();
  EXPECT_EQ(stem.role, LayerRole::kStem);
  EXPECT_EQ(sa.out_channels, 64 * G);
  EXPECT_EQ(sa.kernel_h, 7);
  EXPECT_EQ(sa.stride_h, 2);
  EXPECT_EQ(sa.pad_h, 3);
  EXPECT_EQ(sa.groups, 1);
  EXPECT_FALSE(sa.quant.quantized());
  for (const char* s : {"bn1", "relu", "maxpool"})
    EXPECT_EQ(at(net, s).role, LayerRole::kStem) << s;
  EXPECT_EQ(at(net, "maxpool").out, (Shape{64 * G, 56, 56}));

  // Classifier: global average pool, flatten, full-precision FC 512G -> 1000.
  const Layer& fc = net.layer(net.output());
  ASSERT_TRUE(fc.is<FcAttrs>());
  EXPECT_EQ(fc.name, "fc");
  EXPECT_EQ(fc.role, LayerRole::kClassifier);
  EXPECT_FALSE(fc.as<FcAttrs>().quant.quantized());
  EXPECT_EQ(fc.as<FcAttrs>().out_features, 1000);
  EXPECT_EQ(net.layer(fc.inputs[0]).out, (Shape{512 * G, 1, 1}));
  EXPECT_EQ(at(net, "avgpool").role, LayerRole::kClassifier);
  EXPECT_TRUE(at(net, "avgpool").is<GlobalAvgPoolAttrs>());
  EXPECT_EQ(at(net, "flatten").role, LayerRole::kClassifier);
  EXPECT_EQ(fc.out, (Shape{1000, 1, 1}));

  // Every body conv: groups = G and the body quantization; roles elsewhere are body.
  int convs = 0;
  for (const auto& l : net.layers()) {
    if (l.name == "input") continue;
    const bool stem_layer =
        l.name == "conv1" || l.name == "bn1" || l.name == "relu" || l.name == "maxpool";
    const bool head = l.name == "avgpool" || l.name == "flatten" || l.name == "fc";
    if (!stem_layer && !head) {
      EXPECT_EQ(l.role, LayerRole::kBody) << l.name;
    }
    if (!l.is<ConvAttrs>() || l.role != LayerRole::kBody) continue;
    ++convs;
    EXPECT_EQ(l.as<ConvAttrs>().groups, G) << l.name;
    EXPECT_EQ(l.as<ConvAttrs>().quant, expected_body_quant(m)) << l.name;
    EXPECT_FALSE(l.as<ConvAttrs>().bias) << l.name;
  }
  int total_blocks = 0;
  for (int b : blocks) total_blocks += b;
  EXPECT_EQ(convs, 2 * total_blocks + 3 + ((pal && G > 1 && m.cyclic_shuffle) ? 3 : 0));

  // Channel widths and spatial sizes per stage.
  const int sizes[] = {56, 28, 14, 7};
  for (int s = 0; s < 4; ++s) {
    const int planes = 64 * (1 << s) * G;
    for (int k = 0; k < blocks[static_cast<size_t>(s)]; ++k) {
      const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(k);
      SCOPED_TRACE(p);
      const Layer& c1 = at(net, p + ".conv1");
      const Layer& c2 = at(net, p + ".conv2");
      EXPECT_EQ(c1.as<ConvAttrs>().out_channels, planes);
      EXPECT_EQ(c1.as<ConvAttrs>().kernel_h, 3);
      EXPECT_EQ(c1.as<ConvAttrs>().stride_h, (s > 0 && k == 0) ? 2 : 1);
      EXPECT_EQ(c2.as<ConvAttrs>().stride_h, 1);
      EXPECT_EQ(c2.out, (Shape{planes, sizes[s], sizes[s]}));
      EXPECT_TRUE(at(net, p + ".add").is<AddAttrs>());
      EXPECT_TRUE(at(net, p + ".relu2").is<ReluAttrs>());
      // Downsample shortcut: first block of stages 2-4 only: 1x1 stride-2 group conv + BN.
      const bool down = s > 0 && k == 0;
      EXPECT_EQ(net.find(p + ".downsample.0") >= 0, down);
      if (down) {
        const Layer& d = at(net, p + ".downsample.0");
        const auto& da = d.as<ConvAttrs>();
        EXPECT_EQ(da.kernel_h, 1);
        EXPECT_EQ(da.kernel_w, 1);
        EXPECT_EQ(da.stride_h, 2);
        EXPECT_EQ(da.pad_h, 0);
        EXPECT_EQ(da.groups, G);
        EXPECT_EQ(da.out_channels, planes);
        const Layer& dbn = at(net, p + ".downsample.1");
        EXPECT_TRUE(dbn.is<BatchNormAttrs>());
        EXPECT_EQ(dbn.inputs, std::vector<int>{net.find(p + ".downsample.0")});
        EXPECT_EQ(at(net, p + ".add").inputs[1], net.find(p + ".downsample.1"));
      }
    }
  }
}

TEST(BuilderResNet, StructureOfEveryFormResNet18) {
  for (const auto& f : all_forms()) check_structure(18, f);
}

TEST(BuilderResNet, StructureOfEveryFormResNet34) {
  for (const auto& f : all_forms()) check_structure(34, f);
}

TEST(BuilderResNet, LayerCountsByHand) {
  EXPECT_EQ(build(18, fp()).size(), 70);
  EXPECT_EQ(build(34, fp()).size(), 126);
  EXPECT_EQ(build(18, palquant(2, 2)).size(), 70 + 3 + 15);
  EXPECT_EQ(build(18, palquant(2, 2, ShuffleMode::kPerBlock)).size(), 70 + 8 + 15);
  EXPECT_EQ(build(34, palquant(2, 2, ShuffleMode::kPerBlock)).size(), 126 + 16 + 15);
  EXPECT_EQ(build(18, palquant(2, 1)).size(), 70);
}

TEST(BuilderResNet, ChannelShufflePerStageOnlyInFirstBlockOfStages2To4) {
  for (int depth : {18, 34}) {
    for (int G : {2, 3, 4}) {
      const Network net = build(depth, palquant(2, G));
      EXPECT_EQ(
          names_of_kind(net, "channel_shuffle"),
          (std::set<std::string>{"layer2.0.shuffle", "layer3.0.shuffle", "layer4.0.shuffle"}));
      for (int s = 2; s <= 4; ++s) {
        const std::string p = "layer" + std::to_string(s) + ".0";
        const Layer& sh = at(net, p + ".shuffle");
        EXPECT_EQ(sh.as<ChannelShuffleAttrs>().groups, G);
        // At the end of the residual branch: after bn2, before the addition.
        EXPECT_EQ(sh.inputs, std::vector<int>{net.find(p + ".bn2")});
        EXPECT_EQ(at(net, p + ".add").inputs[0], net.find(p + ".shuffle"));
      }
    }
  }
}

TEST(BuilderResNet, ChannelShufflePerBlockInEveryBlock) {
  const Network net = build(34, palquant(2, 2, ShuffleMode::kPerBlock));
  std::set<std::string> expected;
  const std::vector<int> blocks = blocks_of(34);
  for (int s = 0; s < 4; ++s) {
    for (int k = 0; k < blocks[static_cast<size_t>(s)]; ++k) {
      expected.insert("layer" + std::to_string(s + 1) + "." + std::to_string(k) + ".shuffle");
    }
  }
  EXPECT_EQ(names_of_kind(net, "channel_shuffle"), expected);
}

TEST(BuilderResNet, NoChannelShuffleForG1OrModeNone) {
  EXPECT_TRUE(names_of_kind(build(18, palquant(2, 1)), "channel_shuffle").empty());
  EXPECT_TRUE(
      names_of_kind(build(18, palquant(2, 1, ShuffleMode::kPerBlock)), "channel_shuffle").empty());
  EXPECT_TRUE(
      names_of_kind(build(18, palquant(2, 4, ShuffleMode::kNone)), "channel_shuffle").empty());
  EXPECT_TRUE(names_of_kind(build(18, quantized(Method::kLsq, 4, 4)), "channel_shuffle").empty());
}

void check_cyclic_modules(const Network& net, int G, bool permutation, int direction) {
  const int prev_channels[] = {0, 64, 128, 256};
  for (int s = 2; s <= 4; ++s) {
    const std::string p = "shuffle" + std::to_string(s);
    SCOPED_TRACE(p);
    // Input X: the last relu of the previous stage.
    const int x = net.find("layer" + std::to_string(s) + ".0.conv1") - (permutation ? 6 : 5);
    ASSERT_GE(x, 0);
    const Layer& X = net.layer(x);
    EXPECT_TRUE(X.is<ReluAttrs>());
    EXPECT_EQ(X.name.substr(X.name.size() - 6), ".relu2");
    EXPECT_EQ(X.name.substr(0, 6), "layer" + std::to_string(s - 1));
    const int C = prev_channels[s - 1] * G;
    // P(X), then a B-bit 1x1 group conv C -> C, BN, ReLU, then Z = X + that.
    int conv_input = x;
    if (permutation) {
      const Layer& perm = at(net, p + ".permute");
      EXPECT_EQ(perm.as<CyclicPermuteAttrs>().groups, G);
      EXPECT_EQ(perm.as<CyclicPermuteAttrs>().direction, direction);
      EXPECT_EQ(perm.inputs, std::vector<int>{x});
      conv_input = net.find(p + ".permute");
    } else {
      EXPECT_EQ(net.find(p + ".permute"), -1);
    }
    const Layer& conv = at(net, p + ".conv1.0");
    const auto& ca = conv.as<ConvAttrs>();
    EXPECT_EQ(conv.inputs, std::vector<int>{conv_input});
    EXPECT_EQ(ca.kernel_h, 1);
    EXPECT_EQ(ca.stride_h, 1);
    EXPECT_EQ(ca.groups, G);
    EXPECT_EQ(ca.out_channels, C);
    EXPECT_EQ(conv.out.c, C);
    EXPECT_TRUE(ca.quant.quantized());
    EXPECT_TRUE(at(net, p + ".conv1.1").is<BatchNormAttrs>());
    EXPECT_TRUE(at(net, p + ".conv1.2").is<ReluAttrs>());
    const int add = net.find(p + ".add");
    ASSERT_GE(add, 0);
    EXPECT_EQ(net.layer(add).inputs, (std::vector<int>{net.find(p + ".conv1.2"), x}));
    // No ReLU after the addition: it feeds the next stage's convolutions directly.
    const std::vector<int> readers = net.consumers(add);
    ASSERT_EQ(readers.size(), 2u);
    for (int r : readers) {
      EXPECT_TRUE(net.layer(r).is<ConvAttrs>()) << net.layer(r).name;
    }
    EXPECT_EQ(net.layer(readers[0]).name, "layer" + std::to_string(s) + ".0.conv1");
    EXPECT_EQ(net.layer(readers[1]).name, "layer" + std::to_string(s) + ".0.downsample.0");
  }
  // No module before stage 1.
  EXPECT_EQ(net.find("shuffle1.add"), -1);
  EXPECT_EQ(net.find("shuffle1.conv1.0"), -1);
}

TEST(BuilderResNet, CyclicShuffleModulesBeforeStages2To4) {
  for (int G : {2, 3, 4}) {
    for (int direction : {+1, -1}) {
      SCOPED_TRACE("G=" + std::to_string(G) + " direction=" + std::to_string(direction));
      check_cyclic_modules(build(18, palquant(2, G, ShuffleMode::kPerStage, true, true, direction)),
                           G, true, direction);
      check_cyclic_modules(build(34, palquant(2, G, ShuffleMode::kPerStage, true, true, direction)),
                           G, true, direction);
    }
    SCOPED_TRACE("without the permutation, G=" + std::to_string(G));
    const Network net = build(18, palquant(2, G, ShuffleMode::kPerStage, true, false));
    check_cyclic_modules(net, G, false, +1);
    EXPECT_TRUE(names_of_kind(net, "cyclic_permute").empty());
  }
}

TEST(BuilderResNet, NoCyclicModulesForG1OrWhenDisabled) {
  for (const MethodOptions& m : {palquant(2, 1), palquant(2, 4, ShuffleMode::kPerStage, false),
                                 quantized(Method::kEwgs, 2, 2), fp()}) {
    const Network net = build(18, m);
    EXPECT_TRUE(names_of_kind(net, "cyclic_permute").empty());
    for (const auto& l : net.layers()) EXPECT_NE(l.name.substr(0, 7), "shuffle") << l.name;
  }
}

TEST(BuilderResNet, PlainDropsTheResidualAdditions) {
  ResNetOptions o = resnet_options_for_depth(18);
  o.plain = true;
  o.plain_projections = PlainProjections::kDrop;
  const Network net = build_resnet("plain18", o, quantized(Method::kLsq, 4, 4));
  EXPECT_TRUE(names_of_kind(net, "add").empty());
  EXPECT_EQ(net.find("layer2.0.downsample.0"), -1);
  EXPECT_EQ(net.layer(net.output()).out, (Shape{1000, 1, 1}));
}

TEST(BuilderResNet, PlainKeepsOnlyTheProjectionShortcuts) {
  ResNetOptions o = resnet_options_for_depth(18);
  o.plain = true;  // kKeep is the default
  const Network net = build_resnet("plain18", o, quantized(Method::kLsq, 4, 4));
  EXPECT_EQ(names_of_kind(net, "add"),
            (std::set<std::string>{"layer2.0.add", "layer3.0.add", "layer4.0.add"}));
  EXPECT_GE(net.find("layer2.0.downsample.0"), 0);
  EXPECT_EQ(net.find("layer1.0.add"), -1);
  EXPECT_EQ(net.find("layer2.1.add"), -1);
  EXPECT_EQ(to_string(PlainProjections::kKeep), "keep");
  EXPECT_EQ(parse_plain_projections("drop"), PlainProjections::kDrop);
  EXPECT_CONTAINS(input_error_of([] { parse_plain_projections("maybe"); }), "--projections");
}

TEST(BuilderResNet, SmallInputVariantsBuildAndInferShapes) {
  ResNetOptions o = resnet_options_for_depth(18);
  o.input = {1, 28, 28};
  o.stem = StemKind::kSmall;
  o.base_width = 16;
  o.blocks = {1, 1, 1, 1};
  o.classes = 10;
  for (const auto& f : all_forms()) {
    SCOPED_TRACE(f.label);
    const Network net = build_resnet("small", o, f.method);
    const int G = f.method.method == Method::kPalQuant ? f.method.G : 1;
    const Layer& stem = at(net, "conv1");
    EXPECT_EQ(stem.as<ConvAttrs>().kernel_h, 3);
    EXPECT_EQ(stem.as<ConvAttrs>().stride_h, 1);
    EXPECT_EQ(stem.out, (Shape{16 * G, 28, 28}));
    EXPECT_EQ(stem.role, LayerRole::kStem);
    EXPECT_EQ(net.find("maxpool"), -1);
    EXPECT_EQ(at(net, "layer1.0.relu2").out, (Shape{16 * G, 28, 28}));
    EXPECT_EQ(at(net, "layer2.0.relu2").out, (Shape{32 * G, 14, 14}));
    EXPECT_EQ(at(net, "layer3.0.relu2").out, (Shape{64 * G, 7, 7}));
    EXPECT_EQ(at(net, "layer4.0.relu2").out, (Shape{128 * G, 4, 4}));
    EXPECT_EQ(net.layer(net.output()).out, (Shape{10, 1, 1}));
  }
}

TEST(BuilderResNet, SmallVariantThroughTheRegistry) {
  NetworkRequest r;
  r.network = "resnet34";
  r.method = palquant(2, 2);
  r.input_size = 28;
  r.input_channels = 1;
  r.classes = 10;
  r.base_width = 16;
  r.stem = "small";
  r.blocks = std::vector<int>{1, 1, 1, 1};
  const Network net = resolve_network(r);
  EXPECT_EQ(net.layer(0).out, (Shape{1, 28, 28}));
  EXPECT_EQ(at(net, "layer4.0.conv2").out, (Shape{256, 4, 4}));
  EXPECT_EQ(net.find("layer1.1.conv1"), -1);
  EXPECT_EQ(net.name(), "resnet34-palquant-b2g2");
  r.stem = "tiny";
  EXPECT_CONTAINS(input_error_of([&] { resolve_network(r); }), "--stem");
}

TEST(BuilderResNet, GroupsDivideEveryLayerForEveryAllowedG) {
  // Channels are 64G..512G, so G always divides them; every G from 1 to 16 builds.
  for (int G = 1; G <= 16; ++G) {
    const Network net = build(18, palquant(2, G));
    for (const auto& l : net.layers()) {
      if (l.is<ConvAttrs>()) {
        EXPECT_EQ(net.layer(l.inputs[0]).out.c % l.as<ConvAttrs>().groups, 0) << l.name;
      }
    }
  }
}

TEST(BuilderErrors, BadGNamesTheOption) {
  for (int G : {0, -1, 17}) {
    const std::string m = input_error_of([&] { build(18, palquant(2, G)); });
    EXPECT_CONTAINS(m, "--G");
  }
}

TEST(BuilderErrors, BadBitsNameTheOption) {
  EXPECT_CONTAINS(input_error_of([] { build(18, palquant(1, 2)); }), "--B");
  EXPECT_CONTAINS(input_error_of([] { build(18, palquant(9, 2)); }), "--B");
  EXPECT_CONTAINS(input_error_of([] { build(18, quantized(Method::kLsq, 9, 4)); }), "--abits");
  EXPECT_CONTAINS(input_error_of([] { build(18, quantized(Method::kEwgs, 4, 1)); }), "--wbits");
  MethodOptions bd = quantized(Method::kBitDecomposed, 4, 4);
  bd.slice_bits = 3;
  EXPECT_CONTAINS(input_error_of([&] { build(18, bd); }), "--slice-bits");
  bd.slice_bits = 2;
  bd.decomposed_quantizer = Quantizer::kNone;
  EXPECT_CONTAINS(input_error_of([&] { build(18, bd); }), "--quantizer");
  MethodOptions p = palquant(2, 2);
  p.permute_direction = 0;
  EXPECT_CONTAINS(input_error_of([&] { build(18, p); }), "--permute-direction");
}

TEST(BuilderErrors, BadResNetOptions) {
  ResNetOptions o = resnet_options_for_depth(18);
  o.blocks = {2, 2, 2};
  EXPECT_CONTAINS(input_error_of([&] { build_resnet("x", o, fp()); }), "4 stages");
  o.blocks = {2, 0, 2, 2};
  EXPECT_CONTAINS(input_error_of([&] { build_resnet("x", o, fp()); }), "at least one block");
  o = resnet_options_for_depth(18);
  o.base_width = 0;
  EXPECT_CONTAINS(input_error_of([&] { build_resnet("x", o, fp()); }), "--base-width");
  o = resnet_options_for_depth(18);
  o.classes = 0;
  EXPECT_CONTAINS(input_error_of([&] { build_resnet("x", o, fp()); }), "--classes");
  o = resnet_options_for_depth(18);
  o.input = {0, 224, 224};  // a shape error names the layer
  EXPECT_CONTAINS(input_error_of([&] { build_resnet("x", o, fp()); }), "layer 'input'");
  EXPECT_CONTAINS(input_error_of([] { resnet_options_for_depth(50); }), "18 or 34");
}

TEST(BuilderMethod, ParseAndLabels) {
  EXPECT_EQ(parse_method("palquant"), Method::kPalQuant);
  EXPECT_EQ(parse_method("bitdecomposed"), Method::kBitDecomposed);
  EXPECT_EQ(parse_method("fp"), Method::kFp);
  EXPECT_CONTAINS(input_error_of([] { parse_method("dorefa"); }), "--method");
  EXPECT_EQ(parse_shuffle_mode("per_block"), ShuffleMode::kPerBlock);
  EXPECT_CONTAINS(input_error_of([] { parse_shuffle_mode("sometimes"); }), "--channel-shuffle");
  EXPECT_EQ(fp().label(), "fp");
  EXPECT_EQ(quantized(Method::kLsq, 4, 4).label(), "lsq-a4w4");
  EXPECT_EQ(quantized(Method::kEwgs, 6, 8).label(), "ewgs-a6w8");
  EXPECT_EQ(palquant(2, 2).label(), "palquant-b2g2");
  EXPECT_EQ(palquant(2, 1, ShuffleMode::kNone, false).label(), "palquant-b2g1");
  EXPECT_EQ(palquant(2, 2, ShuffleMode::kPerBlock).label(), "palquant-b2g2-shuffle_per_block");
  EXPECT_EQ(palquant(2, 2, ShuffleMode::kPerStage, true, false).label(), "palquant-b2g2-noperm");
  EXPECT_EQ(palquant(2, 2, ShuffleMode::kPerStage, false).label(), "palquant-b2g2-nocyclic");
  EXPECT_EQ(palquant(2, 2, ShuffleMode::kPerStage, true, true, -1).label(),
            "palquant-b2g2-refperm");
  EXPECT_EQ(palquant(3, 2).bitops_w_bits(), 3);
  EXPECT_EQ(quantized(Method::kLsq, 4, 6).bitops_w_bits(), 6);
  EXPECT_EQ(quantized(Method::kLsq, 4, 6).bitops_a_bits(), 4);
  EXPECT_EQ(fp().bitops_a_bits(), 32);
  EXPECT_EQ(palquant(2, 3).width_multiplier(), 3);
  EXPECT_EQ(quantized(Method::kLsq, 4, 4).groups(), 1);
}

TEST(BuilderRegistry, BuiltinsAndFiles) {
  EXPECT_EQ(builtin_networks(),
            (std::vector<std::string>{"resnet18", "resnet34", "plain18", "shufflenetv2"}));
  EXPECT_TRUE(is_builtin_network("resnet34"));
  EXPECT_FALSE(is_builtin_network("resnet50"));
  NetworkRequest r;
  r.network = "resnet50";
  EXPECT_CONTAINS(input_error_of([&] { resolve_network(r); }), "resnet50");
  r.network = std::string(PALSIM_SOURCE_DIR) + "/workloads/examples/tiny.yaml";
  const Network tiny = resolve_network(r);
  EXPECT_EQ(tiny.name(), "tiny-cnn-lsq-a4w4");
  r.method_given = true;
  EXPECT_CONTAINS(input_error_of([&] { resolve_network(r); }), "--method");
  r.method_given = false;
  r.classes = 10;
  EXPECT_CONTAINS(input_error_of([&] { resolve_network(r); }), "builder options");
  NetworkRequest missing;
  missing.network = "no/such/net.yaml";
  EXPECT_CONTAINS(input_error_of([&] { resolve_network(missing); }), "no/such/net.yaml");
}

// One row per field, keys and options distinct, and the library's own check
// reports the field (so a sweep or a training configuration can point at its
// key's line) with the option in what() for the command line.
TEST(RequestFields, OneRowPerFieldAndErrorsNameTheField) {
  std::set<std::string> keys, flags;
  for (const auto& f : request_fields()) {
    EXPECT_TRUE(keys.insert(f.key).second) << f.key;
    EXPECT_TRUE(flags.insert(f.flag).second) << f.flag;
    EXPECT_LE(f.min, f.max) << f.key;
    EXPECT_EQ(&field_info(f.id), &f);
  }
  MethodOptions m;
  m.method = Method::kPalQuant;
  m.G = field_info(RequestField::kG).max + 1;
  try {
    m.validate();
    ADD_FAILURE() << "G over the range accepted";
  } catch (const RequestFieldError& e) {
    EXPECT_EQ(e.field(), RequestField::kG);
    EXPECT_EQ(e.problem(), "must be between 1 and 16, got 17");
    EXPECT_STREQ(e.what(), "--G: must be between 1 and 16, got 17");
  }
  m.G = field_info(RequestField::kG).max;
  EXPECT_NO_THROW(m.validate());
  EXPECT_EQ(range_text(RequestField::kABits), "2..8");
}

}  // namespace
}  // namespace palsim::frontend
