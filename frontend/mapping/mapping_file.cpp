#include "frontend/mapping/mapping_file.h"

#include <fmt/format.h>

#include <cstring>
#include <set>

namespace palsim::frontend {

namespace {

const char* const kFormat = "palsim-mapping-1";
const char* const kDims = "NHWMC";

LoopOrder parse_order(YamlMap& m, const std::string& key) {
  std::string s;
  m.read(key, s);
  LoopOrder order{};
  std::string seen;
  if (s.size() == kLoopDims) {
    for (size_t i = 0; i < s.size(); ++i) {
      const char* at = std::strchr(kDims, s[i]);
      if (!at || s[i] == '\0' || seen.find(s[i]) != std::string::npos) break;
      seen += s[i];
      order[i] = static_cast<LoopDim>(at - kDims);
    }
  }
  if (seen.size() != kLoopDims)
    m.fail(key,
           fmt::format("'{}' is not an order of the five loops N, H, W, M, C (e.g. NHWMC)", s));
  return order;
}

// A double-quoted YAML scalar.
std::string quoted(const std::string& text) {
  std::string q = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

GivenMapping read_entry(YamlMap& e) {
  GivenMapping g;
  g.path = e.path_of("").substr(0, e.path_of("").size() - 1);
  e.read("op", g.op);
  Mapping& m = g.mapping;
  e.read_optional("pack", m.pack, 1, 1 << 20);
  {
    YamlMap t = e.child("tiles");
    int* tiles[kLoopDims] = {&m.n_t, &m.h_t, &m.w_t, &m.m_t, &m.c_t};
    for (int i = 0; i < kLoopDims; ++i) t.read(std::string(1, kDims[i]), *tiles[i], 1);
    t.finish();
  }
  m.order = parse_order(e, "order");
  {
    YamlMap l = e.child("levels");
    l.read("input", m.level[0], 0, kLoopDims);
    l.read("weight", m.level[1], 0, kLoopDims);
    l.read("output", m.level[2], 0, kLoopDims);
    l.finish();
  }
  {
    YamlMap a = e.child("mode");
    a.read("fa", m.mode.fa, 1);
    a.read("fw", m.mode.fw, 1);
    a.read("lanes", m.mode.lanes_per_unit, 1);
    a.finish();
  }
  if (auto o = e.optional_child("onchip")) {
    o->read_optional("input", g.onchip_input);
    o->read_optional("output", g.onchip_output);
    o->finish();
  }
  e.finish();
  return g;
}

}  // namespace

const GivenMapping* MappingFile::find(const std::string& op) const {
  for (const GivenMapping& g : layers)
    if (g.op == op) return &g;
  return nullptr;
}

void MappingFile::fail(const GivenMapping& entry, const std::string& key,
                       const std::string& message) const {
  provenance.fail(key.empty() ? entry.path : entry.path + "." + key, message);
}

MappingFile load_mapping_file(const std::string& path) {
  MappingFile f;
  f.file = path;
  f.provenance.set_fallback_file(path);
  const YAML::Node doc = load_yaml_file(path);
  if (!doc.IsMap()) throw FileError(path, 1, 1, "(document)", "expected a map with 'layers'");
  YamlMap root(doc, path, "", false, &f.provenance);
  std::string format;
  root.read_choice("format", format, {kFormat});
  std::string info;
  root.read_optional("network", info);
  root.read_optional("hardware", info);
  std::set<std::string> ops;
  for (YamlMap& e : root.list_of_maps("layers")) {
    GivenMapping g = read_entry(e);
    if (!ops.insert(g.op).second) e.fail("op", fmt::format("operation '{}' given twice", g.op));
    f.layers.push_back(std::move(g));
  }
  root.finish();
  return f;
}

std::string mapping_file_text(const std::vector<GivenMapping>& layers, const std::string& network,
                              const std::string& hardware) {
  std::string s = fmt::format(
      "# palsim mapping file (docs/formats.md): give it to palsim simulate --mapping.\n"
      "format: {}\nnetwork: {}\nhardware: {}\nlayers:\n",
      kFormat, quoted(network), quoted(hardware));
  for (const GivenMapping& g : layers) {
    const Mapping& m = g.mapping;
    s += fmt::format("  - op: {}\n", quoted(g.op));
    if (m.pack > 1) s += fmt::format("    pack: {}\n", m.pack);
    s += fmt::format("    tiles: {{N: {}, H: {}, W: {}, M: {}, C: {}}}\n", m.n_t, m.h_t, m.w_t,
                     m.m_t, m.c_t);
    s += fmt::format("    order: {}\n", m.order_string());
    s += fmt::format("    levels: {{input: {}, weight: {}, output: {}}}\n", m.level[0], m.level[1],
                     m.level[2]);
    s += fmt::format("    mode: {{fa: {}, fw: {}, lanes: {}}}\n", m.mode.fa, m.mode.fw,
                     m.mode.lanes_per_unit);
    if (g.onchip_input || g.onchip_output)
      s += fmt::format("    onchip: {{input: {}, output: {}}}\n", g.onchip_input, g.onchip_output);
  }
  return s;
}

}  // namespace palsim::frontend
