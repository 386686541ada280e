#include "cli/provenance.h"

#include <fmt/format.h>

#include <sstream>

#include "cli/sweep_spec.h"
#include "common/build_info.h"
#include "frontend/arch/hw_config_json.h"
#include "frontend/builders/request_json.h"
#include "frontend/ir/network_yaml.h"

namespace palsim::cli {

namespace {
std::vector<std::string>& stored_command_line() {
  static std::vector<std::string> line;
  return line;
}
}  // namespace

void set_command_line(int argc, const char* const* argv) {
  stored_command_line().assign(argv, argv + argc);
}

const std::vector<std::string>& command_line() {
  return stored_command_line();
}

nlohmann::json build_json() {
  return {{"palsim_version", palsim_version()},
          {"source_revision", source_revision()},
          {"simulator_version", simulator_version()}};
}

nlohmann::json network_provenance(const frontend::NetworkRequest& request,
                                  const frontend::Network& network) {
  nlohmann::json j = {{"name", network.name()},
                      {"request", frontend::request_json(request)},
                      {"layers_hash", frontend::network_hash(network)}};
  // A network file may change after the run: its network as read (the
  // canonical YAML, which reloads to the same network) goes with the result.
  if (!frontend::is_builtin_network(request.network))
    j["yaml"] = frontend::network_to_yaml(network);
  return j;
}

nlohmann::json lowering_json(const frontend::LoweringOptions& o, size_t refine,
                             double cycle_tolerance) {
  return {{"fp_layers", frontend::to_string(o.fp_layers)},
          {"batch", o.batch},
          {"onchip_intermediates", o.onchip_intermediates},
          {"refine", refine},
          {"cycle_tolerance", cycle_tolerance}};
}

nlohmann::json hardware_origin(const frontend::HwConfig& hw) {
  return {{"file", hw.file}, {"overrides", hw.overrides}};
}

nlohmann::json model_provenance(const std::string& model_file, const frontend::Network& network) {
  return {{"name", network.name()},
          {"model_file", model_file},
          {"model_hash", model_file_hash(model_file)},
          {"layers_hash", frontend::network_hash(network)}};
}

nlohmann::json provenance_json(const frontend::HwConfig* hw, const nlohmann::json& network,
                               const nlohmann::json& run) {
  nlohmann::json j;
  j["build"] = build_json();
  j["command_line"] = command_line();
  if (hw) {
    j["hardware"] = frontend::hw_config_json(*hw);
    j["hardware_origin"] = hardware_origin(*hw);
  }
  if (!network.is_null()) j["network"] = network;
  if (!run.is_null()) j["run"] = run;
  return j;
}

std::string provenance_header(const nlohmann::json& provenance, const std::string& prefix) {
  std::string s = prefix + "provenance (JSON, one object):\n";
  std::istringstream lines(provenance.dump(1));
  for (std::string line; std::getline(lines, line);) s += prefix + line + "\n";
  return s;
}

std::string provenance_markdown(const nlohmann::json& provenance) {
  return "\n<details><summary>Provenance</summary>\n\n```json\n" + provenance.dump(1) +
         "\n```\n\n</details>\n";
}

}  // namespace palsim::cli
