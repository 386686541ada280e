// ONNX import against torchvision (issue 20): the ResNets and ShuffleNet v2
// exported from torchvision import with exactly the MACs and BitOps of the
// built-in builders, layer by layer; MobileNet v2 (ReLU6, a fixed batch of 2)
// imports and simulates on both accelerators; a QONNX and a QDQ model give
// their layers their own widths; and `palsim import` writes YAML that reloads
// to the same lowered network. The models are written by make_models.py (the
// ctest fixture onnx_models) into PALSIM_ONNX_MODELS.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "frontend/bitops.h"
#include "frontend/builders/registry.h"
#include "frontend/ir/network_yaml.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/onnx/onnx_import.h"
#include "sim/compile.h"
#include "sim/simulator.h"
#include "tests/cli/cli_test_util.h"

namespace palsim::frontend {
namespace {

std::string model(const std::string& name) {
  return std::string(PALSIM_ONNX_MODELS) + "/" + name + ".onnx";
}

MethodOptions lsq(int bits) {
  MethodOptions m;
  m.method = Method::kLsq;
  m.a_bits = m.w_bits = bits;
  return m;
}

OnnxImport import(const std::string& name, const MethodOptions& m = {}, bool given = false) {
  OnnxImportOptions o;
  o.method = m;
  o.method_given = given;
  return import_onnx(model(name), o);
}

Network builtin(const std::string& name, const MethodOptions& m) {
  NetworkRequest r;
  r.network = name;
  r.method = m;
  return resolve_network(r);
}

const Layer& layer(const Network& net, const std::string& name) {
  const int i = net.find(name);
  if (i < 0) throw std::runtime_error("no layer " + name);
  return net.layer(i);
}

// Same BitOps rule, layer by layer: every counted layer has the built-in's
// name, op, role and MACs (and slice products when bit-decomposed).
void expect_same_bitops(const Network& imported, const Network& built, const MethodOptions& m) {
  const BitOpsReport a = count_bitops(imported, m.bitops_w_bits(), m.bitops_a_bits());
  const BitOpsReport b = count_bitops(built, m.bitops_w_bits(), m.bitops_a_bits());
  EXPECT_EQ(a.macs, b.macs);
  EXPECT_EQ(a.bitops_g, b.bitops_g);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    SCOPED_TRACE(b.layers[i].name);
    // Layers with weights are named after their PyTorch module, as the
    // built-ins are; a pool written as x.mean([2, 3]) has no module.
    if (a.layers[i].op != "global_avgpool") {
      EXPECT_EQ(a.layers[i].name, b.layers[i].name);
    }
    EXPECT_EQ(a.layers[i].op, b.layers[i].op);
    EXPECT_EQ(a.layers[i].macs, b.layers[i].macs);
    EXPECT_EQ(a.layers[i].slice_products, b.layers[i].slice_products);
    EXPECT_EQ(layer(imported, a.layers[i].name).role, layer(built, b.layers[i].name).role);
  }
}

// Every conv and FC has the MACs PyTorch's forward hooks counted for its
// module (make_models.py writes NAME.macs.json), and there are no others.
void expect_torch_macs(const Network& net, const std::string& name) {
  std::ifstream in(std::string(PALSIM_ONNX_MODELS) + "/" + name + ".macs.json");
  const nlohmann::json torch = nlohmann::json::parse(in);
  size_t layers = 0;
  for (int i = 0; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    if (!l.is<ConvAttrs>() && !l.is<FcAttrs>()) continue;
    ++layers;
    SCOPED_TRACE(l.name);
    ASSERT_TRUE(torch.contains(l.name));
    EXPECT_EQ(layer_macs(net, i), torch[l.name].get<int64_t>());
  }
  EXPECT_EQ(layers, torch.size());
}

std::vector<MethodOptions> forms() {
  MethodOptions decomposed;
  decomposed.method = Method::kBitDecomposed;
  decomposed.a_bits = decomposed.w_bits = 4;
  decomposed.slice_bits = 2;
  return {MethodOptions{}, lsq(4), lsq(2), decomposed};
}

TEST(OnnxTorchvision, ResNetsHaveTheBuiltinMacsAndBitOps) {
  for (const std::string name : {"resnet18", "resnet34"}) {
    for (const MethodOptions& m : forms()) {
      SCOPED_TRACE(name + " " + m.label());
      const OnnxImport imp = import(name, m, m.method != Method::kFp);
      EXPECT_EQ(imp.opset, 13);
      EXPECT_EQ(imp.quantization, "float");
      expect_same_bitops(imp.network, builtin(name, m), m);
    }
    expect_torch_macs(import(name).network, name);
  }
}

// The imported ResNet-18 is the built-in one down to the simulation: the same
// cycles, energy and DRAM traffic on both accelerators.
TEST(OnnxTorchvision, ResNet18SimulatesAsTheBuiltin) {
  const MethodOptions m = lsq(4);
  const Network imported = import("resnet18", m, true).network;
  const Network built = builtin("resnet18", m);
  EXPECT_EQ(imported.name(), built.name());
  for (const std::string hw_name : {"bitfusion", "bpvec"}) {
    SCOPED_TRACE(hw_name);
    const HwConfig hw =
        load_hw_config(std::string(PALSIM_SOURCE_DIR) + "/configs/" + hw_name + ".yaml");
    const sim::RunStats a =
        sim::simulate(hw, sim::compile(hw, imported, LoweringOptions{}).program, sim::SimOptions{});
    const sim::RunStats b =
        sim::simulate(hw, sim::compile(hw, built, LoweringOptions{}).program, sim::SimOptions{});
    EXPECT_EQ(a.cycles, b.cycles);
    EXPECT_EQ(a.energy.total(), b.energy.total());
    EXPECT_EQ(a.dram.read_bits, b.dram.read_bits);
  }
}

TEST(OnnxTorchvision, ShuffleNetV2WithAFreeBatchHasTheBuiltinMacsAndBitOps) {
  for (const MethodOptions& m : forms()) {
    SCOPED_TRACE(m.label());
    const OnnxImport imp = import("shufflenet_v2_x1_0", m, m.method != Method::kFp);
    expect_same_bitops(imp.network, builtin("shufflenetv2", m), m);
    expect_torch_macs(imp.network, "shufflenet_v2_x1_0");
    // chunk(2) and the Reshape-Transpose-Reshape shuffle became IR layers.
    int splits = 0, shuffles = 0;
    for (const Layer& l : imp.network.layers()) {
      splits += l.is<SplitAttrs>();
      shuffles += l.is<ChannelShuffleAttrs>();
    }
    EXPECT_EQ(splits, 2 * 13);
    EXPECT_EQ(shuffles, 16);
  }
}

TEST(OnnxTorchvision, MobileNetV2SimulatesOnBothAccelerators) {
  const OnnxImport imp = import("mobilenet_v2", lsq(4), true);
  int clips = 0, depthwise = 0;
  for (const Layer& l : imp.network.layers()) {
    clips += l.is<ClipAttrs>();
    if (l.is<ConvAttrs>() && l.as<ConvAttrs>().groups > 1) ++depthwise;
  }
  EXPECT_EQ(clips, 35);  // ReLU6
  EXPECT_EQ(depthwise, 17);
  EXPECT_EQ(layer(imp.network, "features.0.0").role, LayerRole::kStem);
  EXPECT_EQ(layer(imp.network, "classifier.1").role, LayerRole::kClassifier);
  expect_torch_macs(imp.network, "mobilenet_v2");
  for (const std::string hw_name : {"bitfusion", "bpvec"}) {
    SCOPED_TRACE(hw_name);
    const HwConfig hw =
        load_hw_config(std::string(PALSIM_SOURCE_DIR) + "/configs/" + hw_name + ".yaml");
    const Compiled c = sim::compile(hw, imp.network, LoweringOptions{});
    const sim::RunStats r = sim::simulate(hw, c.program, sim::SimOptions{});
    EXPECT_GT(r.cycles, 0u);
    EXPECT_EQ(r.layers.size(), c.plan.graph.ops.size());
  }
}

TEST(OnnxQuantized, QonnxQuantNodesGiveEachConvItsWidths) {
  const OnnxImport imp = import("qonnx_mixed");
  EXPECT_EQ(imp.quantization, "QONNX");
  const Network& net = imp.network;
  EXPECT_EQ(layer(net, "conv4").as<ConvAttrs>().quant, (QuantSpec{Quantizer::kLsq, 4, 4, 0}));
  // Unsigned 2-bit weight levels: the uniform quantizer.
  EXPECT_EQ(layer(net, "conv2").as<ConvAttrs>().quant, (QuantSpec{Quantizer::kUniform, 2, 2, 0}));
  EXPECT_FALSE(layer(net, "stem").as<ConvAttrs>().quant.quantized());
  EXPECT_EQ(layer(net, "stem").role, LayerRole::kStem);
  EXPECT_EQ(layer(net, "stem_relu").role, LayerRole::kStem);
  EXPECT_EQ(layer(net, "fc").role, LayerRole::kClassifier);
  EXPECT_EQ(layer(net, "gap").role, LayerRole::kClassifier);
  EXPECT_EQ(layer(net, "conv2").role, LayerRole::kBody);
  // The widths set the array's work: compile on Bit Fusion.
  const HwConfig hw = load_hw_config(std::string(PALSIM_SOURCE_DIR) + "/configs/bitfusion.yaml");
  const Compiled c = sim::compile(hw, net, LoweringOptions{});
  ASSERT_EQ(c.plan.graph.ops.size(), 2u);
  EXPECT_EQ(c.plan.graph.ops[0].w_bits, 4);
  EXPECT_TRUE(c.plan.graph.ops[0].w_signed);
  EXPECT_EQ(c.plan.graph.ops[1].w_bits, 2);
  EXPECT_FALSE(c.plan.graph.ops[1].w_signed);
  EXPECT_EQ(c.plan.graph.ops[1].a_bits, 2);
}

TEST(OnnxQuantized, QdqNodesGiveEightBitLayersAndRefuseAMethod) {
  const OnnxImport imp = import("qdq_int8");
  EXPECT_EQ(imp.quantization, "QDQ");
  EXPECT_EQ(layer(imp.network, "body").as<ConvAttrs>().quant,
            (QuantSpec{Quantizer::kLsq, 8, 8, 0}));
  try {
    import("qdq_int8", lsq(4), true);
    FAIL() << "a method was applied to a quantized model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("carries its own quantization"), std::string::npos)
        << e.what();
  }
}

TEST(OnnxImport, DilationAndRelu6BecomeLayers) {
  const OnnxImport imp = import("dilated", lsq(4), true);
  const ConvAttrs& a = layer(imp.network, "atrous").as<ConvAttrs>();
  EXPECT_EQ(a.dilation_h, 2);
  EXPECT_EQ(a.dilation_w, 2);
  // pads (2, 2, 2, 1): the end padding of 1 reads the same inputs as 2.
  EXPECT_EQ(a.pad_h, 2);
  EXPECT_EQ(a.pad_w, 2);
  EXPECT_EQ(layer(imp.network, "atrous").out, (Shape{8, 10, 10}));
  EXPECT_EQ(layer(imp.network, "relu6").as<ClipAttrs>().max, 6);
  // The head writes the output: the classifier, by inference.
  EXPECT_EQ(layer(imp.network, "head").role, LayerRole::kClassifier);
}

TEST(OnnxImport, RolesCanBeOverridden) {
  OnnxImportOptions o;
  o.roles = {parse_role_override("head=body")};
  o.method = lsq(4);
  o.method_given = true;
  const OnnxImport imp = import_onnx(model("dilated"), o);
  EXPECT_EQ(layer(imp.network, "head").role, LayerRole::kBody);
  EXPECT_EQ(layer(imp.network, "head").as<ConvAttrs>().quant,
            (QuantSpec{Quantizer::kLsq, 4, 4, 0}));
  o.roles = {parse_role_override("nosuch=stem")};
  EXPECT_THROW(import_onnx(model("dilated"), o), InputError);
  EXPECT_THROW(parse_role_override("head=tail"), InputError);
}

// The lowered networks are the same op for op.
void expect_same_lowering(const Network& a, const Network& b) {
  const HwGraph x = build_hw_graph(a, LoweringOptions{});
  const HwGraph y = build_hw_graph(b, LoweringOptions{});
  ASSERT_EQ(x.ops.size(), y.ops.size());
  for (size_t i = 0; i < x.ops.size(); ++i) {
    const HwOp &p = x.ops[i], &q = y.ops[i];
    SCOPED_TRACE(p.name);
    EXPECT_EQ(p.name, q.name);
    EXPECT_EQ(p.layers, q.layers);
    EXPECT_EQ(p.kind, q.kind);
    EXPECT_EQ(p.in, q.in);
    EXPECT_EQ(p.out, q.out);
    EXPECT_EQ(std::make_tuple(p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.groups),
              std::make_tuple(q.kh, q.kw, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw, q.groups));
    EXPECT_EQ(std::make_tuple(p.a_bits, p.w_bits, p.w_signed, p.uniform_quantizer),
              std::make_tuple(q.a_bits, q.w_bits, q.w_signed, q.uniform_quantizer));
    EXPECT_EQ(std::make_tuple(p.relu_before_residual, p.relu_after_residual, p.out_shuffle_groups,
                              p.residual >= 0),
              std::make_tuple(q.relu_before_residual, q.relu_after_residual, q.out_shuffle_groups,
                              q.residual >= 0));
  }
  ASSERT_EQ(x.tensors.size(), y.tensors.size());
  for (size_t t = 0; t < x.tensors.size(); ++t) {
    EXPECT_EQ(x.tensors[t].bits, y.tensors[t].bits);
    EXPECT_EQ(x.tensors[t].dram_bit, y.tensors[t].dram_bit);
  }
}

TEST(OnnxImportCommand, YamlReloadsToTheSameLoweredNetwork) {
  palsim_test::TempDir dir;
  struct Case {
    std::string model, options;
    MethodOptions method;
  };
  for (const Case& c : {Case{"shufflenet_v2_x1_0", "--method lsq --abits 4 --wbits 4", lsq(4)},
                        Case{"mobilenet_v2", "--method lsq --abits 2 --wbits 2", lsq(2)},
                        Case{"qonnx_mixed", "", MethodOptions{}}}) {
    SCOPED_TRACE(c.model);
    const std::string yaml = dir.path() + "/" + c.model + ".yaml";
    const auto r = palsim_test::palsim("import " + palsim_test::quoted(model(c.model)) + " " +
                                       c.options + " -o " + palsim_test::quoted(yaml));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("weights"), std::string::npos) << r.out;  // the precision table
    const Network reloaded = load_network_yaml(yaml);
    const Network direct = import(c.model, c.method, c.method.method != Method::kFp).network;
    expect_same_lowering(direct, reloaded);
    EXPECT_EQ(network_to_yaml(reloaded), network_to_yaml(direct));
  }
}

TEST(OnnxImportCommand, ShowsPerLayerWidthsAndIsANetworkEverywhere) {
  const auto imp =
      palsim_test::palsim("import " + palsim_test::quoted(model("qonnx_mixed")) + " -o /dev/null");
  ASSERT_EQ(imp.code, 0) << imp.err;
  EXPECT_NE(imp.out.find("4 signed"), std::string::npos) << imp.out;
  EXPECT_NE(imp.out.find("2 unsigned"), std::string::npos) << imp.out;
  const auto bitops =
      palsim_test::palsim("bitops " + palsim_test::quoted(model("qonnx_mixed")) + " --per-layer");
  ASSERT_EQ(bitops.code, 0) << bitops.err;
  // Each layer at its own widths; the stem and classifier at the rule's (the first quantized
  // conv's).
  EXPECT_NE(bitops.out.find("2u x 2"), std::string::npos) << bitops.out;
  EXPECT_NE(bitops.out.find("4s x 4"), std::string::npos) << bitops.out;
  EXPECT_NE(bitops.out.find("(4 x 4)"), std::string::npos) << bitops.out;
  // 16 x (110592 + 1179648 + 8224 + 320) + 4 x 2359296 = 30217728 BitOps.
  EXPECT_NE(bitops.out.find("mixed    0.03G"), std::string::npos) << bitops.out;
  const auto json =
      palsim_test::palsim("bitops " + palsim_test::quoted(model("qonnx_mixed")) + " --json");
  ASSERT_EQ(json.code, 0) << json.err;
  const nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_DOUBLE_EQ(j["layer_bitops"].get<double>(), 30217728 / 1e9);
  EXPECT_EQ(j["layers"][2]["w_bits"], 2);
  const auto refused = palsim_test::palsim("bitops " + palsim_test::quoted(model("qonnx_mixed")) +
                                           " --method lsq --abits 4");
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("carries its own quantization"), std::string::npos) << refused.err;
  const auto width = palsim_test::palsim("bitops " + palsim_test::quoted(model("resnet18")) +
                                         " --method lsq --width 0.5");
  EXPECT_EQ(width.code, 2);
  EXPECT_NE(width.err.find("--width"), std::string::npos) << width.err;
}

// In a sweep's network list a float model is crossed with the methods, like a
// built-in; a QONNX model is one point with its own widths. Every point runs.
TEST(OnnxImportCommand, SweepCrossesFloatModelsWithMethods) {
  palsim_test::TempDir dir;
  for (const std::string name : {"dilated", "qonnx_mixed"})
    std::filesystem::copy_file(model(name), dir.file(name + ".onnx"));
  const std::string spec = dir.write("onnx.yaml", fmt::format(R"(format: palsim-sweep-1
name: onnx
networks: [dilated.onnx, qonnx_mixed.onnx]
methods:
  - {{method: lsq, bits: [2, 4]}}
hardware: [{}/configs/bitfusion.yaml]
)",
                                                              PALSIM_SOURCE_DIR));
  const auto list = palsim_test::palsim("sweep " + palsim_test::quoted(spec) + " --list");
  ASSERT_EQ(list.code, 0) << list.err;
  std::vector<nlohmann::json> points;
  std::istringstream lines(list.out);
  for (std::string line; std::getline(lines, line);) points.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(points.size(), 3u) << list.out;
  int float_points = 0;
  for (const auto& p : points) {
    if (p["network"].get<std::string>().find("dilated.onnx") != std::string::npos) {
      ++float_points;
      EXPECT_EQ(p["method"], "lsq");
    } else {
      EXPECT_FALSE(p.contains("method")) << p.dump();
    }
  }
  EXPECT_EQ(float_points, 2);
  const auto run = palsim_test::palsim("sweep " + palsim_test::quoted(spec) + " -j 1 -q");
  EXPECT_EQ(run.code, 0) << run.err << run.out;
  EXPECT_NE(run.out.find("3 done, 0 failed"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace palsim::frontend
