#pragma once
// One `palsim bitops` count, from its options to its JSON record: shared by
// the command and the Python module.
#include <nlohmann/json.hpp>
#include <string>

#include "cli/options.h"
#include "frontend/bitops.h"

namespace palsim::cli {

struct BitopsOptions {
  NetworkOptions net;
  int wbits_override = 0, abits_override = 0;

  void add_to(po::options_description& desc);
};

struct BitopsOutcome {
  std::string network;
  frontend::BitOpsReport report;
  // What `palsim bitops --json` prints.
  nlohmann::json record;
};

BitopsOutcome bitops_run(const BitopsOptions& options, const po::variables_map& vm);

}  // namespace palsim::cli
