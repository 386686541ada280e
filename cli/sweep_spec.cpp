#include "cli/sweep_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "common/build_info.h"
#include "common/error.h"
#include "common/fnv1a.h"
#include "common/input_file.h"
#include "common/yaml_reader.h"
#include "frontend/builders/registry.h"
#include "frontend/builders/request_fields.h"
#include "frontend/builders/request_json.h"
#include "training/model_file.h"

namespace palsim::cli {

namespace fs = std::filesystem;

std::string default_sweep_db(const SweepSpec& spec) {
  return (fs::path(spec.file).parent_path() / (spec.name + ".db")).string();
}

std::string model_file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read the file", path));
  uint64_t h = kFnv1aBasis;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    h = fnv1a64(buf, static_cast<size_t>(in.gcount()), h);
  return fmt::format("{:016x}", h);
}

const std::shared_ptr<const OverrideSet>& no_overrides() {
  static const auto empty = std::make_shared<const OverrideSet>();
  return empty;
}

bool SweepPoint::builtin_network() const {
  return model.empty() && frontend::network_takes_method(network);
}

frontend::NetworkRequest SweepPoint::request() const {
  frontend::NetworkRequest r;
  r.network = network;
  r.method = method;
  r.method_given = builtin_network();
  r.input_size = shape.input_size;
  r.input_channels = shape.input_channels;
  r.classes = shape.classes;
  r.base_width = shape.base_width;
  r.stem = shape.stem;
  r.blocks = shape.blocks;
  r.projections = shape.projections;
  r.width = shape.width;
  r.cyclic_groups = shape.cyclic_groups;
  return r;
}

nlohmann::json SweepPoint::params() const {
  nlohmann::json j;
  j["network"] = network;
  frontend::add_shape_json(request(), j);
  if (!model.empty()) {
    j["method"] = "trained";
    j["model"] = model;
    j["label"] = model_label;
  } else {
    if (builtin_network()) frontend::add_method_json(method, j);
  }
  j["hardware"] = hardware;
  nlohmann::json o = nlohmann::json::object();
  for (const auto& [k, v] : *overrides) o[k] = v;
  j["overrides"] = o;
  j["fp_layers"] = frontend::to_string(lowering.fp_layers);
  j["batch"] = lowering.batch;
  j["onchip"] = lowering.onchip_intermediates;
  j["mode"] = sim::to_string(mode);
  return j;
}

std::string point_key(const SweepPoint& p, const frontend::HwConfig& hw) {
  nlohmann::json j = p.params();
  j.erase("hardware");  // the file name does not matter, its values do
  j["hardware_values"] = hw.fingerprint();
  // A model point is keyed by the model's content, not only its path: a
  // re-exported model is a new point.
  if (!p.model.empty()) j["model_hash"] = model_file_hash(p.model);
  // A network file likewise: an edited file is a new point.
  if (p.model.empty() && !frontend::is_builtin_network(p.network))
    j["network_file_hash"] = model_file_hash(p.network);
  j["simulator_version"] = simulator_version();
  return fnv1a64_hex(j.dump(), kFnv1aLegacyBasis);
}

namespace {

// More points than any sweep can run: at the measured 3 points/s of a fast
// ResNet-18 sweep on two cores (README "Performance"), 100,000 points take 9
// hours (Table 2 is 36 simulations). Larger studies are several sweeps or
// shards; a larger spec is a typo, and refusing it before the points are built
// keeps loading it fast (a 936,928-point spec took 4 s to build under ASan).
constexpr size_t kMaxPoints = 100000;

// A scalar or a list of scalars, as strings (a list of one for a scalar).
std::vector<YAML::Node> values_of(const YAML::Node& n) {
  std::vector<YAML::Node> out;
  if (n.IsSequence()) {
    for (const auto& v : n) out.push_back(v);
  } else {
    out.push_back(n);
  }
  return out;
}

[[noreturn]] void fail_at(const std::string& file, const YAML::Node& n, const std::string& key,
                          const std::string& msg) {
  const SourceLocation loc = location_of(n, file);
  throw FileError(loc.file, loc.line, loc.column, key, msg);
}

// A hardware configuration named at `n` of sweep file `file` (relative to its
// directory `dir`), resolved; refused there when it names no file.
std::string hardware_path(const std::string& file, const fs::path& dir, const YAML::Node& n,
                          const std::string& key, const std::string& name) {
  const fs::path p = dir / name;
  if (const std::string why = input_file_problem(p.string()); !why.empty()) {
    fail_at(
        file, n, key,
        fmt::format("configuration '{}': {} (paths are relative to the sweep file)", name, why));
  }
  return p.lexically_normal().string();
}

// A network named at `n`: a built-in name as it is, otherwise a network file
// next to the sweep, resolved.
std::string network_path(const std::string& file, const fs::path& dir, const YAML::Node& n,
                         const std::string& key, const std::string& name) {
  if (frontend::is_builtin_network(name)) return name;
  const fs::path p = dir / name;
  if (const std::string why = input_file_problem(p.string()); !why.empty()) {
    fail_at(file, n, key,
            fmt::format("'{}' is neither a built-in network ({}) nor a file next to the sweep: {}",
                        name, fmt::join(frontend::builtin_networks(), ", "), why));
  }
  // An ONNX model is read now: whether methods apply to it depends on it.
  try {
    frontend::network_takes_method(p.string());
  } catch (const InputError& e) {
    fail_at(file, n, key, e.what());
  }
  return p.string();
}

int int_value(const std::string& file, const YAML::Node& n, const std::string& key, int lo,
              int hi) {
  if (!n.IsScalar()) fail_at(file, n, key, "expected an integer");
  try {
    size_t pos = 0;
    const int v = std::stoi(n.Scalar(), &pos);
    if (pos != n.Scalar().size()) throw std::invalid_argument("");
    if (v < lo || v > hi)
      fail_at(file, n, key, fmt::format("must be between {} and {}, got {}", lo, hi, v));
    return v;
  } catch (const std::invalid_argument&) {
    fail_at(file, n, key, fmt::format("expected an integer, got '{}'", n.Scalar()));
  } catch (const std::out_of_range&) {
    fail_at(file, n, key, "out of range");
  }
}

std::string string_value(const std::string& file, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) fail_at(file, n, key, "expected a string");
  return n.Scalar();
}

bool bool_value(const std::string& file, const YAML::Node& n, const std::string& key) {
  if (n.IsScalar() && n.Scalar() == "true") return true;
  if (n.IsScalar() && n.Scalar() == "false") return false;
  fail_at(file, n, key, "expected true or false");
}

// One `methods:` entry expanded into method options.
std::vector<frontend::MethodOptions> expand_method(const std::string& file, const YAML::Node& entry,
                                                   size_t index) {
  const std::string path = fmt::format("methods[{}]", index);
  if (!entry.IsMap())
    fail_at(file, entry, path, "expected a mapping such as {method: palquant, B: [2], G: [1, 2]}");
  static const std::vector<std::string> keys = {
      "method", "bits", "abits",           "wbits",  "slice_bits",  "quantizer",
      "B",      "G",    "channel_shuffle", "cyclic", "permutation", "permute_direction"};
  for (auto it = entry.begin(); it != entry.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
      fail_at(file, it->first, path + "." + k,
              fmt::format("unknown key (allowed: {})", fmt::join(keys, ", ")));
    }
  }
  if (!entry["method"]) fail_at(file, entry, path, "missing required key 'method'");
  frontend::Method m;
  try {
    m = frontend::parse_method(string_value(file, entry["method"], path + ".method"));
  } catch (const InputError& e) {
    fail_at(file, entry["method"], path + ".method", e.what());
  }
  // A key the method does not read would label points with a value that did
  // not shape them (and repeat identical points): refused at its line.
  {
    using frontend::Method;
    const bool bits = m == Method::kLsq || m == Method::kEwgs || m == Method::kBitDecomposed;
    const std::vector<std::pair<std::vector<const char*>, bool>> applies = {
        {{"bits", "abits", "wbits"}, bits},
        {{"slice_bits", "quantizer"}, m == Method::kBitDecomposed},
        {{"B", "G", "channel_shuffle", "cyclic", "permutation", "permute_direction"},
         m == Method::kPalQuant}};
    for (const auto& [ks, ok] : applies) {
      for (const char* k : ks) {
        if (!ok && entry[k]) {
          fail_at(file, entry[k], path + "." + k,
                  fmt::format("does not apply to method {}", frontend::to_string(m)));
        }
      }
    }
  }
  // Cartesian product over the list-valued fields.
  std::vector<frontend::MethodOptions> out(1);
  out[0].method = m;
  auto expand = [&](const char* key,
                    const std::function<void(frontend::MethodOptions&, const YAML::Node&)>& set) {
    if (!entry[key]) return;
    std::vector<frontend::MethodOptions> next;
    for (const auto& base : out) {
      for (const YAML::Node& v : values_of(entry[key])) {
        frontend::MethodOptions o = base;
        set(o, v);
        next.push_back(o);
      }
    }
    out = next;
  };
  const std::string p = path + ".";
  // A value of a field of the request table, within the field's range.
  auto field_value = [&](frontend::RequestField f, const YAML::Node& v, const char* key = nullptr) {
    const auto& info = frontend::field_info(f);
    return int_value(file, v, p + (key ? key : info.key), static_cast<int>(info.min),
                     static_cast<int>(info.max));
  };
  using frontend::RequestField;
  // `bits` sets both widths (one range: they share it).
  expand("bits", [&](auto& o, const YAML::Node& v) {
    o.a_bits = o.w_bits = field_value(RequestField::kABits, v, "bits");
  });
  expand("abits",
         [&](auto& o, const YAML::Node& v) { o.a_bits = field_value(RequestField::kABits, v); });
  expand("wbits",
         [&](auto& o, const YAML::Node& v) { o.w_bits = field_value(RequestField::kWBits, v); });
  expand("slice_bits", [&](auto& o, const YAML::Node& v) {
    o.slice_bits = field_value(RequestField::kSliceBits, v);
  });
  expand("quantizer", [&](auto& o, const YAML::Node& v) {
    const std::string q = string_value(file, v, p + "quantizer");
    if (q != "lsq" && q != "ewgs") fail_at(file, v, p + "quantizer", "must be lsq or ewgs");
    o.decomposed_quantizer = q == "lsq" ? frontend::Quantizer::kLsq : frontend::Quantizer::kUniform;
  });
  expand("B", [&](auto& o, const YAML::Node& v) { o.B = field_value(RequestField::kB, v); });
  expand("G", [&](auto& o, const YAML::Node& v) { o.G = field_value(RequestField::kG, v); });
  expand("channel_shuffle", [&](auto& o, const YAML::Node& v) {
    try {
      o.channel_shuffle =
          frontend::parse_shuffle_mode(string_value(file, v, p + "channel_shuffle"));
    } catch (const InputError& e) {
      fail_at(file, v, p + "channel_shuffle", e.what());
    }
  });
  expand("cyclic", [&](auto& o, const YAML::Node& v) {
    o.cyclic_shuffle = bool_value(file, v, p + "cyclic");
  });
  expand("permutation", [&](auto& o, const YAML::Node& v) {
    o.cyclic_permutation = bool_value(file, v, p + "permutation");
  });
  expand("permute_direction", [&](auto& o, const YAML::Node& v) {
    const std::string d = string_value(file, v, p + "permute_direction");
    if (d != "paper" && d != "reference")
      fail_at(file, v, p + "permute_direction", "must be paper or reference");
    o.permute_direction = d == "paper" ? 1 : -1;
  });
  for (const auto& o : out) {
    try {
      o.validate();
    } catch (const frontend::RequestFieldError& e) {
      // At the key's line, in the file's terms (not the command line's).
      const char* key = frontend::field_info(e.field()).key;
      fail_at(file, entry[key] ? entry[key] : entry, p + key, e.problem());
    } catch (const InputError& e) {
      fail_at(file, entry, path, e.what());
    }
  }
  return out;
}

// Whether `point` matches every field of a filter entry (exclude).
bool matches(const nlohmann::json& point, const nlohmann::json& filter) {
  for (const auto& [k, v] : filter.items()) {
    if (k == "overrides") {
      for (const auto& [ok, ov] : v.items()) {
        if (!point["overrides"].contains(ok) || point["overrides"][ok] != ov) return false;
      }
      continue;
    }
    if (!point.contains(k) || point[k] != v) return false;
  }
  return true;
}

nlohmann::json yaml_to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (auto it = n.begin(); it != n.end(); ++it) j[it->first.Scalar()] = yaml_to_json(it->second);
    return j;
  }
  if (n.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& v : n) j.push_back(yaml_to_json(v));
    return j;
  }
  const std::string s = n.Scalar();
  if (s == "true") return true;
  if (s == "false") return false;
  try {
    size_t pos = 0;
    const long long v = std::stoll(s, &pos);
    if (pos == s.size()) return v;
  } catch (...) {
  }
  return s;
}

}  // namespace

SweepSpec load_sweep(const std::string& path) {
  YAML::Node root = load_yaml_file(path);
  YamlMap doc(root, path, "");
  SweepSpec spec;
  spec.file = path;
  std::string format;
  doc.read("format", format);
  if (format != "palsim-sweep-1") doc.fail("format", "expected palsim-sweep-1");
  doc.read("name", spec.name);
  const fs::path dir = fs::path(path).parent_path();
  std::vector<std::pair<std::string, NetworkShape>> networks;
  const bool has_models = doc.has("models");
  const bool builtin_points = !has_models || doc.has("networks") || doc.has("methods");
  if (builtin_points) {
    const YAML::Node ns = doc.raw("networks");
    if (!ns.IsSequence() || ns.size() == 0)
      doc.fail("networks", "expected a non-empty list of networks");
    for (size_t i = 0; i < ns.size(); ++i) {
      const std::string np = fmt::format("networks[{}]", i);
      std::string name;
      NetworkShape shape;
      if (ns[i].IsMap()) {
        YamlMap m(ns[i], path, np);
        m.read("name", name);
        using frontend::read_field_optional;
        using frontend::RequestField;
        read_field_optional(m, RequestField::kInputSize, shape.input_size);
        read_field_optional(m, RequestField::kInputChannels, shape.input_channels);
        read_field_optional(m, RequestField::kClasses, shape.classes);
        read_field_optional(m, RequestField::kBaseWidth, shape.base_width);
        if (m.has("stem")) {
          std::string st;
          m.read_choice("stem", st, {"imagenet", "small"});
          shape.stem = st;
        }
        if (m.has("blocks")) {
          std::vector<int> b;
          frontend::read_field(m, RequestField::kBlocks, b);
          const size_t stages = name == "shufflenetv2" ? 3 : 4;
          if (b.size() != stages)
            m.fail("blocks", fmt::format("expected {} stages for {}", stages, name));
          shape.blocks = b;
        }
        if (m.has("projections")) {
          if (name != "plain18") m.fail("projections", "applies to plain18 only");
          std::string pr;
          m.read_choice("projections", pr, {"keep", "drop"});
          shape.projections = pr;
        }
        if (m.has("width")) {
          if (name != "shufflenetv2") m.fail("width", "applies to shufflenetv2 only");
          double w = 1.0;
          m.read("width", w, 0.5, 2.0);
          if (w != 0.5 && w != 1.0 && w != 1.5 && w != 2.0)
            m.fail("width", "must be 0.5, 1.0, 1.5 or 2.0");
          shape.width = w;
        }
        if (m.has("cyclic_groups") && name != "shufflenetv2")
          m.fail("cyclic_groups", "applies to shufflenetv2 only");
        read_field_optional(m, RequestField::kCyclicGroups, shape.cyclic_groups);
        if (m.has("base_width") && name == "shufflenetv2")
          m.fail("base_width", "shufflenetv2 takes width, not base_width");
        m.finish();
        if (!frontend::is_builtin_network(name))
          m.fail("name", "builder options apply to built-in networks only");
      } else {
        name = network_path(path, dir, ns[i], np, string_value(path, ns[i], np));
      }
      networks.emplace_back(name, shape);
    }
  }
  // A method builds a built-in network in a form; a network file carries its
  // own quantization, so methods are crossed with the built-in networks only
  // and a file network is one point (never labelled with a method that did
  // not shape it).
  std::vector<frontend::MethodOptions> method_list;
  std::vector<std::string> file_networks;
  bool any_builtin = false;
  for (const auto& [net, shape] : networks) {
    if (frontend::network_takes_method(net))
      any_builtin = true;
    else
      file_networks.push_back(net);
  }
  if (builtin_points && any_builtin) {
    const YAML::Node methods = doc.raw("methods");
    if (!methods.IsSequence() || methods.size() == 0)
      doc.fail("methods",
               "expected a non-empty list of methods (the forms of the built-in networks)");
    for (size_t i = 0; i < methods.size(); ++i) {
      for (const auto& m : expand_method(path, methods[i], i)) method_list.push_back(m);
    }
  } else if (doc.has("methods")) {
    doc.fail(
        "methods",
        fmt::format("methods build the built-in networks; the network files ({}) carry their own "
                    "quantization, so no method would shape their points: remove 'methods'",
                    fmt::join(file_networks, ", ")));
  }
  // The method list each network is crossed with: one unused entry for a file.
  const std::vector<frontend::MethodOptions> file_method = {frontend::MethodOptions{}};
  auto methods_of = [&](const std::string& net) -> const std::vector<frontend::MethodOptions>& {
    return frontend::network_takes_method(net) ? method_list : file_method;
  };
  // Trained models: (resolved path, label, network name).
  struct ModelEntry {
    std::string file, label, network;
  };
  std::vector<ModelEntry> models;
  if (has_models) {
    const YAML::Node ms = doc.raw("models");
    if (!ms.IsSequence() || ms.size() == 0)
      doc.fail("models", "expected a non-empty list of model files");
    for (size_t i = 0; i < ms.size(); ++i) {
      const std::string mp = fmt::format("models[{}]", i);
      ModelEntry e;
      const bool as_map = ms[i].IsMap();
      if (as_map) {
        YamlMap m(ms[i], path, mp);
        m.read("file", e.file);
        if (m.has("label")) m.read("label", e.label);
        m.finish();
      } else {
        e.file = string_value(path, ms[i], mp);
      }
      const YAML::Node where = as_map ? ms[i]["file"] : ms[i];
      const std::string where_key = as_map ? mp + ".file" : mp;
      const fs::path f = (dir / e.file).lexically_normal();
      if (const std::string why = input_file_problem(f.string()); !why.empty()) {
        fail_at(
            path, where, where_key,
            fmt::format("model file '{}': {} (paths are relative to the sweep file)", e.file, why));
      }
      if (e.label.empty()) {
        // runs/NAME/model.palsim -> NAME; other files: their stem.
        e.label = f.stem() == "model" && f.has_parent_path() ? f.parent_path().filename().string()
                                                             : f.stem().string();
      }
      e.file = f.string();
      try {
        e.network = training::read_integer_model(e.file).network.name();
      } catch (const InputError& err) {
        fail_at(path, where, where_key, err.what());
      }
      models.push_back(e);
    }
  }
  std::vector<std::string> hardware;
  doc.read("hardware", hardware);
  if (hardware.empty()) doc.fail("hardware", "list at least one configuration file");
  for (size_t i = 0; i < hardware.size(); ++i) {
    hardware[i] = hardware_path(path, dir, doc.raw("hardware")[i], fmt::format("hardware[{}]", i),
                                hardware[i]);
  }
  // Overrides: each key a list of values.
  std::vector<OverrideSet> override_sets(1);
  if (doc.has("overrides")) {
    const YAML::Node o = doc.raw("overrides");
    if (!o.IsMap())
      doc.fail("overrides", "expected a mapping of configuration keys to lists of values");
    // Check every override key and value once, against the first configuration
    // (loaded once: the sets multiply; a combination that is invalid only
    // together fails its points when they run), before the sets are built: a
    // typo must not wait for the combinations of every other list.
    const frontend::HwConfig base = frontend::load_hw_config(hardware.front());
    for (auto it = o.begin(); it != o.end(); ++it) {
      const std::string key = it->first.Scalar();
      for (const YAML::Node& v : values_of(it->second)) {
        if (!v.IsScalar()) fail_at(path, v, "overrides." + key, "expected a scalar value");
        frontend::HwConfig probe = base;
        try {
          frontend::apply_hw_override(probe, key + "=" + v.Scalar());
        } catch (const InputError& e) {
          fail_at(path, v, "overrides." + key, e.what());
        }
      }
    }
    for (auto it = o.begin(); it != o.end(); ++it) {
      const std::string key = it->first.Scalar();
      const std::vector<YAML::Node> values = values_of(it->second);
      if (override_sets.size() * values.size() > kMaxPoints) {
        fail_at(
            path, it->first, "overrides." + key,
            fmt::format("the override lists multiply to more than {} combinations; split the sweep",
                        kMaxPoints));
      }
      std::vector<OverrideSet> next;
      next.reserve(override_sets.size() * values.size());
      for (const auto& set : override_sets) {
        for (const YAML::Node& v : values) {
          auto s = set;
          s.emplace_back(key, v.Scalar());
          next.push_back(std::move(s));
        }
      }
      override_sets = std::move(next);
    }
  }
  std::vector<std::shared_ptr<const OverrideSet>> shared_sets;
  for (auto& set : override_sets)
    shared_sets.push_back(std::make_shared<const OverrideSet>(std::move(set)));
  std::vector<std::string> fp_layers = {"exclude"};
  std::vector<int> batches = {1};
  std::vector<bool> onchip = {true};
  if (auto opt = doc.optional_child("options")) {
    opt->read_optional("fp_layers", fp_layers);
    opt->read_optional("batch", batches, 1, frontend::LoweringOptions::kMaxBatch);
    if (opt->has("onchip")) {
      onchip.clear();
      for (const YAML::Node& v : values_of(opt->raw("onchip")))
        onchip.push_back(bool_value(path, v, "options.onchip"));
    }
    for (const auto& f : fp_layers) {
      if (f != "exclude" && f != "int8")
        opt->fail("fp_layers", fmt::format("'{}' is not exclude or int8", f));
    }
    opt->finish();
  }
  std::string mode_name = sim::to_string(sim::SimMode::kFast);
  doc.read_choice_optional(
      "mode", mode_name,
      {sim::to_string(sim::SimMode::kFast), sim::to_string(sim::SimMode::kDetailed)});
  const sim::SimMode mode = sim::parse_sim_mode(mode_name);

  // Refused before the points are built: each takes memory, and a sweep this
  // large is a typo (or several sweeps).
  double forms = 0;
  for (const auto& [net, shape] : networks) forms += double(methods_of(net).size());
  const double product =
      (forms * double(fp_layers.size()) * double(batches.size()) + double(models.size())) *
      double(hardware.size()) * double(shared_sets.size()) * double(onchip.size());
  if (product > double(kMaxPoints)) {
    doc.fail_here(fmt::format("the lists multiply to {:.0f} points, more than {}; split the sweep",
                              product, kMaxPoints));
  }
  std::vector<SweepPoint> points;
  points.reserve(static_cast<size_t>(product));
  for (const auto& [net, shape] : networks)
    for (const auto& m : methods_of(net))
      for (const auto& hw : hardware)
        for (const auto& ov : shared_sets)
          for (const auto& fp : fp_layers)
            for (int b : batches)
              for (bool oc : onchip) {
                SweepPoint p;
                p.network = net;
                p.shape = shape;
                p.method = m;
                p.hardware = hw;
                p.overrides = ov;
                p.lowering.fp_layers = frontend::parse_fp_layer_treatment(fp);
                p.lowering.batch = b;
                p.lowering.onchip_intermediates = oc;
                p.mode = mode;
                points.push_back(std::move(p));
              }
  for (const auto& e : models)
    for (const auto& hw : hardware)
      for (const auto& ov : shared_sets)
        for (bool oc : onchip) {
          SweepPoint p;
          p.network = e.network;
          p.model = e.file;
          p.model_label = e.label;
          p.hardware = hw;
          p.overrides = ov;
          p.lowering.fp_layers =
              frontend::FpLayerTreatment::kInt8;  // a trained model's ends are 8-bit
          p.lowering.batch = 1;
          p.lowering.onchip_intermediates = oc;
          p.mode = mode;
          points.push_back(std::move(p));
        }
  if (doc.has("exclude")) {
    const YAML::Node ex = doc.raw("exclude");
    if (!ex.IsSequence()) doc.fail("exclude", "expected a list of mappings");
    // A filter names point parameters and their values; a key or a value no
    // point has would silently exclude nothing (a typo such as `method:
    // lsqq`), so it is refused. Each point's parameters are built once, for
    // these checks and for the filtering below.
    std::vector<nlohmann::json> point_params;
    point_params.reserve(points.size());
    std::set<std::string> parameters;
    std::map<std::string, std::set<std::string>> values;
    for (const auto& p : points) {
      point_params.push_back(p.params());
      for (const auto& [k, v] : point_params.back().items()) {
        parameters.insert(k);
        if (k == "overrides") {
          for (const auto& [ok, ov] : v.items()) values["overrides." + ok].insert(ov.dump());
        } else {
          values[k].insert(v.dump());
        }
      }
    }
    auto require_value = [&](const YAML::Node& at, const std::string& field, const std::string& key,
                             const nlohmann::json& v) {
      const auto& seen = values[key];
      if (seen.count(v.dump())) return;
      fail_at(path, at, field,
              seen.empty() ? std::string("no point has this parameter")
                           : fmt::format("no point has {} = {} (the points have: {})", key,
                                         v.dump(), fmt::join(seen, ", ")));
    };
    std::vector<nlohmann::json> filters;
    for (size_t i = 0; i < ex.size(); ++i) {
      const YAML::Node& f = ex[i];
      const std::string fp = fmt::format("exclude[{}]", i);
      if (!f.IsMap()) fail_at(path, f, fp, "expected a mapping of point parameters");
      for (auto it = f.begin(); it != f.end(); ++it) {
        const std::string k = it->first.Scalar();
        if (!parameters.count(k)) {
          fail_at(path, it->first, fp + "." + k,
                  fmt::format("no point has this parameter (they have: {})",
                              fmt::join(parameters, ", ")));
        }
        if (k == "hardware" && !it->second.IsScalar())
          fail_at(path, it->second, fp + ".hardware", "expected a configuration file name");
        if (k == "overrides" && !it->second.IsMap())
          fail_at(path, it->second, fp + ".overrides",
                  "expected a mapping of configuration keys to values");
      }
      nlohmann::json jf = yaml_to_json(f);
      // Written as the points hold them: override values as their text, a
      // network file by its path beside the sweep.
      if (jf.contains("overrides")) {
        for (auto o = f["overrides"].begin(); o != f["overrides"].end(); ++o)
          jf["overrides"][o->first.Scalar()] = o->second.Scalar();
      }
      if (jf.contains("network") && f["network"].IsScalar() &&
          !frontend::is_builtin_network(f["network"].Scalar()))
        jf["network"] = (dir / f["network"].Scalar()).string();
      if (jf.contains("hardware")) {
        // As written (a number-like file name reads as a number in jf).
        const std::string hw = f["hardware"].Scalar();
        jf["hardware"] = (dir / hw).lexically_normal().string();
        if (std::find(hardware.begin(), hardware.end(), jf["hardware"]) == hardware.end()) {
          fail_at(path, f["hardware"], fp + ".hardware",
                  fmt::format("'{}' is not one of the sweep's hardware configurations", hw));
        }
      }
      for (auto it = f.begin(); it != f.end(); ++it) {
        const std::string k = it->first.Scalar();
        if (k == "hardware") continue;  // checked against the sweep's list above
        if (k == "overrides") {
          for (auto o = it->second.begin(); o != it->second.end(); ++o)
            require_value(o->second, fp + ".overrides." + o->first.Scalar(),
                          "overrides." + o->first.Scalar(), jf["overrides"][o->first.Scalar()]);
        } else {
          require_value(it->second, fp + "." + k, k, jf[k]);
        }
      }
      filters.push_back(jf);
    }
    std::vector<SweepPoint> kept;
    for (size_t i = 0; i < points.size(); ++i) {
      bool drop = false;
      for (const auto& f : filters) drop = drop || matches(point_params[i], f);
      if (!drop) kept.push_back(points[i]);
    }
    points = std::move(kept);
  }
  if (doc.has("include")) {
    const YAML::Node inc = doc.raw("include");
    if (!inc.IsSequence()) doc.fail("include", "expected a list of points");
    for (size_t i = 0; i < inc.size(); ++i) {
      const YAML::Node& e = inc[i];
      const std::string ip = fmt::format("include[{}]", i);
      if (!e.IsMap()) fail_at(path, e, ip, "expected a mapping");
      SweepPoint p;
      p.mode = mode;
      if (!e["network"] || !e["hardware"]) fail_at(path, e, ip, "needs network and hardware");
      p.network = network_path(path, dir, e["network"], ip + ".network",
                               string_value(path, e["network"], ip + ".network"));
      const bool builtin = frontend::network_takes_method(p.network);
      if (builtin && !e["method"]) fail_at(path, e, ip, "a built-in network needs a method");
      if (!builtin && e["method"])
        fail_at(path, e["method"], ip + ".method",
                "a network file carries its own quantization: no method applies to it");
      p.hardware = hardware_path(path, dir, e["hardware"], ip + ".hardware",
                                 string_value(path, e["hardware"], ip + ".hardware"));
      YAML::Node m(YAML::NodeType::Map);
      for (auto it = e.begin(); it != e.end(); ++it) {
        const std::string k = it->first.Scalar();
        if (k != "network" && k != "hardware" && k != "fp_layers" && k != "batch" && k != "onchip")
          m[k] = it->second;
      }
      if (builtin) {
        const auto ms = expand_method(path, m, i);
        if (ms.size() != 1)
          fail_at(path, e, ip, "an included point takes single values, not lists");
        p.method = ms[0];
      } else if (m.size() > 0) {
        fail_at(path, e, ip,
                "a network file's point takes network, hardware, fp_layers, batch and onchip only");
      }
      if (e["fp_layers"])
        p.lowering.fp_layers = frontend::parse_fp_layer_treatment(e["fp_layers"].Scalar());
      if (e["batch"])
        p.lowering.batch =
            int_value(path, e["batch"], ip + ".batch", 1, frontend::LoweringOptions::kMaxBatch);
      if (e["onchip"])
        p.lowering.onchip_intermediates = bool_value(path, e["onchip"], ip + ".onchip");
      points.push_back(p);
    }
  }
  doc.finish();
  if (points.empty()) doc.fail_here("the sweep has no points (every combination excluded?)");
  spec.points = std::move(points);
  return spec;
}

}  // namespace palsim::cli
