#pragma once
// Fixed reports of a run (as SCALE-Sim's): a JSON object, a per-layer CSV with
// named columns, and a text table. Every energy in pJ; the parts of each
// breakdown sum to its total.
#include <nlohmann/json.hpp>
#include <string>

#include "sim/core/stats.h"

namespace palsim::sim {

nlohmann::json energy_to_json(const Energy& e);
nlohmann::json counts_to_json(const Counts& c);
nlohmann::json run_to_json(const RunStats& r);
std::string layers_csv(const RunStats& r);
std::string run_text(const RunStats& r, bool per_layer);

}  // namespace palsim::sim
