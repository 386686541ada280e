// The YAML network format: round trips of every built-in form, the shipped
// example files, and errors that name file, line and key.
#include "frontend/ir/network_yaml.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "common/error.h"
#include "frontend/bitops.h"
#include "frontend/builders/method.h"
#include "frontend/builders/resnet.h"

namespace palsim::frontend {
namespace {

const std::string kSource = PALSIM_SOURCE_DIR;
const std::string kData = kSource + "/tests/data/networks/";

// Checks that `text` contains `part` (each argument evaluated once).
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}
#define EXPECT_CONTAINS(text, part) EXPECT_TRUE(Contains((text), (part)))

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Line (1-based) of the first line of `path` containing `marker`, or 0.
int marked_line(const std::string& path, const std::string& marker = "# ERROR") {
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(marker) != std::string::npos) return n;
  }
  return 0;
}

bool quant_equal(const QuantSpec& a, const QuantSpec& b) {
  return a == b;
}

// Attribute equality per layer kind (written out, not via the serializer).
bool attrs_equal(const LayerAttrs& x, const LayerAttrs& y) {
  if (x.index() != y.index()) return false;
  if (auto* a = std::get_if<InputAttrs>(&x)) return a->shape == std::get<InputAttrs>(y).shape;
  if (auto* a = std::get_if<ConvAttrs>(&x)) {
    const auto& b = std::get<ConvAttrs>(y);
    return a->out_channels == b.out_channels && a->kernel_h == b.kernel_h &&
           a->kernel_w == b.kernel_w && a->stride_h == b.stride_h && a->stride_w == b.stride_w &&
           a->pad_h == b.pad_h && a->pad_w == b.pad_w && a->dilation_h == b.dilation_h &&
           a->dilation_w == b.dilation_w && a->groups == b.groups && a->bias == b.bias &&
           quant_equal(a->quant, b.quant);
  }
  if (auto* a = std::get_if<ClipAttrs>(&x)) {
    const auto& b = std::get<ClipAttrs>(y);
    return a->min == b.min && a->max == b.max;
  }
  if (auto* a = std::get_if<MaxPoolAttrs>(&x)) {
    const auto& b = std::get<MaxPoolAttrs>(y);
    return a->kernel == b.kernel && a->stride == b.stride && a->pad == b.pad;
  }
  if (auto* a = std::get_if<AvgPoolAttrs>(&x)) {
    const auto& b = std::get<AvgPoolAttrs>(y);
    return a->kernel == b.kernel && a->stride == b.stride && a->pad == b.pad;
  }
  if (auto* a = std::get_if<ChannelShuffleAttrs>(&x))
    return a->groups == std::get<ChannelShuffleAttrs>(y).groups;
  if (auto* a = std::get_if<CyclicPermuteAttrs>(&x)) {
    const auto& b = std::get<CyclicPermuteAttrs>(y);
    return a->groups == b.groups && a->direction == b.direction;
  }
  if (auto* a = std::get_if<FcAttrs>(&x)) {
    const auto& b = std::get<FcAttrs>(y);
    return a->out_features == b.out_features && a->bias == b.bias && quant_equal(a->quant, b.quant);
  }
  return true;  // kinds without attributes
}

void expect_same_network(const Network& a, const Network& b) {
  EXPECT_EQ(a.name(), b.name());
  ASSERT_EQ(a.size(), b.size());
  for (int i = 0; i < a.size(); ++i) {
    const Layer& x = a.layer(i);
    const Layer& y = b.layer(i);
    SCOPED_TRACE(x.name);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op(), y.op());
    EXPECT_TRUE(attrs_equal(x.attrs, y.attrs));
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.role, y.role);
    EXPECT_EQ(x.out, y.out);
  }
}

struct Form {
  int depth;
  MethodOptions method;
};

std::vector<Form> builtin_forms() {
  std::vector<Form> forms;
  for (int depth : {18, 34}) {
    MethodOptions m;
    forms.push_back({depth, m});  // fp
    for (Method q : {Method::kLsq, Method::kEwgs, Method::kBitDecomposed}) {
      for (int bits : {2, 4, 8}) {
        m = MethodOptions{};
        m.method = q;
        m.a_bits = bits;
        m.w_bits = bits == 8 ? 6 : bits;
        forms.push_back({depth, m});
      }
    }
    m = MethodOptions{};
    m.method = Method::kBitDecomposed;
    m.decomposed_quantizer = Quantizer::kUniform;
    m.slice_bits = 1;
    forms.push_back({depth, m});
    for (int G : {1, 2, 3, 4}) {
      m = MethodOptions{};
      m.method = Method::kPalQuant;
      m.B = G == 3 ? 3 : 2;
      m.G = G;
      forms.push_back({depth, m});
    }
    m.G = 2;
    m.channel_shuffle = ShuffleMode::kPerBlock;
    forms.push_back({depth, m});
    m.channel_shuffle = ShuffleMode::kNone;
    m.cyclic_permutation = false;
    forms.push_back({depth, m});
    m.cyclic_shuffle = false;
    forms.push_back({depth, m});
    m = MethodOptions{};
    m.method = Method::kPalQuant;
    m.G = 4;
    m.permute_direction = -1;
    forms.push_back({depth, m});
  }
  return forms;
}

TEST(NetworkYamlRoundTrip, EveryBuiltinForm) {
  for (const Form& f : builtin_forms()) {
    const std::string name = "resnet" + std::to_string(f.depth) + "-" + f.method.label();
    SCOPED_TRACE(name);
    const Network built = build_resnet(name, resnet_options_for_depth(f.depth), f.method);
    const std::string yaml = network_to_yaml(built);
    const Network parsed = parse_network_yaml(yaml, name + ".yaml");
    expect_same_network(built, parsed);
    // Same BitOps, and a second trip gives the same text.
    const BitOpsReport a = count_bitops(built, f.method.bitops_w_bits(), f.method.bitops_a_bits());
    const BitOpsReport b = count_bitops(parsed, f.method.bitops_w_bits(), f.method.bitops_a_bits());
    EXPECT_EQ(a.macs, b.macs);
    EXPECT_EQ(a.bitops_g, b.bitops_g);
    ASSERT_EQ(a.layers.size(), b.layers.size());
    for (size_t i = 0; i < a.layers.size(); ++i) {
      EXPECT_EQ(a.layers[i].name, b.layers[i].name);
      EXPECT_EQ(a.layers[i].macs, b.layers[i].macs);
      EXPECT_EQ(a.layers[i].slice_products, b.layers[i].slice_products);
    }
    EXPECT_EQ(network_to_yaml(parsed), yaml);
  }
}

TEST(NetworkYamlRoundTrip, SmallVariantAndPlain) {
  ResNetOptions o = resnet_options_for_depth(18);
  o.input = {1, 28, 28};
  o.stem = StemKind::kSmall;
  o.base_width = 16;
  o.blocks = {1, 1, 1, 1};
  o.classes = 10;
  MethodOptions m;
  m.method = Method::kPalQuant;
  m.G = 3;
  const Network small = build_resnet("small", o, m);
  expect_same_network(small, parse_network_yaml(network_to_yaml(small), "small.yaml"));
  o = resnet_options_for_depth(34);
  o.plain = true;
  const Network plain = build_resnet("plain34", o, MethodOptions{});
  expect_same_network(plain, parse_network_yaml(network_to_yaml(plain), "plain.yaml"));
}

TEST(NetworkYamlRoundTrip, AllOpsFileWithDefaults) {
  const Network net = load_network_yaml(kData + "good_all_ops.yaml");
  EXPECT_EQ(net.name(), "all-ops");
  auto at = [&](const std::string& n) -> const Layer& { return net.layer(net.find(n)); };
  const auto& rect = at("conv_rect").as<ConvAttrs>();
  EXPECT_EQ(rect.kernel_h, 3);
  EXPECT_EQ(rect.kernel_w, 1);
  EXPECT_EQ(rect.stride_h, 2);
  EXPECT_EQ(rect.stride_w, 1);
  EXPECT_EQ(rect.pad_h, 1);
  EXPECT_EQ(rect.pad_w, 0);
  EXPECT_EQ(rect.groups, 1);  // default
  EXPECT_FALSE(rect.bias);    // default for conv
  EXPECT_FALSE(rect.quant.quantized());
  EXPECT_EQ(at("conv_rect").role, LayerRole::kStem);
  EXPECT_EQ(at("conv_rect").out, (Shape{16, 10, 12}));
  EXPECT_EQ(at("bn").inputs, std::vector<int>{net.find("conv_rect")});  // implicit: previous layer
  EXPECT_EQ(at("bn").role, LayerRole::kBody);
  EXPECT_EQ(at("maxpool").out, (Shape{16, 5, 6}));
  const auto& g = at("gconv").as<ConvAttrs>();
  EXPECT_EQ(g.groups, 4);
  EXPECT_TRUE(g.bias);
  EXPECT_EQ(g.quant, (QuantSpec{Quantizer::kUniform, 2, 2, 0}));
  EXPECT_EQ(at("shuffle").as<ChannelShuffleAttrs>().groups, 4);
  EXPECT_EQ(at("permute").as<CyclicPermuteAttrs>().direction, +1);  // default: paper
  EXPECT_EQ(at("permute_ref").as<CyclicPermuteAttrs>().direction, -1);
  EXPECT_EQ(at("pw").inputs, std::vector<int>{net.find("maxpool")});
  EXPECT_EQ(at("pw").as<ConvAttrs>().quant, (QuantSpec{Quantizer::kLsq, 4, 3, 2}));
  const auto& atrous = at("atrous").as<ConvAttrs>();
  EXPECT_EQ(atrous.dilation_h, 2);
  EXPECT_EQ(atrous.dilation_w, 1);
  EXPECT_EQ(at("pw").as<ConvAttrs>().dilation_h, 1);  // default: dense
  EXPECT_EQ(at("atrous").out, (Shape{32, 5, 6}));
  EXPECT_EQ(at("relu6").as<ClipAttrs>().min, 0);
  EXPECT_EQ(at("relu6").as<ClipAttrs>().max, 6);
  EXPECT_EQ(at("add").inputs, (std::vector<int>{net.find("permute_ref"), net.find("relu6")}));
  EXPECT_EQ(at("avgpool").as<AvgPoolAttrs>().stride, 2);  // default: the kernel
  EXPECT_EQ(at("avgpool").out, (Shape{32, 2, 3}));
  EXPECT_EQ(at("gap").out, (Shape{32, 1, 1}));
  EXPECT_EQ(at("gap").role, LayerRole::kClassifier);
  EXPECT_FALSE(at("fc").as<FcAttrs>().bias);
  EXPECT_EQ(at("fc").out, (Shape{7, 1, 1}));
  // And it round-trips.
  expect_same_network(net, parse_network_yaml(network_to_yaml(net), "again.yaml"));
}

TEST(NetworkYamlRoundTrip, OddNamesAreQuoted) {
  Network net("name: with # specials");
  net.add("in put", InputAttrs{{2, 4, 4}}, {});
  net.add("a: b", ReluAttrs{}, {0});
  net.add("#hash", ReluAttrs{}, {1});
  net.add("[x]", AddAttrs{}, {1, 2});
  net.add("true", ReluAttrs{}, {3});
  net.infer_shapes();
  expect_same_network(net, parse_network_yaml(network_to_yaml(net), "odd.yaml"));
}

TEST(NetworkYamlFiles, ShippedWorkloadsMatchTheBuilders) {
  MethodOptions pq;
  pq.method = Method::kPalQuant;
  pq.B = 2;
  pq.G = 2;
  MethodOptions lsq;
  lsq.method = Method::kLsq;
  struct Case {
    const char* file;
    MethodOptions method;
    const char* bitops;
  };
  for (const Case& c : {Case{"resnet18_palquant_b2g2.yaml", pq, "14.87"},
                        Case{"resnet18_lsq_a4w4.yaml", lsq, "29.10"}}) {
    SCOPED_TRACE(c.file);
    const std::string path = kSource + "/workloads/imagenet/" + c.file;
    const Network file = load_network_yaml(path);
    const Network built =
        build_resnet("resnet18-" + c.method.label(), resnet_options_for_depth(18), c.method);
    expect_same_network(built, file);
    EXPECT_EQ(slurp(path),
              network_to_yaml(built));  // regenerate with `palsim network` if this fails
    const BitOpsReport r = count_bitops(file, c.method.bitops_w_bits(), c.method.bitops_a_bits());
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.2f", r.bitops_g);
    EXPECT_STREQ(buf, c.bitops);
  }
}

TEST(NetworkYamlFiles, ExamplesLoad) {
  const Network tiny = load_network_yaml(kSource + "/workloads/examples/tiny.yaml");
  EXPECT_EQ(tiny.layer(tiny.find("block.add")).inputs,
            (std::vector<int>{tiny.find("block.bn2"), tiny.find("relu1")}));
  EXPECT_EQ(tiny.layer(tiny.output()).out, (Shape{10, 1, 1}));
  EXPECT_EQ(count_bitops(tiny, 4, 4).macs, 6463840);
  const Network pq = load_network_yaml(kSource + "/workloads/examples/tiny_palquant.yaml");
  EXPECT_EQ(pq.layer(pq.find("block.add")).out, (Shape{64, 16, 16}));
  // The cyclic module's addition feeds convolutions, not a ReLU.
  for (int r : pq.consumers(pq.find("shuffle.add"))) EXPECT_TRUE(pq.layer(r).is<ConvAttrs>());
}

// ---- errors: file, line and key ----

struct BadFile {
  const char* file;
  const char* key;      // FileError::key(); nullptr: not checked
  const char* message;  // part of what()
};

void expect_file_error(const BadFile& c) {
  SCOPED_TRACE(c.file);
  const std::string path = kData + c.file;
  const int line = marked_line(path);
  ASSERT_GT(line, 0) << "no '# ERROR' marker in " << path;
  try {
    load_network_yaml(path);
    ADD_FAILURE() << "loaded without an error";
  } catch (const FileError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), line) << e.what();
    if (c.key) {
      EXPECT_EQ(e.key(), c.key) << e.what();
    }
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path + ":" + std::to_string(line) + ":", 0), 0u)
        << what;  // FILE:LINE:COL first
    EXPECT_CONTAINS(what, c.message);
  }
}

TEST(NetworkYamlErrors, MalformedYaml) {
  expect_file_error({"bad_malformed.yaml", "", "malformed YAML"});
}
TEST(NetworkYamlErrors, UnknownKey) {
  expect_file_error({"bad_unknown_key.yaml", "layers[1].strid", "unknown key"});
}
TEST(NetworkYamlErrors, WrongType) {
  expect_file_error(
      {"bad_wrong_type.yaml", "layers[1].out_channels", "expected an integer, got 'sixteen'"});
}
TEST(NetworkYamlErrors, MissingField) {
  expect_file_error(
      {"bad_missing_field.yaml", "layers[2].out_channels", "missing required key 'out_channels'"});
}
TEST(NetworkYamlErrors, MissingTopLevelField) {
  expect_file_error({"bad_missing_name.yaml", "name", "missing required key 'name'"});
}
TEST(NetworkYamlErrors, UnknownOp) {
  expect_file_error({"bad_unknown_op.yaml", "layers[1].op", "'conv3d'"});
}
TEST(NetworkYamlErrors, InputNamingALaterLayer) {
  expect_file_error(
      {"bad_input_later.yaml", "layers[2].inputs", "no earlier layer is called 'relu2'"});
}
TEST(NetworkYamlErrors, InputNamingAMissingLayer) {
  expect_file_error({"bad_input_missing.yaml", "layers[2].inputs", "'nosuch'"});
}
TEST(NetworkYamlErrors, DuplicateLayerName) {
  expect_file_error({"bad_duplicate_name.yaml", "layers[3].name", "duplicate layer name 'relu1'"});
}
TEST(NetworkYamlErrors, ShapeMismatchPointsAtTheFailingLayer) {
  expect_file_error({"bad_shape_mismatch.yaml", "layers[4]",
                     "layer 'add1' (add): adds tensors of different shapes"});
}
TEST(NetworkYamlErrors, GroupsNotDividingPointAtTheLayer) {
  expect_file_error({"bad_groups.yaml", "layers[2]", "layer 'gconv' (conv): groups 5"});
}
TEST(NetworkYamlErrors, KernelTooLargePointsAtTheLayer) {
  expect_file_error(
      {"bad_kernel_too_large.yaml", "layers[3]", "layer 'big' (conv): kernel 5 does not fit"});
}
TEST(NetworkYamlErrors, FirstLayerWithoutInput) {
  expect_file_error({"bad_first_not_input.yaml", "layers[0]", "expects 1 input, has 0"});
}
TEST(NetworkYamlErrors, WrongFormatString) {
  expect_file_error({"bad_format.yaml", "format", "unsupported network format 'palsim-network-2'"});
}
TEST(NetworkYamlErrors, QuantBitsOutOfRange) {
  expect_file_error({"bad_quant_bits.yaml", "layers[1].quant.w_bits", "between 2 and 8, got 9"});
}
TEST(NetworkYamlErrors, DuplicateKey) {
  expect_file_error({"bad_duplicate_key.yaml", "layers[1].out_channels", "more than once"});
}
TEST(NetworkYamlErrors, KernelListOfThree) {
  expect_file_error({"bad_kernel_list.yaml", "layers[1].kernel", "list of two"});
}
TEST(NetworkYamlErrors, LayerNotAMap) {
  expect_file_error({"bad_layer_not_map.yaml", "layers[1]", "expected a mapping"});
}
TEST(NetworkYamlErrors, EmptyLayerName) {
  expect_file_error({"bad_empty_name.yaml", "layers[1].name", "must not be empty"});
}
TEST(NetworkYamlErrors, NoLayers) {
  expect_file_error({"bad_no_layers.yaml", "layers", "at least one layer"});
}
TEST(NetworkYamlErrors, BadDirection) {
  expect_file_error({"bad_direction.yaml", "layers[1].direction", "'clockwise'"});
}
TEST(NetworkYamlErrors, DocumentNotAMap) {
  expect_file_error({"bad_not_a_map.yaml", "(document)", "expected a mapping"});
}

TEST(NetworkYamlErrors, EmptyAndMissingFiles) {
  try {
    load_network_yaml(kData + "empty.yaml");
    ADD_FAILURE() << "loaded an empty file";
  } catch (const FileError& e) {
    EXPECT_EQ(e.file(), kData + "empty.yaml");
    EXPECT_CONTAINS(e.what(), "empty");
  }
  try {
    load_network_yaml(kData + "no_such_file.yaml");
    ADD_FAILURE() << "loaded a missing file";
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "no_such_file.yaml");
  }
}

TEST(NetworkYamlErrors, ParseFromTextNamesTheGivenName) {
  const std::string text =
      "format: palsim-network-1\n"
      "name: t\n"
      "layers:\n"
      "  - {name: input, op: input, shape: [3, 8]}\n";
  try {
    parse_network_yaml(text, "inline.yaml");
    ADD_FAILURE();
  } catch (const FileError& e) {
    EXPECT_EQ(e.file(), "inline.yaml");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.key(), "layers[0].shape");
  }
}

}  // namespace
}  // namespace palsim::frontend
