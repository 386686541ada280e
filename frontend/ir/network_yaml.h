#pragma once
// The YAML network format (workloads/*.yaml): a user adds a network without
// recompiling, and every built-in network can be written out in it.
//
//   format: palsim-network-1
//   name: my-net
//   layers:
//     - {name: input, op: input, shape: [3, 32, 32]}
//     - {name: conv1, op: conv, out_channels: 16, kernel: 3, stride: 1, padding: 1,
//        groups: 1, quant: {quantizer: lsq, w_bits: 4, a_bits: 4}}
//     - {name: relu1, op: relu}                # input: the previous layer
//     - {name: add1, op: add, inputs: [relu1, input]}
//
// See docs/formats.md for every op and key.
#include <string>

#include "frontend/ir/network.h"

namespace palsim::frontend {

constexpr const char* kNetworkFormat = "palsim-network-1";

// Loads and shape-checks a network file; errors name the file, line and key.
Network load_network_yaml(const std::string& path);
Network parse_network_yaml(const std::string& text, const std::string& name);
std::string network_to_yaml(const Network& net);

}  // namespace palsim::frontend
