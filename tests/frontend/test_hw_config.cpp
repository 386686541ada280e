// The hardware configuration loader: shipped configs, derived files, and
// errors that name file, line and key.
#include "frontend/arch/hw_config.h"
#include "frontend/arch/hw_config_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <stdlib.h>
#include <unistd.h>
#include <functional>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "tests/common/input_error.h"
#include "tests/common/test_util.h"

namespace palsim::frontend {
namespace {

using palsim_test::Contains;
using palsim_test::TempDir;

namespace fs = std::filesystem;

const std::string kSource = PALSIM_SOURCE_DIR;
const std::string kBitFusion = kSource + "/configs/bitfusion.yaml";
const std::string kBpvec = kSource + "/configs/bpvec.yaml";
const std::string kData = kSource + "/tests/data/hw/";
const std::string kConfigs = kSource + "/configs/";

int marked_line(const std::string& path, const std::string& marker) {
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(marker) != std::string::npos) return n;
  }
  return 0;
}

using palsim_test::input_error_of;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(HwConfigShipped, BitFusionValuesAsInTheFile) {
  const HwConfig c = load_hw_config(kBitFusion);
  EXPECT_EQ(c.name, "bitfusion-16x32");
  EXPECT_EQ(c.file, kBitFusion);
  EXPECT_EQ(c.kind, AcceleratorKind::kBitFusion);
  EXPECT_EQ(c.clock_mhz, 500);
  EXPECT_EQ(c.array.rows, 16);
  EXPECT_EQ(c.array.cols, 32);
  EXPECT_EQ(c.array.bitbricks_per_unit, 16);
  EXPECT_EQ(c.array.fusion_bits, std::vector<int>{2});
  EXPECT_EQ(c.array.weight_load_cycles, 1);
  EXPECT_EQ(c.ibuf.name, "ibuf");
  EXPECT_EQ(c.ibuf.size_bytes, 32768);
  EXPECT_EQ(c.ibuf.banks, 16);
  EXPECT_TRUE(c.ibuf.double_buffered);
  EXPECT_DOUBLE_EQ(c.ibuf.read_pj_per_bit, 0.059);
  EXPECT_DOUBLE_EQ(c.ibuf.write_pj_per_bit, 0.114);
  EXPECT_EQ(c.ibuf.tile_capacity_bits(), 32768 * 8 / 2);
  EXPECT_EQ(c.wbuf.size_bytes, 65536);
  EXPECT_EQ(c.wbuf.banks, 512);
  EXPECT_DOUBLE_EQ(c.wbuf.read_pj_per_bit, 0.021);
  EXPECT_DOUBLE_EQ(c.wbuf.write_pj_per_bit, 0.029);
  EXPECT_EQ(c.obuf.size_bytes, 16384);
  EXPECT_EQ(c.obuf.banks, 32);
  EXPECT_DOUBLE_EQ(c.obuf.read_pj_per_bit, 0.033);
  EXPECT_DOUBLE_EQ(c.obuf.write_pj_per_bit, 0.073);
  EXPECT_EQ(c.accumulator_bits, 32);
  EXPECT_EQ(c.offchip.model, OffchipModel::kBandwidth);
  EXPECT_EQ(c.offchip.bits_per_cycle, 192);
  EXPECT_EQ(c.offchip.latency_cycles, 14);
  EXPECT_DOUBLE_EQ(c.offchip.pj_per_bit, 15);
  const Ddr4Config& d = c.offchip.ddr4;
  EXPECT_DOUBLE_EQ(d.tck_ns, 0.833);
  EXPECT_EQ(d.channel_width_bits, 64);
  EXPECT_EQ(d.device_width_bits, 16);
  EXPECT_EQ(d.bank_groups, 2);
  EXPECT_EQ(d.banks_per_group, 4);
  EXPECT_EQ(d.rows, 65536);
  EXPECT_EQ(d.columns, 1024);
  EXPECT_EQ(d.burst_length, 8);
  EXPECT_EQ(d.CL, 17);
  EXPECT_EQ(d.CWL, 12);
  EXPECT_EQ(d.tRCD, 17);
  EXPECT_EQ(d.tRP, 17);
  EXPECT_EQ(d.tRAS, 39);
  EXPECT_EQ(d.tRRD_S, 7);
  EXPECT_EQ(d.tRRD_L, 8);
  EXPECT_EQ(d.tCCD_S, 4);
  EXPECT_EQ(d.tCCD_L, 6);
  EXPECT_EQ(d.tWTR_S, 3);
  EXPECT_EQ(d.tWTR_L, 9);
  EXPECT_EQ(d.tRTP, 9);
  EXPECT_EQ(d.tWR, 18);
  EXPECT_EQ(d.tFAW, 36);
  EXPECT_EQ(d.tRFC, 420);
  EXPECT_EQ(d.tREFI, 9360);
  EXPECT_DOUBLE_EQ(d.IDD0, 80);
  EXPECT_DOUBLE_EQ(d.IDD2N, 34);
  EXPECT_DOUBLE_EQ(d.IDD3N, 47);
  EXPECT_DOUBLE_EQ(d.IDD4R, 243);
  EXPECT_DOUBLE_EQ(d.IDD4W, 228);
  EXPECT_DOUBLE_EQ(d.IDD5AB, 280);
  EXPECT_DOUBLE_EQ(d.VDD, 1.2);
  EXPECT_EQ(d.page_policy, PagePolicy::kOpen);
  EXPECT_DOUBLE_EQ(c.energy.unit_dynamic_pj_per_cycle, 0.459188);
  EXPECT_DOUBLE_EQ(c.energy.unit_leakage_pj_per_cycle, 0.118655);
  EXPECT_DOUBLE_EQ(c.energy.activation_sum_pj_per_cycle, 7.347);
  EXPECT_DOUBLE_EQ(c.energy.ppu_pj_per_element, 6.5);
  EXPECT_EQ(c.ppu.lanes, 32);
  EXPECT_EQ(c.multipliers(), 8192);
}

TEST(HwConfigShipped, BpvecThroughBase) {
  const HwConfig c = load_hw_config(kBpvec);
  const HwConfig bf = load_hw_config(kBitFusion);
  EXPECT_EQ(c.name, "bpvec-4x8");
  EXPECT_EQ(c.kind, AcceleratorKind::kBpvec);
  EXPECT_EQ(to_string(c.kind), "bpvec");
  EXPECT_EQ(c.array.rows, 4);
  EXPECT_EQ(c.array.cols, 8);
  EXPECT_EQ(c.array.nbves_per_unit, 16);
  EXPECT_EQ(c.array.nbve_length, 16);
  EXPECT_EQ(c.array.fusion_bits, std::vector<int>{2});
  EXPECT_EQ(c.array.weight_load_cycles, 1);
  EXPECT_DOUBLE_EQ(c.energy.unit_dynamic_pj_per_cycle, 3.3709);
  EXPECT_DOUBLE_EQ(c.energy.unit_leakage_pj_per_cycle, 1.0240);
  // Inherited from bitfusion.yaml.
  EXPECT_DOUBLE_EQ(c.clock_mhz, 500);
  EXPECT_DOUBLE_EQ(c.energy.activation_sum_pj_per_cycle, 7.347);
  EXPECT_DOUBLE_EQ(c.energy.ppu_pj_per_element, 6.5);
  EXPECT_EQ(c.ibuf.size_bytes, bf.ibuf.size_bytes);
  EXPECT_EQ(c.wbuf.banks, bf.wbuf.banks);
  EXPECT_EQ(c.obuf.size_bytes, bf.obuf.size_bytes);
  EXPECT_EQ(c.offchip.bits_per_cycle, 192);
  EXPECT_EQ(c.offchip.ddr4.tREFI, 9360);
  EXPECT_EQ(c.ppu.lanes, 32);
  EXPECT_EQ(c.multipliers(), 8192);
  EXPECT_NE(c.fingerprint(), bf.fingerprint());
  // Provenance: each key points at the file that set it.
  const SourceLocation dyn = c.provenance.find("energy.unit_dynamic_pj_per_cycle");
  EXPECT_EQ(dyn.file, kBpvec);
  EXPECT_EQ(dyn.line, marked_line(kBpvec, "unit_dynamic_pj_per_cycle:"));
  const SourceLocation ibuf = c.provenance.find("buffers.ibuf.size_bytes");
  EXPECT_EQ(fs::weakly_canonical(ibuf.file), fs::weakly_canonical(kBitFusion));
  EXPECT_EQ(ibuf.line, marked_line(kBitFusion, "ibuf: {"));
}

TEST(HwConfigDerived, OverridesOneKey) {
  const std::string path = kData + "derived_ibuf.yaml";
  const HwConfig d = load_hw_config(path);
  HwConfig bf = load_hw_config(kBitFusion);
  EXPECT_EQ(d.name, "bitfusion-small-ibuf");
  EXPECT_EQ(d.ibuf.size_bytes, 8192);
  EXPECT_EQ(d.ibuf.banks, 16);  // the rest of the ibuf entry is inherited
  EXPECT_DOUBLE_EQ(d.ibuf.read_pj_per_bit, 0.059);
  EXPECT_EQ(d.provenance.find("buffers.ibuf.size_bytes").file, path);
  EXPECT_EQ(d.provenance.find("buffers.ibuf.size_bytes").line, marked_line(path, "# OVERRIDE"));
  // Equal to the base with the one key (and the name) changed.
  bf.ibuf.size_bytes = 8192;
  bf.name = d.name;
  EXPECT_EQ(d.fingerprint(), bf.fingerprint());
}

TEST(HwConfigDerived, ChainOfThreeFiles) {
  const HwConfig c = load_hw_config(kData + "derived_chain.yaml");
  EXPECT_EQ(c.name, "bpvec-cheap-ppu");
  EXPECT_EQ(c.kind, AcceleratorKind::kBpvec);
  EXPECT_DOUBLE_EQ(c.energy.ppu_pj_per_element, 3.25);
  EXPECT_DOUBLE_EQ(c.energy.unit_dynamic_pj_per_cycle, 3.3709);  // from bpvec.yaml
  EXPECT_EQ(c.ibuf.size_bytes, 32768);                           // from bitfusion.yaml
  EXPECT_EQ(c.multipliers(), 8192);
}

struct BadFile {
  const char* file;
  const char* key;
  const char* message;
};

void expect_file_error(const BadFile& c) {
  SCOPED_TRACE(c.file);
  const std::string path = kData + c.file;
  const int line = marked_line(path, "# ERROR");
  ASSERT_GT(line, 0);
  try {
    load_hw_config(path);
    ADD_FAILURE() << "loaded without an error";
  } catch (const FileError& e) {
    EXPECT_EQ(fs::weakly_canonical(e.file()), fs::weakly_canonical(path)) << e.what();
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_EQ(e.key(), c.key) << e.what();
    EXPECT_CONTAINS(e.what(), c.message);
  }
}

TEST(HwConfigErrors, BaseChainLoop) {
  expect_file_error({"loop_self.yaml", "base", "loops back"});
  // loop_a -> loop_b -> loop_a: reported at the `base:` line of loop_b that closes the loop.
  const std::string b = kData + "loop_b.yaml";
  try {
    load_hw_config(kData + "loop_a.yaml");
    ADD_FAILURE() << "loaded a loop";
  } catch (const FileError& e) {
    EXPECT_EQ(fs::weakly_canonical(e.file()), fs::weakly_canonical(b)) << e.what();
    EXPECT_EQ(e.line(), marked_line(b, "# ERROR"));
    EXPECT_EQ(e.key(), "base");
    EXPECT_CONTAINS(e.what(), "loops back");
    EXPECT_CONTAINS(e.what(), "loop_a.yaml");
  }
}
TEST(HwConfigErrors, UnknownKey) {
  expect_file_error({"bad_unknown_key.yaml", "array.colums", "unknown key"});
}
TEST(HwConfigErrors, WrongType) {
  expect_file_error({"bad_wrong_type.yaml", "clock_mhz", "expected a number, got 'fast'"});
}
TEST(HwConfigErrors, OutOfRange) {
  expect_file_error({"bad_out_of_range.yaml", "buffers.obuf.banks", "between 1 and 65536, got 0"});
}
TEST(HwConfigErrors, FusionBitsWithout2) {
  expect_file_error({"bad_fusion_bits.yaml", "array.fusion_bits", "2-bit mode"});
  expect_file_error({"bad_fusion_bits_value.yaml", "array.fusion_bits", "2, 4 or 8, got 3"});
}
TEST(HwConfigErrors, MissingFormat) {
  expect_file_error({"bad_missing_format.yaml", "format", "missing required key 'format'"});
}
TEST(HwConfigErrors, MissingBase) {
  expect_file_error({"bad_base_missing.yaml", "base", "does not exist"});
}
TEST(HwConfigErrors, ArrayUnitChecks) {
  expect_file_error({"bad_bitbricks.yaml", "array.bitbricks_per_unit", "16 BitBricks"});
  expect_file_error({"bad_nbves.yaml", "array.nbves_per_unit", "power of two"});
}
TEST(HwConfigErrors, Ddr4ChannelWidth) {
  expect_file_error(
      {"bad_ddr4_width.yaml", "offchip.ddr4.channel_width_bits", "multiple of device_width_bits"});
}
TEST(HwConfigErrors, BadChoice) {
  expect_file_error({"bad_accelerator.yaml", "accelerator", "'tpu'"});
}
// Each choice read into its enum keeps the reader's error: the file, the
// line and the key of the bad value, and the names it may take.
TEST(HwConfigErrors, BadEnumValuesNameFileLineAndKey) {
  struct Case {
    const char* line;  // bitfusion.yaml's line of the key
    const char* bad;
    const char* key;
    const char* choices;
  };
  for (const Case& c : {Case{"model: bandwidth", "model: hbm", "offchip.model", "bandwidth, ddr4"},
                        Case{"page_policy: open", "page_policy: adaptive",
                             "offchip.ddr4.page_policy", "open, closed"},
                        Case{"sram_accounting: array", "sram_accounting: per_tile",
                             "energy.sram_accounting", "array, per_mac"}}) {
    TempDir dir;
    std::string text = slurp(kBitFusion);
    const size_t at = text.find(c.line);
    ASSERT_NE(at, std::string::npos) << c.line;
    text.replace(at, std::string(c.line).size(), c.bad);
    const std::string path = dir.write("bad_choice.yaml", text);
    try {
      load_hw_config(path);
      ADD_FAILURE() << "loaded " << c.bad;
    } catch (const FileError& e) {
      EXPECT_EQ(e.file(), path);
      EXPECT_EQ(e.line(), marked_line(path, c.bad));
      EXPECT_EQ(e.key(), c.key);
      EXPECT_CONTAINS(e.what(), c.choices);
    }
  }
}
// A configuration with two independent mistakes reports both, one
// "FILE:LINE:COL: KEY: MESSAGE" per line in file order, not only the first.
TEST(HwConfigErrors, ValidationReportsEveryProblem) {
  TempDir dir;
  std::string text = slurp(kBitFusion);
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"fusion_bits: [2]", "fusion_bits: [4, 8]"},
        {"ibuf: {size_bytes: 32768", "ibuf: {size_bytes: 8"}}) {
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  }
  const std::string path = dir.write("two_mistakes.yaml", text);
  const int fusion_line = marked_line(path, "fusion_bits: [4, 8]");
  const int ibuf_line = marked_line(path, "ibuf: {size_bytes: 8");
  ASSERT_LT(fusion_line, ibuf_line);
  try {
    load_hw_config(path);
    ADD_FAILURE() << "loaded a configuration with two mistakes";
  } catch (const FileError& e) {
    // The first problem in the file is the error's location.
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), fusion_line);
    EXPECT_EQ(e.key(), "array.fusion_bits");
    std::vector<std::string> lines;
    std::istringstream in(e.what());
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    ASSERT_EQ(lines.size(), 2u) << e.what();
    EXPECT_EQ(lines[0].rfind(path + ":" + std::to_string(fusion_line) + ":", 0), 0u) << lines[0];
    EXPECT_CONTAINS(lines[0], "'array.fusion_bits': the 2-bit mode (2) must be allowed");
    EXPECT_EQ(lines[1].rfind(path + ":" + std::to_string(ibuf_line) + ":", 0), 0u) << lines[1];
    EXPECT_CONTAINS(lines[1], "'buffers.ibuf.size_bytes': a buffer needs at least 64 bytes");
  }
  // Either mistake alone reads exactly as a single error always did.
  const std::string one = dir.write("one_mistake.yaml", slurp(kBitFusion));
  HwConfig c = load_hw_config(one);
  try {
    apply_hw_override(c, "buffers.ibuf.size_bytes=8");
    ADD_FAILURE() << "accepted an 8-byte buffer";
  } catch (const FileError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    EXPECT_CONTAINS(e.what(), "'buffers.ibuf.size_bytes': a buffer needs at least 64 bytes");
  }
}

TEST(HwConfigErrors, DuplicateKey) {
  expect_file_error({"bad_duplicate_key.yaml", "clock_mhz", "more than once"});
}

TEST(HwConfigErrors, MissingKeyInAFullFile) {
  // bitfusion.yaml without its clock_mhz line.
  TempDir dir;
  std::string text = slurp(kBitFusion);
  const size_t at = text.find("clock_mhz:");
  ASSERT_NE(at, std::string::npos);
  text.erase(at, text.find('\n', at) - at + 1);
  const std::string path = dir.write("noclock.yaml", text);
  try {
    load_hw_config(path);
    ADD_FAILURE();
  } catch (const FileError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.key(), "clock_mhz");
    EXPECT_EQ(e.line(), marked_line(path, "format:"));  // the document's first key
    EXPECT_CONTAINS(e.what(), "missing required key 'clock_mhz'");
  }
  // A missing key inside a section is located at that section.
  text = slurp(kBitFusion);
  const size_t ppu = text.find("\nppu:\n");
  ASSERT_NE(ppu, std::string::npos);
  text = text.substr(0, ppu + 1) + "ppu: {}\n";
  const std::string path2 = dir.write("nolanes.yaml", text);
  try {
    load_hw_config(path2);
    ADD_FAILURE();
  } catch (const FileError& e) {
    EXPECT_EQ(e.key(), "ppu.lanes");
    EXPECT_EQ(e.line(), marked_line(path2, "ppu: {}"));
  }
}

TEST(HwConfigErrors, MissingFile) {
  EXPECT_CONTAINS(input_error_of([] { load_hw_config(kData + "nope.yaml"); }), "nope.yaml");
}

TEST(HwConfigOverride, SetsAKey) {
  HwConfig c = load_hw_config(kBitFusion);
  const std::string before = c.fingerprint();
  apply_hw_override(c, "buffers.ibuf.size_bytes=16384");
  EXPECT_EQ(c.ibuf.size_bytes, 16384);
  EXPECT_EQ(c.ibuf.banks, 16);
  EXPECT_EQ(c.wbuf.size_bytes, 65536);
  EXPECT_NE(c.fingerprint(), before);
  EXPECT_CONTAINS(c.provenance.find("buffers.ibuf.size_bytes").file, "--set");
  apply_hw_override(c, "clock_mhz=250.5");
  EXPECT_DOUBLE_EQ(c.clock_mhz, 250.5);
  apply_hw_override(c, "array.fusion_bits=[2, 4, 8]");
  EXPECT_EQ(c.array.fusion_bits, (std::vector<int>{2, 4, 8}));
  apply_hw_override(c, "offchip.ddr4.page_policy=closed");
  EXPECT_EQ(c.offchip.ddr4.page_policy, PagePolicy::kClosed);
  apply_hw_override(c, "buffers.obuf.double_buffered=false");
  EXPECT_FALSE(c.obuf.double_buffered);
  HwConfig b = load_hw_config(kBpvec);
  apply_hw_override(b, "array.nbve_length=8");
  EXPECT_EQ(b.multipliers(), 4096);
}

TEST(HwConfigOverride, BadAssignmentsNameSet) {
  const HwConfig original = load_hw_config(kBitFusion);
  for (const char* bad :
       {"buffers.ibuf.sizebytes=1", "buffers.ibuf.size_bytes=abc", "buffers.ibuf.size_bytes=0",
        "buffers.ibuf.size_bytes=16", "nosuchsection.x=1", "buffers.ibuf.size_bytes", "=5",
        "array.fusion_bits=[4]", "array.fusion_bits=[2,", "accelerator=gpu", "clock_mhz={a: 1}",
        "array.rows=[1, 2]", "buffers..size_bytes=1"}) {
    HwConfig c = original;
    const std::string m = input_error_of([&] { apply_hw_override(c, bad); });
    EXPECT_CONTAINS(m, "--set") << " for " << bad;
  }
  HwConfig c = original;
  const std::string m = input_error_of([&] { apply_hw_override(c, "buffers.ibuf.sizebytes=1"); });
  EXPECT_CONTAINS(m, "buffers.ibuf.sizebytes");
  EXPECT_CONTAINS(m, "unknown key");
}

TEST(HwConfigShipped, MultipliersFormula) {
  HwConfig c;
  c.kind = AcceleratorKind::kBitFusion;
  c.array.rows = 2;
  c.array.cols = 3;
  c.array.bitbricks_per_unit = 16;
  EXPECT_EQ(c.multipliers(), 96);
  c.kind = AcceleratorKind::kBpvec;
  c.array.nbves_per_unit = 32;
  c.array.nbve_length = 4;
  EXPECT_EQ(c.multipliers(), 768);
}

}  // namespace
// The resolved configuration (what results record and caches are keyed by)
// is a complete configuration: it reloads to the same values. The reader
// requires every key, so a value it knows but hw_config_json left out fails
// here.
TEST(HwConfigJson, ReloadsToTheSameConfiguration) {
  for (const char* name :
       {"bitfusion", "bpvec", "bitfusion_public_accounting", "bpvec_public_accounting"}) {
    HwConfig c = load_hw_config(kConfigs + name + ".yaml");
    apply_hw_override(c, "offchip.model=ddr4");
    const std::string file =
        (fs::temp_directory_path() / (std::string("palsim-hwjson-") + name + ".yaml")).string();
    std::ofstream(file) << hw_config_json(c).dump(1);
    const HwConfig back = load_hw_config(file);
    fs::remove(file);
    EXPECT_EQ(hw_config_json(back).dump(), hw_config_json(c).dump()) << name;
    EXPECT_EQ(back.fingerprint(), c.fingerprint()) << name;
  }
}

// Every value shapes the cache key: changing any one of them (through --set,
// as a user would) gives another fingerprint, so no cached mapping of one
// configuration is returned for another.
TEST(HwConfigJson, EveryValueChangesTheFingerprint) {
  const HwConfig base = load_hw_config(kConfigs + "bitfusion.yaml");
  std::vector<std::pair<std::string, nlohmann::ordered_json>> leaves;
  std::function<void(const nlohmann::ordered_json&, const std::string&)> walk =
      [&](const nlohmann::ordered_json& j, const std::string& path) {
        if (j.is_object()) {
          for (const auto& [k, v] : j.items()) walk(v, path.empty() ? k : path + "." + k);
        } else {
          leaves.emplace_back(path, j);
        }
      };
  walk(hw_config_json(base), "");
  int changed = 0;
  for (const auto& [path, v] : leaves) {
    std::string value;
    if (v.is_boolean())
      value = v.get<bool>() ? "false" : "true";
    else if (v.is_number_integer())
      value = std::to_string(v.get<int64_t>() + 2);
    else if (v.is_number())
      value = std::to_string(v.get<double>() * 1.5 + 0.25);
    else if (path == "offchip.model")
      value = "ddr4";
    else if (path == "offchip.ddr4.page_policy")
      value = "closed";
    else if (path == "energy.sram_accounting")
      value = "per_mac";
    else if (path == "name")
      value = "another";
    else
      continue;  // format, accelerator, fusion_bits: fixed or a list
    HwConfig c = base;
    try {
      apply_hw_override(c, path + "=" + value);
    } catch (const InputError&) {
      continue;  // a value the configuration does not allow (e.g. 18 BitBricks)
    }
    EXPECT_NE(c.fingerprint(), base.fingerprint()) << path << "=" << value;
    ++changed;
  }
  EXPECT_GE(changed, 60) << "most values must be exercised";
}

}  // namespace palsim::frontend
