#include "frontend/builders/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "frontend/builders/resnet.h"
#include "frontend/ir/network_yaml.h"
#include "frontend/util/error.h"

namespace palsim::frontend {

const std::vector<std::string>& builtin_networks() {
  static const std::vector<std::string> names = {"resnet18", "resnet34"};
  return names;
}

bool is_builtin_network(const std::string& name) {
  const auto& n = builtin_networks();
  return std::find(n.begin(), n.end(), name) != n.end();
}

namespace {

Network build_builtin(const NetworkRequest& r) {
  ResNetOptions o = resnet_options_for_depth(r.network == "resnet18" ? 18 : 34);
  if (r.blocks) o.blocks = *r.blocks;
  if (r.input_size) o.input.h = o.input.w = *r.input_size;
  if (r.input_channels) o.input.c = *r.input_channels;
  if (r.classes) o.classes = *r.classes;
  if (r.base_width) o.base_width = *r.base_width;
  if (r.stem) {
    if (*r.stem == "imagenet") o.stem = StemKind::kImageNet;
    else if (*r.stem == "small") o.stem = StemKind::kSmall;
    else throw InputError(fmt::format("--stem: unknown stem '{}' (imagenet, small)", *r.stem));
  }
  return build_resnet(fmt::format("{}-{}", r.network, r.method.label()), o, r.method);
}

}  // namespace

Network resolve_network(const NetworkRequest& r) {
  if (is_builtin_network(r.network)) return build_builtin(r);
  const bool looks_like_file = r.network.find('/') != std::string::npos ||
                               (r.network.size() > 5 && r.network.substr(r.network.size() - 5) == ".yaml");
  if (!looks_like_file && !std::filesystem::exists(r.network)) {
    throw InputError(fmt::format("NETWORK: unknown network '{}' (built-in: {}; or a path to a .yaml network file)",
                                 r.network, fmt::join(builtin_networks(), ", ")));
  }
  if (r.method_given || r.input_size || r.classes || r.base_width || r.stem || r.blocks || r.input_channels) {
    throw InputError(fmt::format(
        "--method and the builder options apply to built-in networks; the network file '{}' carries its own "
        "quantization and shapes",
        r.network));
  }
  return load_network_yaml(r.network);
}

}  // namespace palsim::frontend
