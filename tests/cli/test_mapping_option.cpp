// --write-mapping and --mapping (cli/mapping_option.h, docs/formats.md §5):
// the mappings a run chose, written and given back, reproduce the run; a bad
// mapping file is refused with its file, line, key and rule; compile
// --verbose prints what the search visited.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_test_util.h"

namespace {

using namespace palsim_test;

const std::string kNet = "resnet18 --method palquant --B 2 --G 2 --hw bitfusion";

nlohmann::json results(const std::string& out) {
  nlohmann::json j = nlohmann::json::parse(out);
  j.erase("provenance");  // the command line differs, by design
  return j;
}

TEST(Cli, WriteMappingThenReadItBackGivesTheSameResults) {
  TempDir dir;
  const std::string file = dir.path() + "/r18.yaml";
  for (const std::string set : {"", " --set offchip.model=ddr4"}) {
    const Result a =
        palsim("simulate " + kNet + set + " --json -q --write-mapping " + quoted(file));
    ASSERT_EQ(a.code, 0) << a.err;
    const std::string text = slurp(file);
    EXPECT_NE(text.find("format: palsim-mapping-1"), std::string::npos);
    EXPECT_NE(text.find("onchip: {input: true"), std::string::npos) << "no on-chip pair written";
    const Result b = palsim("simulate " + kNet + set + " --json -q --mapping " + quoted(file));
    ASSERT_EQ(b.code, 0) << b.err;
    EXPECT_EQ(results(a.out).dump(1), results(b.out).dump(1));
    EXPECT_EQ(nlohmann::json::parse(b.out)["provenance"]["run"]["mapping_file"], file);
  }
}

TEST(Cli, CompileVerbosePrintsTheSearchAndWritesTheSameMapping) {
  TempDir dir;
  const std::string from_simulate = dir.path() + "/s.yaml", from_compile = dir.path() + "/c.yaml";
  ASSERT_EQ(palsim("simulate " + kNet + " -q --write-mapping " + quoted(from_simulate)).code, 0);
  const Result c = palsim("compile " + kNet + " --verbose --write-mapping " + quoted(from_compile));
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(slurp(from_simulate), slurp(from_compile));
  EXPECT_NE(c.err.find("layer1.0.conv1"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("evaluated"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("dominated"), std::string::npos) << c.err;
  // Given mappings are not searched.
  const Result g = palsim("compile " + kNet + " --verbose --mapping " + quoted(from_compile) +
                          " --write-mapping " + quoted(dir.path() + "/again.yaml"));
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_NE(g.err.find("given by --mapping"), std::string::npos) << g.err;
  EXPECT_EQ(slurp(dir.path() + "/again.yaml"), slurp(from_compile));
}

TEST(Cli, AnIllegalMappingFileIsRefusedWithItsLineKeyAndRule) {
  TempDir dir;
  const std::string file = dir.path() + "/bad.yaml";
  std::ofstream(file) << "format: palsim-mapping-1\n"
                         "layers:\n"
                         "  - op: layer1.0.conv1\n"
                         "    tiles: {N: 1, H: 56, W: 56, M: 32, C: 32}\n"
                         "    order: NHWMC\n"
                         "    levels: {input: 5, weight: 5, output: 5}\n"
                         "    mode: {fa: 2, fw: 2, lanes: 7}\n";
  const std::string out = dir.path() + "/out.json";
  const Result r =
      palsim("simulate " + kNet + " -q --mapping " + quoted(file) + " --json-file " + quoted(out));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad.yaml:7:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("layers[0].mode"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rule: array_mode"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  const Result p = palsim("simulate --program x.bin --mapping " + quoted(file));
  EXPECT_EQ(p.code, 2);
  EXPECT_NE(p.err.find("--mapping"), std::string::npos) << p.err;
}

}  // namespace
