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
#include "frontend/lowering/hw_graph.h"
#include "frontend/lowering/int_model.h"
#include "sim/core/job.h"
#include "sim/core/sim_mode.h"
#include "sim/core/stats.h"

namespace palsim::sim {

struct SimOptions {
  SimMode mode = SimMode::kFast;
  bool progress = false;
  std::string vcd_trace;  // detailed mode: VCD file (empty: none)
  // Either mode: a Chrome trace event file of every job (sim/core/timeline.h;
  // empty: none).
  std::string timeline;
  // Detailed mode: the integer values to run. Without a model, a synthetic
  // one (seeded) is made for the program's graph.
  const frontend::HwGraph* graph = nullptr;
  const frontend::IntegerModel* model = nullptr;
  uint64_t seed = 1;
  // Detailed mode: units compute through the kernels' BitBrick / NBVE
  // functions instead of plain products (slower; equal results).
  bool exact_arithmetic = false;
  // Detailed mode: compare every tensor with the kernels' reference.
  bool check_values = true;
};

// Throws InputError when the program was compiled for another configuration.
RunStats simulate(const frontend::HwConfig& hw, const isa::Program& program,
                  const SimOptions& options);

// Writes options.timeline (when set) from a run's timed job list.
void write_timeline(const frontend::HwConfig& hw, const isa::Program& program, const JobList& jobs,
                    const SimOptions& options);

// Throws RunFailure when the run checked its values against the kernels and
// found a mismatch: a failed correctness check is a failed run.
void require_bit_exact(const RunStats& run);

}  // namespace palsim::sim
