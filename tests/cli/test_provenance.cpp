// Every figure is traceable to what produced it and labelled only with what
// shaped it: provenance blocks in simulate / table2 / sweep exports, the
// hardware name of a run with overrides, a rerun from the JSON alone, sweeps
// of network files without methods that do not shape them, and exports that
// tell two shapes of one network apart.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_test_util.h"

namespace {

using namespace palsim_test;
namespace fs = std::filesystem;

const std::string kTiny = kSource + "/workloads/examples/tiny.yaml";

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(Provenance, SimulateWithOverridesNamesThemAndRecordsTheResolvedConfiguration) {
  const Result r = palsim("simulate " + quoted(kTiny) + " --set array.rows=8 --json -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["hardware"], "bitfusion-16x32 [array.rows=8]");
  const nlohmann::json& p = j["provenance"];
  EXPECT_EQ(p["hardware"]["array"]["rows"], 8);
  EXPECT_EQ(p["hardware_origin"]["overrides"], nlohmann::json::array({"array.rows=8"}));
  EXPECT_FALSE(p["build"]["source_revision"].get<std::string>().empty());
  EXPECT_FALSE(p["build"]["simulator_version"].get<std::string>().empty());
  EXPECT_EQ(p["command_line"].back(), "-q");
  EXPECT_EQ(p["network"]["layers_hash"].get<std::string>().size(), 16u);
  EXPECT_EQ(p["run"]["refine"], 8);
  // The default configuration keeps its plain name.
  const Result d = palsim("simulate " + quoted(kTiny) + " --json -q");
  EXPECT_EQ(nlohmann::json::parse(d.out)["hardware"], "bitfusion-16x32");
}

// The JSON alone reruns the same simulation: its hardware object is a complete
// configuration file and its network part carries the network file as read.
TEST(Provenance, TheJsonAloneRerunsTheSameSimulation) {
  TempDir dir;
  const Result r = palsim("simulate " + quoted(kTiny) +
                          " --set buffers.obuf.size_bytes=8192 --batch 2 --json -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const nlohmann::json& p = j["provenance"];
  write(dir.path() + "/hw.yaml", p["hardware"].dump(1));
  write(dir.path() + "/net.yaml", p["network"]["yaml"].get<std::string>());
  const nlohmann::json& run = p["run"];
  const Result again = palsim("simulate " + quoted(dir.path() + "/net.yaml") + " --hw " +
                              quoted(dir.path() + "/hw.yaml") + " --batch " +
                              std::to_string(run["batch"].get<int>()) + " --refine " +
                              std::to_string(run["refine"].get<int>()) + " --fp-layers " +
                              run["fp_layers"].get<std::string>() + " --json -q");
  ASSERT_EQ(again.code, 0) << again.err;
  const nlohmann::json k = nlohmann::json::parse(again.out);
  EXPECT_EQ(k["cycles"], j["cycles"]);
  EXPECT_EQ(k["energy_pj"], j["energy_pj"]);
  EXPECT_EQ(k["provenance"]["network"]["layers_hash"], p["network"]["layers_hash"]);
  EXPECT_EQ(k["provenance"]["hardware"], p["hardware"]);
}

TEST(Provenance, Table2JsonCsvAndMarkdownCarryIt) {
  TempDir dir;
  const Result r =
      palsim("table2 --json --no-onchip-effect --refine 1 -j 2 -q --csv " +
             quoted(dir.path() + "/t.csv") + " --markdown " + quoted(dir.path() + "/t.md"));
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rows"].size(), 12u);
  EXPECT_EQ(j["provenance"]["hardware"]["bitfusion"]["name"], "bitfusion-16x32");
  EXPECT_EQ(j["provenance"]["hardware"]["bpvec"]["accelerator"], "bpvec");
  EXPECT_EQ(j["provenance"]["run"]["refine"], 1);
  EXPECT_EQ(slurp(dir.path() + "/t.csv").rfind("# provenance", 0), 0u);
  EXPECT_CONTAINS(slurp(dir.path() + "/t.md"), "<summary>Provenance</summary>");
}

// A network file carries its own quantization: a sweep's methods would label
// its points with bit widths that did not shape them (bits 4 and 8 gave the
// same figures, labelled "A4 W4" and "A8 W8"), so they are refused.
TEST(SweepLabels, MethodsAreRefusedForNetworkFiles) {
  TempDir dir;
  write(dir.path() + "/s.yaml", "format: palsim-sweep-1\nname: f\nnetworks: [" + kTiny +
                                    "]\nmethods:\n  - {method: lsq, bits: [4, 8]}\nhardware: [" +
                                    kSource + "/configs/bitfusion.yaml]\n");
  const Result r = palsim("sweep " + quoted(dir.path() + "/s.yaml") + " --db " +
                          quoted(dir.path() + "/s.db") + " -q");
  EXPECT_EQ(r.code, 1);
  EXPECT_CONTAINS(r.err, "s.yaml:5:");
  EXPECT_CONTAINS(r.err, "methods");
  EXPECT_CONTAINS(r.err, "carry their own quantization");
  EXPECT_FALSE(fs::exists(dir.path() + "/s.db"));
}

TEST(SweepLabels, ANetworkFilePointHasNoMethodAndBuiltinsKeepTheirs) {
  TempDir dir;
  write(dir.path() + "/s.yaml", "format: palsim-sweep-1\nname: f\nnetworks: [" + kTiny +
                                    ", {name: resnet18, input_size: 16, base_width: 8, blocks: [1, "
                                    "1, 1, 1], stem: small, classes: 10}]\n"
                                    "methods:\n  - {method: lsq, bits: [4]}\nhardware: [" +
                                    kSource + "/configs/bitfusion.yaml]\n");
  const Result r = palsim("sweep " + quoted(dir.path() + "/s.yaml") + " --db " +
                          quoted(dir.path() + "/s.db") + " -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const Result j = palsim("results " + quoted(dir.path() + "/s.db") + " --json");
  const nlohmann::json list = nlohmann::json::parse(j.out);
  ASSERT_EQ(list.size(), 2u);
  int files = 0;
  for (const auto& p : list) {
    if (p["network"] == kTiny) {
      ++files;
      EXPECT_FALSE(p.contains("method")) << p.dump();
      EXPECT_FALSE(p.contains("abits")) << p.dump();
    } else {
      EXPECT_EQ(p["method"], "lsq");
      EXPECT_EQ(p["abits"], 4);
    }
  }
  EXPECT_EQ(files, 1);
}

// An exclude filter drops exactly the points it names, whatever the kind of
// value: an override (held as its text), a network file (held by its path),
// a method parameter. Override filters used to match nothing, silently.
TEST(SweepLabels, ExcludeFiltersDropTheNamedPointsByOverrideAndNetworkFile) {
  TempDir dir;
  fs::copy_file(kTiny, dir.path() + "/tiny.yaml");
  write(dir.path() + "/s.yaml",
        "format: palsim-sweep-1\nname: f\nnetworks: [tiny.yaml, {name: resnet18, input_size: "
        "16, base_width: 8, blocks: [1, 1, 1, 1], stem: small, classes: 10}]\n"
        "methods:\n  - {method: lsq, bits: [2, 4]}\nhardware: [" +
            kSource +
            "/configs/bitfusion.yaml]\noverrides: {array.rows: [8, 16]}\nexclude:\n"
            "  - {overrides: {array.rows: 8}, abits: 2}\n  - {network: tiny.yaml, overrides: "
            "{array.rows: 16}}\n");
  const Result r = palsim("sweep " + quoted(dir.path() + "/s.yaml") + " --db " +
                          quoted(dir.path() + "/s.db") + " --list");
  ASSERT_EQ(r.code, 0) << r.err;
  int rows8_bits2 = 0, tiny16 = 0, points = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json p = nlohmann::json::parse(line);
    ++points;
    const bool rows8 = p["overrides"]["array.rows"] == "8";
    if (rows8 && p.value("abits", 0) == 2) ++rows8_bits2;
    if (!rows8 && p["network"].get<std::string>().find("tiny.yaml") != std::string::npos) ++tiny16;
  }
  // 2 networks x (2 methods for resnet18, 1 point for the file) x 2 rows = 6,
  // less resnet18 at 2 bits on 8 rows and the file on 16 rows.
  EXPECT_EQ(points, 4);
  EXPECT_EQ(rows8_bits2, 0);
  EXPECT_EQ(tiny16, 0);
}

// Two shapes of one network are two rows that can be told apart in every
// export, with the figures the database holds.
TEST(SweepLabels, ExportsTellShapesApartAndCarryTheFigures) {
  TempDir dir;
  write(dir.path() + "/s.yaml",
        "format: palsim-sweep-1\nname: shapes\nnetworks:\n"
        "  - {name: resnet18, input_size: 16, base_width: 8, blocks: [1, 1, 1, 1], stem: small, "
        "classes: 10}\n"
        "  - {name: resnet18, input_size: 32, base_width: 8, blocks: [1, 1, 1, 1], stem: small, "
        "classes: 10}\n"
        "methods:\n  - {method: lsq, bits: [4]}\nhardware: [" +
            kSource + "/configs/bitfusion.yaml]\n");
  const std::string db = quoted(dir.path() + "/s.db");
  ASSERT_EQ(palsim("sweep " + quoted(dir.path() + "/s.yaml") + " --db " + db + " -q").code, 0);
  const std::string csv = palsim("results " + db + " --csv -").out;
  EXPECT_CONTAINS(csv, "\nresnet18,16,10,8,small,");
  EXPECT_CONTAINS(csv, "\nresnet18,32,10,8,small,");
  const std::string md = palsim("results " + db + " --markdown -").out;
  EXPECT_CONTAINS(md, "resnet18 (input_size=16,");
  EXPECT_CONTAINS(md, "resnet18 (input_size=32,");
  const nlohmann::json list = nlohmann::json::parse(palsim("results " + db + " --json").out);
  ASSERT_EQ(list.size(), 2u);
  for (const auto& p : list) {
    EXPECT_GT(p["utilization"].get<double>(), 0.0);
    EXPECT_GT(p["dram_bits"].get<double>(), 0.0);
    EXPECT_EQ(p["energy_breakdown_pj"].size(), 8u);
    EXPECT_EQ(p["provenance"]["hardware"]["name"], "bitfusion-16x32");
    EXPECT_EQ(p["provenance"]["network"]["layers_hash"].get<std::string>().size(), 16u);
  }
  EXPECT_NE(list[0]["provenance"]["network"]["layers_hash"],
            list[1]["provenance"]["network"]["layers_hash"]);
}

TEST(Provenance, EvaluateAndValidateCarryIt) {
  const std::string model = quoted(kSource + "/tests/fuzz/corpus/model/tiny_fmnist_float64.pim");
  const Result e = palsim("evaluate " + model + " --limit 16 --json -q");
  ASSERT_EQ(e.code, 0) << e.err;
  const nlohmann::json ej = nlohmann::json::parse(e.out);
  EXPECT_EQ(ej["provenance"]["hardware"]["name"], "bitfusion-16x32");
  EXPECT_EQ(ej["provenance"]["network"]["model_hash"].get<std::string>().size(), 16u);
  EXPECT_EQ(ej["provenance"]["run"]["fp_layers"], "int8");
  const Result v = palsim("validate " + model + " --limit 16 --json -q");
  ASSERT_EQ(v.code, 0) << v.err;
  const nlohmann::json vj = nlohmann::json::parse(v.out);
  EXPECT_EQ(vj["provenance"]["network"]["name"], ej["provenance"]["network"]["name"]);
  EXPECT_FALSE(vj["provenance"]["build"]["simulator_version"].get<std::string>().empty());
}

}  // namespace
