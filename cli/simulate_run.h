#pragma once
// One `palsim simulate` run, from its options to its JSON record: shared by
// the command (which prints or writes the record) and the Python module
// (which returns it).
#include <nlohmann/json.hpp>
#include <string>

#include "cli/mapping_option.h"
#include "cli/options.h"
#include "frontend/arch/hw_config.h"
#include "sim/core/stats.h"

namespace palsim::cli {

// The options that decide the run (not where its outputs go).
struct SimulateOptions {
  NetworkOptions net;
  HardwareOptions hw;
  MappingFileOptions mapping;
  std::string mode = "fast";
  std::string program_file;
  std::string trace;
  std::string timeline;
  uint64_t seed = 1;
  bool exact = false;
  bool quiet = false;

  void add_to(po::options_description& desc);
};

struct SimulateOutcome {
  sim::RunStats stats;
  frontend::HwConfig hardware;
  // The JSON record `palsim simulate --json` prints: totals, layers, provenance.
  nlohmann::json record;
  // A detailed run whose values differ from the kernels' (sim::require_bit_exact).
  bool failed_check = false;
};

// Throws UsageError for a bad combination of options (`vm` tells which were
// given), InputError for a bad input file.
SimulateOutcome simulate_run(const SimulateOptions& options, const po::variables_map& vm);

}  // namespace palsim::cli
