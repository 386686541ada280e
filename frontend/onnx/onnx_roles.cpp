#include "frontend/onnx/onnx_roles.h"

#include <fmt/format.h>

#include "common/error.h"

namespace palsim::frontend::onnx_import {

namespace {

bool is_weight_layer(const Layer& l) {
  return l.is<ConvAttrs>() || l.is<FcAttrs>();
}

}  // namespace

void infer_roles(Network& net) {
  auto& layers = net.mutable_layers();
  for (auto& l : layers) l.role = LayerRole::kBody;
  // Stem.
  int stem = -1;
  for (int i = 0; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    if (is_weight_layer(l)) {
      if (l.inputs.size() == 1 && net.layer(l.inputs[0]).is<InputAttrs>()) stem = i;
      break;
    }
  }
  if (stem >= 0) {
    int cur = stem;
    while (true) {
      layers[static_cast<size_t>(cur)].role = LayerRole::kStem;
      const std::vector<int> next = net.consumers(cur);
      if (next.size() != 1) break;
      const Layer& n = net.layer(next[0]);
      if (!(n.is<BatchNormAttrs>() || n.is<ReluAttrs>() || n.is<ClipAttrs>() ||
            n.is<MaxPoolAttrs>()))
        break;
      cur = next[0];
    }
  }
  // Classifier.
  int cur = net.output();
  if (cur < 0 || !is_weight_layer(net.layer(cur)) ||
      layers[static_cast<size_t>(cur)].role != LayerRole::kBody)
    return;
  while (true) {
    layers[static_cast<size_t>(cur)].role = LayerRole::kClassifier;
    const Layer& l = net.layer(cur);
    if (l.inputs.size() != 1) break;
    const int prev = l.inputs[0];
    const Layer& p = net.layer(prev);
    if (!(p.is<GlobalAvgPoolAttrs>() || p.is<AvgPoolAttrs>() || p.is<FlattenAttrs>()) ||
        net.consumers(prev).size() != 1 || p.role != LayerRole::kBody)
      break;
    cur = prev;
  }
}

void apply_role_overrides(Network& net,
                          const std::vector<std::pair<std::string, LayerRole>>& roles) {
  for (const auto& [name, role] : roles) {
    const int i = net.find(name);
    if (i < 0) {
      throw InputError(
          fmt::format("--role: network '{}' has no layer '{}' (palsim import lists "
                      "the layer names)",
                      net.name(), name));
    }
    net.mutable_layers()[static_cast<size_t>(i)].role = role;
  }
}

}  // namespace palsim::frontend::onnx_import
