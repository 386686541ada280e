// Mapping files (frontend/mapping/mapping_file.h, PlanOptions::given): a
// plan's mappings written and given back plan the same program; a file is
// read strictly and an illegal mapping is refused at its line and key.
#include "frontend/mapping/mapping_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "frontend/builders/registry.h"
#include "frontend/lowering/codegen.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/lowering/plan.h"
#include "tests/common/test_util.h"
#include "tests/frontend/shipped_config.h"

namespace palsim::frontend {
namespace {

HwGraph graph_of(const std::string& network, int G, bool onchip) {
  NetworkRequest request;
  request.network = network;
  request.method_given = true;
  request.method.method = Method::kPalQuant;
  request.method.B = 2;
  request.method.G = G;
  LoweringOptions options;
  options.onchip_intermediates = onchip;
  return build_hw_graph(resolve_network(request), options);
}

std::string write(const palsim_test::TempDir& dir, const std::string& text) {
  const std::string path = dir.path() + "/mapping.yaml";
  std::ofstream(path) << text;
  return path;
}

TEST(MappingFile, APlanWrittenAndGivenBackPlansTheSameProgram) {
  const HwConfig hw = load_hw_config(kConfigs + "bitfusion.yaml");
  palsim_test::TempDir dir;
  for (const bool onchip : {true, false}) {
    const HwGraph g = graph_of("resnet18", 2, onchip);
    const Plan searched = plan_network(hw, g);
    const std::string text = mapping_file_text(plan_mappings(searched), g.network, hw.name);
    const MappingFile file = load_mapping_file(write(dir, text));
    ASSERT_EQ(file.layers.size(), searched.ops.size());
    PlanOptions o;
    o.given = &file;
    const Plan given = plan_network(hw, g, o);
    EXPECT_EQ(given.fused_pairs, searched.fused_pairs);
    EXPECT_EQ(given.fusion_candidates, searched.fusion_candidates);
    if (onchip) {
      EXPECT_GT(given.fused_pairs, 0);
    }
    for (size_t i = 0; i < given.ops.size(); ++i) {
      EXPECT_TRUE(given.ops[i].given);
      EXPECT_EQ(given.ops[i].search.visited, 0);
      EXPECT_GT(searched.ops[i].search.visited, 0);
      EXPECT_EQ(given.ops[i].mapping.describe(), searched.ops[i].mapping.describe());
      EXPECT_EQ(given.ops[i].mapping.estimate.cycles, searched.ops[i].mapping.estimate.cycles);
    }
    EXPECT_TRUE(generate_program(hw, given).code == generate_program(hw, searched).code);
    // Written again, the same text.
    EXPECT_EQ(mapping_file_text(plan_mappings(given), g.network, hw.name), text);
  }
}

TEST(MappingFile, OneLayerGivenTheRestSearched) {
  const HwConfig hw = load_hw_config(kConfigs + "bitfusion.yaml");
  const HwGraph g = graph_of("resnet18", 2, false);
  const Plan searched = plan_network(hw, g);
  palsim_test::TempDir dir;
  // layer1.0.conv1 untiled along H (a legal but different mapping).
  GivenMapping one;
  size_t index = 0;
  for (const GivenMapping& m : plan_mappings(searched)) {
    if (m.op == "layer1.0.conv1") one = m;
  }
  ASSERT_EQ(one.op, "layer1.0.conv1");
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].name == one.op) index = i;
  one.mapping.h_t = 1;
  const MappingFile file = load_mapping_file(write(dir, mapping_file_text({one}, "", "")));
  PlanOptions o;
  o.given = &file;
  const Plan plan = plan_network(hw, g, o);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    EXPECT_EQ(plan.ops[i].given, i == index);
    if (i != index) {
      EXPECT_EQ(plan.ops[i].mapping.describe(), searched.ops[i].mapping.describe());
    }
  }
  EXPECT_EQ(plan.ops[index].mapping.h_t, 1);
}

// The error a file gives, planned on resnet18.
std::string error_of(const std::string& entry) {
  const HwConfig hw = load_hw_config(kConfigs + "bitfusion.yaml");
  palsim_test::TempDir dir;
  const std::string path = write(dir, "format: palsim-mapping-1\nlayers:\n" + entry);
  try {
    const MappingFile file = load_mapping_file(path);
    PlanOptions o;
    o.given = &file;
    plan_network(hw, graph_of("resnet18", 2, true), o);
  } catch (const FileError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("mapping.yaml:"), std::string::npos) << what;
    return what;
  }
  ADD_FAILURE() << "no error for " << entry;
  return "";
}

const char* const kGood =
    "  - op: layer1.0.conv1\n"
    "    tiles: {N: 1, H: 56, W: 56, M: 64, C: 64}\n"
    "    order: NHWMC\n"
    "    levels: {input: 5, weight: 5, output: 5}\n"
    "    mode: {fa: 2, fw: 2, lanes: 16}\n";

std::string with(const std::string& from, const std::string& to) {
  std::string s = kGood;
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos);
  return s.replace(at, from.size(), to);
}

TEST(MappingFile, AnIllegalMappingIsRefusedAtItsLineKeyAndRule) {
  std::string e = error_of(with("H: 56", "H: 57"));
  EXPECT_NE(e.find(":4:"), std::string::npos) << e;
  EXPECT_NE(e.find("layers[0].tiles.H"), std::string::npos) << e;
  EXPECT_NE(e.find("rule: tile"), std::string::npos) << e;
  e = error_of(with("lanes: 16", "lanes: 5"));
  EXPECT_NE(e.find("layers[0].mode"), std::string::npos) << e;
  EXPECT_NE(e.find("rule: array_mode"), std::string::npos) << e;
  e = error_of(with("order: NHWMC", "order: HNWMC"));
  EXPECT_NE(e.find("rule: loop_order"), std::string::npos) << e;
  e = error_of(with("order: NHWMC", "order: NHWMX"));
  EXPECT_NE(e.find("layers[0].order"), std::string::npos) << e;
  // Whole tensors at every loop: the tiles exceed the buffers.
  e = error_of(with("input: 5, weight: 5, output: 5", "input: 0, weight: 0, output: 0"));
  EXPECT_NE(e.find("_capacity"), std::string::npos) << e;
  EXPECT_NE(e.find("layers[0].tiles"), std::string::npos) << e;
  e = error_of(std::string(kGood) + "    pack: 2\n");
  EXPECT_NE(e.find("rule: group_pack"), std::string::npos) << e;
  e = error_of(std::string(kGood) + "    onchip: {input: true}\n");
  EXPECT_NE(e.find("layers[0].onchip.input"), std::string::npos) << e;
  e = error_of(with("layer1.0.conv1", "layer9.conv"));
  EXPECT_NE(e.find("no operation 'layer9.conv'"), std::string::npos) << e;
  e = error_of(std::string(kGood) + "    colour: red\n");
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
  e = error_of(std::string(kGood) + kGood);
  EXPECT_NE(e.find("given twice"), std::string::npos) << e;
}

}  // namespace
}  // namespace palsim::frontend
