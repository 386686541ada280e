#pragma once
// A network request (built-in name or file, its form and shape options) as a
// flat JSON object: the parameters results are labelled and keyed with. Only
// what shapes the network appears: the options of the form that was asked for
// (abits/wbits for lsq, B/G and the shuffle choices for palquant), the shape
// options that were given, and nothing of a method for a network file, which
// carries its own quantization.
#include <nlohmann/json.hpp>

#include "frontend/builders/method.h"
#include "frontend/builders/registry.h"
#include "frontend/ir/network.h"

namespace palsim::frontend {

// The form's own parameters: {"method": "palquant", "B": 2, "G": 2, ...}.
void add_method_json(const MethodOptions& method, nlohmann::json& into);
// The shape options that were given (input_size, blocks, ...).
void add_shape_json(const NetworkRequest& request, nlohmann::json& into);
// Every key add_shape_json may write, in that order (tested equal).
const std::vector<std::string>& shape_option_keys();
// network, then the method (built-in networks only), then the shape options.
nlohmann::json request_json(const NetworkRequest& request);

// FNV-1a 64 of the network written as palsim-network-1 YAML, in hex: two
// networks with the same hash have the same layers, shapes and quantization.
std::string network_hash(const Network& network);

}  // namespace palsim::frontend
