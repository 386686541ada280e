#include "frontend/arch/hw_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

#include "common/error.h"
#include "common/input_file.h"
#include "common/text_check.h"
#include "frontend/arch/hw_config_json.h"

namespace palsim::frontend {

namespace fs = std::filesystem;

std::string to_string(AcceleratorKind k) {
  return k == AcceleratorKind::kBitFusion ? "bitfusion" : "bpvec";
}

namespace {

// Each choice's values and names, once.
template <typename E>
using Names = std::vector<std::pair<E, const char*>>;
const Names<OffchipModel> kOffchipModels = {{OffchipModel::kBandwidth, "bandwidth"},
                                            {OffchipModel::kDdr4, "ddr4"}};
const Names<PagePolicy> kPagePolicies = {{PagePolicy::kOpen, "open"},
                                         {PagePolicy::kClosed, "closed"}};
const Names<SramAccounting> kSramAccountings = {{SramAccounting::kArray, "array"},
                                                {SramAccounting::kPerMac, "per_mac"}};

template <typename E>
std::string name_of(const Names<E>& names, E v) {
  for (const auto& [value, name] : names) {
    if (value == v) return name;
  }
  return "?";
}

template <typename E>
bool value_of(const Names<E>& names, const std::string& name, E& out) {
  for (const auto& [value, n] : names) {
    if (n == name) {
      out = value;
      return true;
    }
  }
  return false;
}

// Reads a choice key into its enum: the file's errors are read_choice's.
template <typename E>
void read_enum(YamlMap& m, const std::string& key, const Names<E>& names, E& out) {
  std::vector<std::string> choices;
  for (const auto& entry : names) choices.push_back(entry.second);
  std::string name = name_of(names, out);
  m.read_choice(key, name, choices);
  value_of(names, name, out);
}

}  // namespace

std::string to_string(OffchipModel v) {
  return name_of(kOffchipModels, v);
}
std::string to_string(PagePolicy v) {
  return name_of(kPagePolicies, v);
}
std::string to_string(SramAccounting v) {
  return name_of(kSramAccountings, v);
}
bool parse(const std::string& name, OffchipModel& out) {
  return value_of(kOffchipModels, name, out);
}
bool parse(const std::string& name, PagePolicy& out) {
  return value_of(kPagePolicies, name, out);
}
bool parse(const std::string& name, SramAccounting& out) {
  return value_of(kSramAccountings, name, out);
}

int64_t HwConfig::multipliers() const {
  const int64_t units = int64_t(array.rows) * array.cols;
  return kind == AcceleratorKind::kBitFusion ? units * array.bitbricks_per_unit
                                             : units * array.nbves_per_unit * array.nbve_length;
}

namespace {

constexpr const char* kHwFormat = "palsim-hw-1";

void read_buffer(YamlMap& buffers, const std::string& key, BufferConfig& b) {
  b.name = key;
  YamlMap m = buffers.child(key);
  m.read("size_bytes", b.size_bytes, 1, int64_t(1) << 40);
  m.read("banks", b.banks, 1, 1 << 16);
  m.read("double_buffered", b.double_buffered);
  m.read("read_pj_per_bit", b.read_pj_per_bit, 0.0, 1e6);
  m.read("write_pj_per_bit", b.write_pj_per_bit, 0.0, 1e6);
  m.finish();
}

void read_ddr4(YamlMap& m, Ddr4Config& d) {
  m.read("tck_ns", d.tck_ns, 1e-3, 1e3);
  m.read("channel_width_bits", d.channel_width_bits, 8, 1024);
  m.read("device_width_bits", d.device_width_bits, 4, 64);
  m.read("bank_groups", d.bank_groups, 1, 16);
  m.read("banks_per_group", d.banks_per_group, 1, 16);
  m.read("rows", d.rows, 1, int64_t(1) << 24);
  m.read("columns", d.columns, 8, 1 << 16);
  m.read("burst_length", d.burst_length, 1, 64);
  const std::pair<const char*, int*> timings[] = {
      {"CL", &d.CL},         {"CWL", &d.CWL},       {"tRCD", &d.tRCD},     {"tRP", &d.tRP},
      {"tRAS", &d.tRAS},     {"tRRD_S", &d.tRRD_S}, {"tRRD_L", &d.tRRD_L}, {"tCCD_S", &d.tCCD_S},
      {"tCCD_L", &d.tCCD_L}, {"tWTR_S", &d.tWTR_S}, {"tWTR_L", &d.tWTR_L}, {"tRTP", &d.tRTP},
      {"tWR", &d.tWR},       {"tFAW", &d.tFAW},     {"tRFC", &d.tRFC},     {"tREFI", &d.tREFI}};
  for (const auto& [key, field] : timings) m.read(key, *field, 1, 1 << 20);
  const std::pair<const char*, double*> currents[] = {
      {"IDD0", &d.IDD0},   {"IDD2N", &d.IDD2N},   {"IDD3N", &d.IDD3N}, {"IDD4R", &d.IDD4R},
      {"IDD4W", &d.IDD4W}, {"IDD5AB", &d.IDD5AB}, {"VDD", &d.VDD}};
  for (const auto& [key, field] : currents) m.read(key, *field, 0.0, 1e6);
  read_enum(m, "page_policy", kPagePolicies, d.page_policy);
  m.finish();
}

void read_fields(YamlMap& doc, HwConfig& c) {
  doc.read("name", c.name);
  std::string kind = to_string(c.kind);
  doc.read_choice("accelerator", kind, {"bitfusion", "bpvec"});
  c.kind = kind == "bitfusion" ? AcceleratorKind::kBitFusion : AcceleratorKind::kBpvec;
  doc.read("clock_mhz", c.clock_mhz, 1e-3, 1e6);
  {
    YamlMap a = doc.child("array");
    a.read("rows", c.array.rows, 1, 4096);
    a.read("cols", c.array.cols, 1, 4096);
    a.read("weight_load_cycles", c.array.weight_load_cycles, 1, 1 << 16);
    if (c.kind == AcceleratorKind::kBitFusion) {
      a.read("bitbricks_per_unit", c.array.bitbricks_per_unit, 1, 1024);
      a.read("fusion_bits", c.array.fusion_bits, 1, 64);
    } else {
      a.read("nbves_per_unit", c.array.nbves_per_unit, 1, 1024);
      a.read("nbve_length", c.array.nbve_length, 1, 1 << 16);
      a.read("fusion_bits", c.array.fusion_bits, 1, 64);
    }
    a.finish();
  }
  {
    YamlMap b = doc.child("buffers");
    read_buffer(b, "ibuf", c.ibuf);
    read_buffer(b, "wbuf", c.wbuf);
    read_buffer(b, "obuf", c.obuf);
    b.read("accumulator_bits", c.accumulator_bits, 8, 64);
    b.finish();
  }
  {
    YamlMap o = doc.child("offchip");
    read_enum(o, "model", kOffchipModels, c.offchip.model);
    o.read("bits_per_cycle", c.offchip.bits_per_cycle, 1, 1 << 20);
    o.read("latency_cycles", c.offchip.latency_cycles, 0, 1 << 20);
    o.read("pj_per_bit", c.offchip.pj_per_bit, 0.0, 1e6);
    YamlMap d = o.child("ddr4");
    read_ddr4(d, c.offchip.ddr4);
    o.finish();
  }
  {
    YamlMap e = doc.child("energy");
    e.read("unit_dynamic_pj_per_cycle", c.energy.unit_dynamic_pj_per_cycle, 0.0, 1e9);
    e.read("unit_leakage_pj_per_cycle", c.energy.unit_leakage_pj_per_cycle, 0.0, 1e9);
    e.read("activation_sum_pj_per_cycle", c.energy.activation_sum_pj_per_cycle, 0.0, 1e9);
    e.read("ppu_pj_per_element", c.energy.ppu_pj_per_element, 0.0, 1e9);
    read_enum(e, "sram_accounting", kSramAccountings, c.energy.sram_accounting);
    e.finish();
  }
  {
    YamlMap p = doc.child("ppu");
    p.read("lanes", c.ppu.lanes, 1, 1 << 16);
    p.finish();
  }
}

// Every problem is reported, not only the first (one error listing them all,
// in file order); a single problem reads as it always did.
void validate(const HwConfig& c) {
  std::vector<FileError> problems;
  auto problem = [&](const std::string& key, const std::string& message) {
    problems.push_back(c.provenance.error(key, message));
  };
  // One problem per key: the list's first bad width, else a missing 2.
  const std::set<int> allowed = {2, 4, 8};
  const std::vector<int>& fusion = c.array.fusion_bits;
  const auto bad_width =
      std::find_if(fusion.begin(), fusion.end(), [&](int b) { return !allowed.count(b); });
  if (fusion.empty()) {
    problem("array.fusion_bits", "list at least the 2-bit mode");
  } else if (bad_width != fusion.end()) {
    problem("array.fusion_bits",
            fmt::format("operand widths must be 2, 4 or 8, got {}", *bad_width));
  } else if (std::find(fusion.begin(), fusion.end(), 2) == fusion.end()) {
    problem("array.fusion_bits", "the 2-bit mode (2) must be allowed");
  }
  if (c.kind == AcceleratorKind::kBitFusion) {
    if (c.array.bitbricks_per_unit != 16) {
      problem("array.bitbricks_per_unit",
              "a Bit Fusion unit has 16 BitBricks (8-bit max operands, 2-bit min)");
    }
  } else {
    const int n = c.array.nbves_per_unit;
    if (n < 16 || (n & (n - 1)) != 0) {
      problem("array.nbves_per_unit",
              "must be a power of two of at least 16 (one NBVE per slice pair of 8-bit operands)");
    }
  }
  for (const BufferConfig* b : {&c.ibuf, &c.wbuf, &c.obuf}) {
    if (b->size_bytes < 64)
      problem("buffers." + b->name + ".size_bytes", "a buffer needs at least 64 bytes");
  }
  if (c.offchip.model == OffchipModel::kDdr4) {
    const Ddr4Config& d = c.offchip.ddr4;
    if (d.channel_width_bits % d.device_width_bits != 0) {
      problem("offchip.ddr4.channel_width_bits", "must be a multiple of device_width_bits");
    }
    if (d.tRAS + d.tRP > d.tREFI) problem("offchip.ddr4.tREFI", "must exceed tRAS + tRP");
  }
  throw_file_errors(std::move(problems));
}

void load_into(const std::string& path, HwConfig& cfg, std::vector<std::string>& chain) {
  // error_code overloads throughout: a path the OS refuses (too long, bad
  // permissions) is reported as the file's problem, not as an exception.
  std::error_code ec;
  std::string canonical = fs::weakly_canonical(fs::path(path), ec).string();
  if (ec) canonical = path;
  for (const auto& seen : chain) {
    if (seen == canonical)
      throw InputError(fmt::format("{}: 'base' chain loops back to this file", path));
  }
  chain.push_back(canonical);
  YAML::Node root = load_yaml_file(path);
  YamlMap doc(root, path, "", false, nullptr);
  std::string format;
  doc.read("format", format);
  if (format != kHwFormat) {
    doc.fail("format", fmt::format("unsupported hardware format '{}' (this palsim reads '{}')",
                                   format, kHwFormat));
  }
  bool overlay = false;
  if (doc.has("base")) {
    std::string base;
    doc.read("base", base);
    const fs::path base_path = fs::path(path).parent_path() / base;
    // An empty name would resolve to the directory. A FIFO or device would
    // block or never end: refused here, at the line that names it.
    if (base.empty()) doc.fail("base", "'' is not a configuration file");
    if (!fs::exists(base_path, ec)) {
      doc.fail("base", fmt::format("base file '{}' does not exist{}", base_path.string(),
                                   ec ? " (" + ec.message() + ")" : ""));
    }
    const std::string problem = input_file_problem(base_path.string());
    if (!problem.empty())
      doc.fail("base", fmt::format("'{}' is not a configuration file ({})", base, problem));
    // Report a loop at the `base:` line that closes it.
    std::string base_canonical = fs::weakly_canonical(base_path, ec).string();
    if (ec) base_canonical = base_path.string();
    for (const auto& seen : chain) {
      if (seen == base_canonical) {
        doc.fail("base", fmt::format("'base' chain loops back to '{}' ({})", base_path.string(),
                                     fmt::join(chain, " -> ")));
      }
    }
    load_into(base_path.string(), cfg, chain);
    overlay = true;
  }
  YamlMap fields(root, path, "", overlay, &cfg.provenance);
  fields.read("format", format);
  if (overlay) {
    std::string base;
    fields.read("base", base);
  }
  read_fields(fields, cfg);
  fields.finish();
}

}  // namespace

HwConfig load_hw_config(const std::string& path) {
  HwConfig cfg;
  cfg.provenance.set_fallback_file(path);
  std::vector<std::string> chain;
  load_into(path, cfg, chain);
  cfg.file = path;
  validate(cfg);
  return cfg;
}

void apply_hw_override(HwConfig& cfg, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(fmt::format(
        "--set '{}': expected KEY=VALUE, e.g. buffers.ibuf.size_bytes=16384", assignment));
  }
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  // Build the nested overlay document {a: {b: {c: value}}} and read it as an overlay.
  YAML::Node leaf;
  try {
    leaf = YAML::Load(value.empty() ? "''" : value);
  } catch (const YAML::Exception& e) {
    throw InputError(
        fmt::format("--set {}: the value '{}' is not valid YAML: {}", assignment, value, e.msg));
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  YAML::Node node = leaf;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    YAML::Node parent(YAML::NodeType::Map);
    parent[*it] = node;
    node = parent;
  }
  const std::string where = fmt::format("--set {}", printable(assignment));
  check_yaml_text(node, where);
  YamlMap doc(node, where, "", true, &cfg.provenance);
  read_fields(doc, cfg);
  doc.finish();
  validate(cfg);
  cfg.overrides.push_back(assignment);
}

std::string HwConfig::fingerprint() const {
  // Every value the configuration holds (not a hand-listed subset): a field
  // the reader knows is in hw_config_json, or the configuration would not
  // reload from it (tested), so no value can shape a mapping without being
  // in the key.
  return config_fingerprint(hw_config_json(*this));
}

}  // namespace palsim::frontend
