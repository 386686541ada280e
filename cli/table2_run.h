#pragma once
// `palsim table2`'s options and its JSON record: shared by the command and
// the Python module.
#include <nlohmann/json.hpp>
#include <string>

#include "cli/options.h"
#include "cli/table2.h"

namespace palsim::cli {

// The options that decide the table (not where its outputs go).
struct Table2RunOptions {
  Table2Options table;  // defaults: the shipped configurations and paper figures, one job per core
  std::string fp_layers = "exclude";
  int refine = static_cast<int>(sim::kDefaultRefineCandidates);
  bool no_onchip = false, no_onchip_effect = false, quiet = false;

  Table2RunOptions();
  void add_to(po::options_description& desc);
  // Throws UsageError naming the option out of range.
  Table2Options resolved() const;
};

// What produced the table: both configurations as resolved, the networks and
// forms run, and the lowering and search settings.
nlohmann::json table_provenance(const Table2Result& r);
// What `palsim table2 --json` prints: {provenance, rows}.
nlohmann::json table_json(const Table2Result& r);

}  // namespace palsim::cli
