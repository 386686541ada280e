#pragma once
// Which layers of an imported network are the full-precision ends.
#include <string>
#include <utility>
#include <vector>

#include "frontend/ir/network.h"

namespace palsim::frontend::onnx_import {

// The stem: the first conv reading the network input and the chain of
// batch norm, ReLU/clip and max pool that follows it alone (a ResNet's
// conv1, bn1, relu, maxpool). The classifier: the layer that writes the
// network output when it is an FC or conv, and the global pool, average pool
// and flatten chain that feeds it alone (avgpool, flatten, fc). Everything
// else is body. The built-in networks mark the same layers.
void infer_roles(Network& net);

// Sets the named layers' roles; throws InputError for a name the network
// does not have.
void apply_role_overrides(Network& net,
                          const std::vector<std::pair<std::string, LayerRole>>& roles);

}  // namespace palsim::frontend::onnx_import
