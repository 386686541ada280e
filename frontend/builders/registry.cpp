#include "frontend/builders/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>

#include "common/error.h"
#include "frontend/builders/resnet.h"
#include "frontend/builders/shufflenet.h"
#include "frontend/ir/network_yaml.h"
#include "frontend/onnx/onnx_import.h"
#include "frontend/onnx/onnx_model.h"

namespace palsim::frontend {

const std::vector<std::string>& builtin_networks() {
  static const std::vector<std::string> names = {"resnet18", "resnet34", "plain18", "shufflenetv2"};
  return names;
}

bool is_builtin_network(const std::string& name) {
  const auto& n = builtin_networks();
  return std::find(n.begin(), n.end(), name) != n.end();
}

bool is_onnx_network(const std::string& name) {
  return onnx_import::is_onnx_path(name);
}

bool looks_like_network_file(const std::string& name) {
  return name.find('/') != std::string::npos ||
         (name.size() > 5 && name.substr(name.size() - 5) == ".yaml") || is_onnx_network(name);
}

bool network_takes_method(const std::string& name) {
  if (is_builtin_network(name)) return true;
  if (!is_onnx_network(name)) return false;
  // Sweeps ask for every point, from worker threads.
  static std::mutex mutex;
  static std::map<std::string, bool> float_models;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = float_models.find(name);
    if (it != float_models.end()) return it->second;
  }
  const bool is_float = import_onnx(name, OnnxImportOptions{}).quantization == "float";
  std::lock_guard<std::mutex> lock(mutex);
  float_models[name] = is_float;
  return is_float;
}

namespace {

StemKind parse_stem(const std::string& s) {
  if (s == "imagenet") return StemKind::kImageNet;
  if (s == "small") return StemKind::kSmall;
  throw InputError(fmt::format("--stem: unknown stem '{}' (imagenet, small)", s));
}

// An option given for a network it does not shape is an error, not ignored.
void reject(bool given, const char* option, const std::string& network, const char* applies_to) {
  if (given)
    throw InputError(fmt::format("--{} applies to {}, not {}", option, applies_to, network));
}

Network build_shufflenet(const NetworkRequest& r) {
  reject(r.base_width.has_value(), "base-width", r.network,
         "resnet18, resnet34 and plain18 (shufflenetv2: --width)");
  reject(r.projections.has_value(), "projections", r.network, "plain18");
  ShuffleNetOptions o;
  if (r.width) o.width = *r.width;
  if (r.blocks) o.repeats = *r.blocks;
  if (r.input_size) o.input.h = o.input.w = *r.input_size;
  if (r.input_channels) o.input.c = *r.input_channels;
  if (r.classes) o.classes = *r.classes;
  if (r.stem) o.stem = parse_stem(*r.stem);
  if (r.cyclic_groups) o.cyclic_groups = *r.cyclic_groups;
  shufflenet_channels(o.width);  // a bad width is reported before anything else
  std::string name = fmt::format("shufflenetv2-{:.1f}x", o.width);
  if (o.cyclic_groups > 0) name += fmt::format("-cyclic{}", o.cyclic_groups);
  return build_shufflenet_v2(fmt::format("{}-{}", name, r.method.label()), o, r.method);
}

Network build_builtin(const NetworkRequest& r) {
  if (r.network == "shufflenetv2") return build_shufflenet(r);
  reject(r.width.has_value(), "width", r.network, "shufflenetv2");
  reject(r.cyclic_groups.has_value(), "cyclic-groups", r.network, "shufflenetv2");
  const bool plain = r.network == "plain18";
  if (!plain) reject(r.projections.has_value(), "projections", r.network, "plain18");
  ResNetOptions o = resnet_options_for_depth(r.network == "resnet34" ? 34 : 18);
  o.plain = plain;
  if (r.projections) o.plain_projections = parse_plain_projections(*r.projections);
  if (r.blocks) o.blocks = *r.blocks;
  if (r.input_size) o.input.h = o.input.w = *r.input_size;
  if (r.input_channels) o.input.c = *r.input_channels;
  if (r.classes) o.classes = *r.classes;
  if (r.base_width) o.base_width = *r.base_width;
  if (r.stem) o.stem = parse_stem(*r.stem);
  std::string name = r.network;
  if (plain) name += "-projections_" + to_string(o.plain_projections);
  return build_resnet(fmt::format("{}-{}", name, r.method.label()), o, r.method);
}

}  // namespace

Network resolve_network(const NetworkRequest& r) {
  if (!is_onnx_network(r.network) && !r.roles.empty())
    throw InputError("--role applies to ONNX models (a network file or built-in sets its roles)");
  if (is_builtin_network(r.network)) return build_builtin(r);
  if (!looks_like_network_file(r.network) && !std::filesystem::exists(r.network)) {
    throw InputError(
        fmt::format("NETWORK: unknown network '{}' (built-in: {}; or a path to a "
                    ".yaml network file or an .onnx model)",
                    r.network, fmt::join(builtin_networks(), ", ")));
  }
  const bool shaped = r.input_size || r.classes || r.base_width || r.stem || r.blocks ||
                      r.input_channels || r.projections || r.width || r.cyclic_groups;
  if (is_onnx_network(r.network)) {
    if (shaped) {
      throw InputError(fmt::format(
          "the builder options apply to built-in networks; the ONNX model '{}' has its own shapes",
          r.network));
    }
    OnnxImportOptions o;
    o.method = r.method;
    o.method_given = r.method_given;
    o.roles = r.roles;
    return import_onnx(r.network, o).network;
  }
  if (r.method_given || shaped) {
    throw InputError(
        fmt::format("--method and the builder options apply to built-in networks; the network file "
                    "'{}' carries its own "
                    "quantization and shapes",
                    r.network));
  }
  return load_network_yaml(r.network);
}

}  // namespace palsim::frontend
