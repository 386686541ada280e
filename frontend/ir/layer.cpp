#include "frontend/ir/layer.h"

#include <fmt/format.h>

namespace palsim::frontend {

std::string to_string(const Shape& s) {
  return fmt::format("{}x{}x{}", s.c, s.h, s.w);
}

std::string to_string(Quantizer q) {
  switch (q) {
    case Quantizer::kNone:
      return "none";
    case Quantizer::kLsq:
      return "lsq";
    case Quantizer::kUniform:
      return "uniform";
  }
  return "?";
}

std::string to_string(LayerRole r) {
  switch (r) {
    case LayerRole::kBody:
      return "body";
    case LayerRole::kStem:
      return "stem";
    case LayerRole::kClassifier:
      return "classifier";
  }
  return "?";
}

const std::vector<std::string>& op_names() {
  static const std::vector<std::string> names = {"input",          "conv",    "batchnorm",
                                                 "relu",           "maxpool", "avgpool",
                                                 "global_avgpool", "add",     "channel_shuffle",
                                                 "cyclic_permute", "fc",      "flatten",
                                                 "split",          "concat",  "clip"};
  return names;
}

std::string op_name(const LayerAttrs& attrs) {
  return op_names().at(attrs.index());
}

}  // namespace palsim::frontend
