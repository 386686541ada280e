#include "training/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <limits>

#include "common/atomic_file.h"
#include "common/error.h"
#include "frontend/builders/method.h"
#include "frontend/builders/request_fields.h"
#include "training/dataset.h"

namespace palsim::training {

namespace fs = std::filesystem;

namespace {

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  if (path.empty()) return path;
  fs::path p(path);
  if (p.is_relative()) p = fs::path(base_dir) / p;
  return fs::absolute(p).lexically_normal().string();
}

bool looks_like_file(const std::string& name) {
  return name.find('/') != std::string::npos ||
         (name.size() > 5 && name.substr(name.size() - 5) == ".yaml");
}

// Keys that only some forms accept: present in the wrong form is an error.
void forbid(YamlMap& m, const std::string& key, const std::string& why) {
  if (m.has(key)) m.fail(key, why);
}

void read_network(YamlMap m, NetworkConfig& n, const std::string& base_dir) {
  using frontend::read_field;
  using frontend::read_field_optional;
  using frontend::RequestField;
  m.read("name", n.name);
  if (n.name.empty()) m.fail("name", "must not be empty");
  n.builtin = frontend::is_builtin_network(n.name);
  if (!n.builtin) {
    if (!looks_like_file(n.name)) {
      m.fail("name",
             fmt::format("unknown network '{}' (built-in: {}; or a path to a .yaml network file)",
                         n.name, fmt::join(frontend::builtin_networks(), ", ")));
    }
    n.name = resolve_path(n.name, base_dir);
    for (const char* k :
         {"method", "abits", "wbits", "B", "G", "channel_shuffle", "cyclic", "permutation",
          "permute_direction", "input_size", "input_channels", "classes", "base_width", "blocks",
          "stem", "projections", "width", "cyclic_groups"}) {
      forbid(m, k,
             "applies to built-in networks only; a network file carries its own form and shapes");
    }
    n.method.clear();
    m.read_choice_optional("fp_layers", n.fp_layers, {"int8", "fp"});
    m.read_choice_optional("residual_quantizer", n.residual_quantizer, {"shared", "own"});
    m.read_choice_optional("int8_scales", n.int8_scales, {"tracked", "learned"});
    m.finish();
    return;
  }
  const bool shufflenet = n.name == "shufflenetv2";
  const bool plain = n.name == "plain18";
  m.read_choice("method", n.method, {"fp", "lsq", "ewgs", "palquant"});
  if (shufflenet && n.method == "palquant") {
    m.fail("method",
           "palquant is defined for the ResNets and plain18, not for shufflenetv2 (fp, lsq, ewgs; "
           "cyclic_groups adds the cyclic shuffle modules)");
  }
  const bool uniform_bits = n.method == "lsq" || n.method == "ewgs";
  const bool palquant = n.method == "palquant";
  if (uniform_bits) {
    read_field(m, RequestField::kABits, n.abits);
    read_field(m, RequestField::kWBits, n.wbits);
  } else {
    forbid(m, "abits", fmt::format("applies to lsq and ewgs, not {}", n.method));
    forbid(m, "wbits", fmt::format("applies to lsq and ewgs, not {}", n.method));
  }
  if (palquant) {
    read_field(m, RequestField::kB, n.B);
    read_field(m, RequestField::kG, n.G);
    m.read_choice_optional("channel_shuffle", n.channel_shuffle,
                           {"none", "per_stage", "per_block"});
    m.read_optional("cyclic", n.cyclic);
    m.read_optional("permutation", n.permutation);
    m.read_choice_optional("permute_direction", n.permute_direction, {"paper", "reference"});
  } else {
    for (const char* k :
         {"B", "G", "channel_shuffle", "cyclic", "permutation", "permute_direction"}) {
      forbid(m, k, fmt::format("applies to palquant, not {}", n.method));
    }
  }
  read_field(m, RequestField::kInputSize, n.input_size);
  read_field(m, RequestField::kInputChannels, n.input_channels);
  read_field(m, RequestField::kClasses, n.classes);
  if (shufflenet) {
    forbid(m, "base_width", "applies to the ResNets and plain18 (shufflenetv2: width)");
    m.read("width", n.width, 0.0, 100.0);
    if (n.width != 0.5 && n.width != 1.0 && n.width != 1.5 && n.width != 2.0) {
      m.fail("width",
             fmt::format("ShuffleNet v2 comes in widths 0.5, 1.0, 1.5 and 2.0, not {}", n.width));
    }
    read_field_optional(m, RequestField::kCyclicGroups, n.cyclic_groups);
  } else {
    read_field(m, RequestField::kBaseWidth, n.base_width);
    forbid(m, "width", fmt::format("applies to shufflenetv2, not {}", n.name));
    forbid(m, "cyclic_groups",
           fmt::format("applies to shufflenetv2, not {} (its PalQuant form: cyclic)", n.name));
  }
  if (plain) {
    n.projections = "keep";
    m.read_choice_optional("projections", n.projections, {"keep", "drop"});
  } else {
    forbid(m, "projections", fmt::format("applies to plain18, not {}", n.name));
  }
  read_field(m, RequestField::kBlocks, n.blocks);
  const size_t stages = shufflenet ? 3 : 4;
  if (n.blocks.size() != stages) {
    m.fail("blocks",
           fmt::format("{} has {} stages, got {} values", n.name, stages, n.blocks.size()));
  }
  m.read_choice("stem", n.stem, {"imagenet", "small"});
  if (n.method == "fp") {
    forbid(m, "fp_layers", "applies to quantized networks; an fp network has no quantized layers");
    n.fp_layers = "fp";
    forbid(m, "residual_quantizer", "applies to quantized networks");
    forbid(m, "int8_scales", "applies to quantized networks");
  } else {
    m.read_choice_optional("fp_layers", n.fp_layers, {"int8", "fp"});
    m.read_choice_optional("residual_quantizer", n.residual_quantizer, {"shared", "own"});
    m.read_choice_optional("int8_scales", n.int8_scales, {"tracked", "learned"});
  }
  m.finish();
}

void read_data(YamlMap m, DataConfig& d, const std::string& base_dir) {
  m.read_choice("dataset", d.dataset, registered_datasets());
  m.read_optional("path", d.path);
  if (m.has("path")) {
    if (d.path.empty()) m.fail("path", "must not be empty");
    d.path = resolve_path(d.path, base_dir);
    // Caught here, where the line of the key is known, not when the trainer
    // opens the data.
    std::error_code ec;
    if (!fs::exists(d.path, ec)) m.fail("path", fmt::format("'{}' does not exist", d.path));
  } else {
    d.path = default_dataset_path(d.dataset);
    if (d.path.empty())
      m.fail("path",
             fmt::format("missing required key 'path' (dataset {} has no default)", d.dataset));
  }
  m.read_optional("train_limit", d.train_limit, int64_t{0});
  m.read_optional("test_limit", d.test_limit, int64_t{0});
  m.finish();
}

void read_training(YamlMap m, OptimConfig& t, const NetworkConfig& n) {
  m.read("epochs", t.epochs, 1, 100000);
  m.read("batch_size", t.batch_size, 2, 1 << 20);
  m.read("lr_weights", t.lr_weights, 0.0, 100.0);
  if (!(t.lr_weights > 0)) m.fail("lr_weights", "must be positive");
  if (n.method == "fp") {
    forbid(m, "lr_quantizers", "an fp network has no quantizer parameters");
    t.lr_quantizers = 0;
  } else {
    m.read("lr_quantizers", t.lr_quantizers, 0.0, 100.0);
    if (!(t.lr_quantizers > 0)) m.fail("lr_quantizers", "must be positive");
  }
  m.read("momentum", t.momentum, 0.0, 0.999999);
  m.read("weight_decay", t.weight_decay, 0.0, 1.0);
  m.read("seed", t.seed, int64_t{0}, int64_t{1} << 40);
  m.read("threads", t.threads, 1, 256);
  // EWGS only: a built-in ewgs network needs it; a network file may use it
  // when it has uniform-quantized layers (checked when the network is built).
  if (n.method == "ewgs") {
    m.read("ewgs_delta", t.ewgs_delta, 0.0, 1.0);
  } else if (n.builtin) {
    forbid(m, "ewgs_delta", fmt::format("applies to ewgs, not {}", n.method));
  } else {
    m.read_optional("ewgs_delta", t.ewgs_delta, 0.0, 1.0);
  }
  m.finish();
}

TrainConfig parse_node(const YAML::Node& root, const std::string& name,
                       const std::string& base_dir) {
  TrainConfig c;
  c.file = name;
  c.provenance.set_fallback_file(name);
  YamlMap top(root, name, "", false, &c.provenance);
  std::string format;
  top.read("format", format);
  if (format != kTrainConfigFormat) {
    top.fail("format", fmt::format("expected '{}', got '{}'", kTrainConfigFormat, format));
  }
  read_network(top.child("network"), c.network, base_dir);
  read_data(top.child("data"), c.data, base_dir);
  read_training(top.child("training"), c.training, c.network);
  top.finish();
  return c;
}

}  // namespace

frontend::NetworkRequest TrainConfig::network_request() const {
  using namespace frontend;
  NetworkRequest r;
  r.network = network.name;
  if (!network.builtin) return r;
  r.method_given = true;
  MethodOptions& m = r.method;
  m.method = parse_method(network.method);
  if (m.method == Method::kLsq || m.method == Method::kEwgs) {
    m.a_bits = network.abits;
    m.w_bits = network.wbits;
  }
  if (m.method == Method::kPalQuant) {
    m.B = network.B;
    m.G = network.G;
    m.channel_shuffle = parse_shuffle_mode(network.channel_shuffle);
    m.cyclic_shuffle = network.cyclic;
    m.cyclic_permutation = network.permutation;
    m.permute_direction = network.permute_direction == "paper" ? +1 : -1;
  }
  r.input_size = network.input_size;
  r.input_channels = network.input_channels;
  r.classes = network.classes;
  if (network.name == "shufflenetv2") {
    r.width = network.width;
    if (network.cyclic_groups > 0) r.cyclic_groups = network.cyclic_groups;
  } else {
    r.base_width = network.base_width;
  }
  if (network.name == "plain18") r.projections = network.projections;
  r.stem = network.stem;
  r.blocks = network.blocks;
  return r;
}

std::string TrainConfig::to_yaml() const {
  YAML::Emitter e;
  auto num = [](double v) { return fmt::format("{}", v); };
  e << YAML::BeginMap;
  e << YAML::Key << "format" << YAML::Value << kTrainConfigFormat;
  e << YAML::Key << "network" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << network.name;
  if (network.builtin) {
    e << YAML::Key << "method" << YAML::Value << network.method;
    if (network.method == "lsq" || network.method == "ewgs") {
      e << YAML::Key << "abits" << YAML::Value << network.abits;
      e << YAML::Key << "wbits" << YAML::Value << network.wbits;
    }
    if (network.method == "palquant") {
      e << YAML::Key << "B" << YAML::Value << network.B;
      e << YAML::Key << "G" << YAML::Value << network.G;
      e << YAML::Key << "channel_shuffle" << YAML::Value << network.channel_shuffle;
      e << YAML::Key << "cyclic" << YAML::Value << (network.cyclic ? "true" : "false");
      e << YAML::Key << "permutation" << YAML::Value << (network.permutation ? "true" : "false");
      e << YAML::Key << "permute_direction" << YAML::Value << network.permute_direction;
    }
    e << YAML::Key << "input_size" << YAML::Value << network.input_size;
    e << YAML::Key << "input_channels" << YAML::Value << network.input_channels;
    e << YAML::Key << "classes" << YAML::Value << network.classes;
    if (network.name == "shufflenetv2") {
      e << YAML::Key << "width" << YAML::Value << num(network.width);
      if (network.cyclic_groups > 0)
        e << YAML::Key << "cyclic_groups" << YAML::Value << network.cyclic_groups;
    } else {
      e << YAML::Key << "base_width" << YAML::Value << network.base_width;
    }
    if (network.name == "plain18")
      e << YAML::Key << "projections" << YAML::Value << network.projections;
    e << YAML::Key << "blocks" << YAML::Value << YAML::Flow << network.blocks;
    e << YAML::Key << "stem" << YAML::Value << network.stem;
  }
  if (network.method != "fp") {
    e << YAML::Key << "fp_layers" << YAML::Value << network.fp_layers;
    e << YAML::Key << "residual_quantizer" << YAML::Value << network.residual_quantizer;
    e << YAML::Key << "int8_scales" << YAML::Value << network.int8_scales;
  }
  e << YAML::EndMap;
  e << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "dataset" << YAML::Value << data.dataset;
  e << YAML::Key << "path" << YAML::Value << data.path;
  e << YAML::Key << "train_limit" << YAML::Value << data.train_limit;
  e << YAML::Key << "test_limit" << YAML::Value << data.test_limit;
  e << YAML::EndMap;
  e << YAML::Key << "training" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "epochs" << YAML::Value << training.epochs;
  e << YAML::Key << "batch_size" << YAML::Value << training.batch_size;
  e << YAML::Key << "lr_weights" << YAML::Value << num(training.lr_weights);
  if (network.method != "fp")
    e << YAML::Key << "lr_quantizers" << YAML::Value << num(training.lr_quantizers);
  e << YAML::Key << "momentum" << YAML::Value << num(training.momentum);
  e << YAML::Key << "weight_decay" << YAML::Value << num(training.weight_decay);
  e << YAML::Key << "seed" << YAML::Value << training.seed;
  e << YAML::Key << "threads" << YAML::Value << training.threads;
  if (network.method == "ewgs" || (!network.builtin && training.ewgs_delta != 0)) {
    e << YAML::Key << "ewgs_delta" << YAML::Value << num(training.ewgs_delta);
  }
  e << YAML::EndMap;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

void TrainConfig::fail(const std::string& key, const std::string& message) const {
  provenance.fail(key, message);
}

TrainConfig load_train_config(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  fs::path dir = fs::path(path).parent_path();
  return parse_node(root, path, dir.empty() ? "." : dir.string());
}

TrainConfig parse_train_config(const std::string& text, const std::string& name,
                               const std::string& base_dir) {
  return parse_node(parse_yaml_text(text, name), name, base_dir);
}

}  // namespace palsim::training
