#pragma once
// A hardware configuration written out with every value it holds after
// `base:` chains and overrides: a complete palsim-hw-1 document (JSON is
// YAML, so the object reloads with load_hw_config). It is the configuration
// each result records (provenance) and what mapping caches and sweep points
// are keyed by, so no value can shape a figure without being in the key.
#include <nlohmann/json.hpp>
#include <string>

#include "frontend/arch/hw_config.h"

namespace palsim::frontend {

nlohmann::ordered_json hw_config_json(const HwConfig& c);

// The fingerprint of a configuration document: FNV-1a 64 of its sorted-key
// JSON, the form results store it in, so the fingerprint of a stored
// configuration equals HwConfig::fingerprint() of the one it was written from.
std::string config_fingerprint(const nlohmann::json& config);

// The configuration's name, followed by its overrides when it has any
// ("bitfusion-16x32 [array.rows=8]"): a run with overrides is never reported
// under the default configuration's name alone.
std::string hw_display_name(const HwConfig& c);

}  // namespace palsim::frontend
