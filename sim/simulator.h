#pragma once
// Runs a compiled program on the configured accelerator.
//   fast:     job-level timing (sim/core/fast_engine.h)
//   detailed: the SystemC model, every array unit stepped each cycle, real
//             values moved and computed (sim/systemc/)
// Both execute the same job list with the same rules and report the same
// cycles and access counts (tested).
#include <string>

#include "frontend/arch/hw_config.h"
#include "frontend/isa/program.h"
#include "sim/core/stats.h"

namespace palsim::sim {

enum class SimMode { kFast, kDetailed };
SimMode parse_sim_mode(const std::string& s);
std::string to_string(SimMode m);

struct SimOptions {
  SimMode mode = SimMode::kFast;
  bool progress = false;
  std::string vcd_trace;  // detailed mode: VCD file (empty: none)
};

// Throws InputError when the program was compiled for another configuration.
RunStats simulate(const frontend::HwConfig& hw, const isa::Program& program, const SimOptions& options);

}  // namespace palsim::sim
