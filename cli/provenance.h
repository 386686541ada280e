#pragma once
// What produced a result, recorded in every result palsim writes: the build
// (palsim version, source revision, simulator version), the command line, the
// resolved hardware configuration (every value after `base:`, --set and
// overrides, as a complete palsim-hw-1 document), the network (its request
// and a hash of its layers) and how it was lowered and simulated. JSON holds
// it as a `provenance` object; CSV and Markdown as a header block.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/builders/registry.h"
#include "frontend/ir/network.h"
#include "frontend/lowering/hw_graph.h"

namespace palsim::cli {

// Kept by main for the provenance of what this process writes.
void set_command_line(int argc, const char* const* argv);
const std::vector<std::string>& command_line();

// {palsim_version, source_revision, simulator_version}.
nlohmann::json build_json();

// The network part: {name, request, layers_hash}; for a network file also
// the network as read (`yaml`), so that the JSON alone rebuilds it.
nlohmann::json network_provenance(const frontend::NetworkRequest& request,
                                  const frontend::Network& network);

// How it was lowered and searched.
nlohmann::json lowering_json(const frontend::LoweringOptions& lowering, size_t refine,
                             double cycle_tolerance);

// A trained model's network part: {name, model_file, model_hash, layers_hash}.
nlohmann::json model_provenance(const std::string& model_file, const frontend::Network& network);

// Where a configuration came from: {file, overrides}. The resolved values
// themselves are frontend::hw_config_json (a complete palsim-hw-1 document).
nlohmann::json hardware_origin(const frontend::HwConfig& hw);

// The whole block: build, command line, then the parts given: the
// configuration (`hardware`, with `hardware_origin`), the network and the run
// settings (a null pointer or null JSON leaves its part out: a program file
// has no network request; table2 records its two configurations itself).
nlohmann::json provenance_json(const frontend::HwConfig* hw, const nlohmann::json& network,
                               const nlohmann::json& run);

// The block as lines starting with `prefix` ("# " for CSV: pandas reads it
// with comment='#', gnuplot skips it).
std::string provenance_header(const nlohmann::json& provenance, const std::string& prefix);
// The block as a Markdown section (a JSON code block under a heading).
std::string provenance_markdown(const nlohmann::json& provenance);

}  // namespace palsim::cli
