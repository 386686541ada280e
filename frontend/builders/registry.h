#pragma once
// Resolves the NETWORK argument of every command: a built-in network name
// (resnet18, resnet34, plain18, shufflenetv2) built in the requested form, or
// a path to a YAML network file (which carries its own quantization), or an
// ONNX model (imported; a float model takes --method like a built-in, a QDQ or
// QONNX model carries its quantization).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "frontend/builders/method.h"
#include "frontend/ir/network.h"

namespace palsim::frontend {

struct NetworkRequest {
  std::string network;  // built-in name or YAML path
  MethodOptions method;
  bool method_given = false;  // a --method was passed
  // Built-in overrides (ImageNet defaults when absent).
  std::optional<int> input_size;  // square input height = width
  std::optional<int> input_channels;
  std::optional<int> classes;
  std::optional<int> base_width;
  std::optional<std::string> stem;         // imagenet | small
  std::optional<std::vector<int>> blocks;  // 4 stages (ResNets, plain18) or 3 (shufflenetv2)
  std::optional<std::string> projections;  // plain18: keep | drop (PlainProjections)
  std::optional<double> width;             // shufflenetv2: 0.5, 1.0, 1.5, 2.0
  std::optional<int> cyclic_groups;  // shufflenetv2: cyclic shuffle modules before stages 3, 4
  // ONNX models: layer roles that override the inferred ones (--role NAME=ROLE).
  std::vector<std::pair<std::string, LayerRole>> roles;
};

const std::vector<std::string>& builtin_networks();
bool is_builtin_network(const std::string& name);
// Whether NETWORK names a file rather than a misspelt built-in: it has a
// directory part or a .yaml or .onnx extension.
bool looks_like_network_file(const std::string& name);
bool is_onnx_network(const std::string& name);
// Whether --method gives NETWORK its form: a built-in, or a float ONNX model
// (read once per process; throws InputError for an unreadable model). A YAML
// file and a QDQ/QONNX model carry their own quantization.
bool network_takes_method(const std::string& name);

// Builds or loads the network. Throws InputError (unknown name, missing file,
// options that do not apply to a YAML network, ...).
Network resolve_network(const NetworkRequest& request);

}  // namespace palsim::frontend
