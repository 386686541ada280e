#include "frontend/builders/request_json.h"

#include <fmt/format.h>

#include "common/fnv1a.h"
#include "frontend/ir/network_yaml.h"

namespace palsim::frontend {

void add_method_json(const MethodOptions& method, nlohmann::json& j) {
  j["method"] = to_string(method.method);
  switch (method.method) {
    case Method::kFp:
      break;
    case Method::kLsq:
    case Method::kEwgs:
      j["abits"] = method.a_bits;
      j["wbits"] = method.w_bits;
      break;
    case Method::kBitDecomposed:
      j["abits"] = method.a_bits;
      j["wbits"] = method.w_bits;
      j["slice_bits"] = method.slice_bits;
      j["quantizer"] = method.decomposed_quantizer == Quantizer::kLsq ? "lsq" : "ewgs";
      break;
    case Method::kPalQuant:
      j["B"] = method.B;
      j["G"] = method.G;
      j["channel_shuffle"] = to_string(method.channel_shuffle);
      j["cyclic"] = method.cyclic_shuffle;
      j["permutation"] = method.cyclic_permutation;
      j["permute_direction"] = method.permute_direction > 0 ? "paper" : "reference";
      break;
  }
}

void add_shape_json(const NetworkRequest& r, nlohmann::json& j) {
  if (r.input_size) j["input_size"] = *r.input_size;
  if (r.input_channels) j["input_channels"] = *r.input_channels;
  if (r.classes) j["classes"] = *r.classes;
  if (r.base_width) j["base_width"] = *r.base_width;
  if (r.stem) j["stem"] = *r.stem;
  if (r.blocks) j["blocks"] = *r.blocks;
  if (r.projections) j["projections"] = *r.projections;
  if (r.width) j["width"] = *r.width;
  if (r.cyclic_groups) j["cyclic_groups"] = *r.cyclic_groups;
}

const std::vector<std::string>& shape_option_keys() {
  static const std::vector<std::string> keys = {"input_size",  "input_channels", "classes",
                                                "base_width",  "stem",           "blocks",
                                                "projections", "width",          "cyclic_groups"};
  return keys;
}

nlohmann::json request_json(const NetworkRequest& r) {
  nlohmann::json j;
  j["network"] = r.network;
  if (is_builtin_network(r.network)) add_method_json(r.method, j);
  add_shape_json(r, j);
  return j;
}

std::string network_hash(const Network& network) {
  return fnv1a64_hex(network_to_yaml(network));
}

}  // namespace palsim::frontend
