#include "sim/simulator.h"

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/progress.h"
#include "sim/core/controller.h"
#include "sim/core/fast_engine.h"
#include "sim/core/timeline.h"

namespace palsim::sim {

RunStats simulate_detailed(const frontend::HwConfig& hw, const isa::Program& program,
                           const SimOptions& options);

RunStats simulate(const frontend::HwConfig& hw, const isa::Program& program,
                  const SimOptions& options) {
  if (program.info.hw_fingerprint != hw.fingerprint()) {
    throw InputError(fmt::format(
        "the program was compiled for hardware '{}' with other parameters than '{}' ({}); "
        "recompile it for this configuration",
        program.info.hw_name, hw.name, hw.file));
  }
  if (options.mode == SimMode::kDetailed) return simulate_detailed(hw, program, options);
  Progress progress("simulate (fast)", "layers", static_cast<int64_t>(program.info.ops.size()),
                    options.progress);
  JobList jobs = expand_program(hw, program);
  auto memory = make_offchip_memory(hw.offchip, hw.clock_mhz);
  const uint64_t cycles = run_fast(hw, jobs, *memory);
  write_timeline(hw, program, jobs, options);
  RunStats r = collect_stats(hw, program, jobs, cycles);
  progress.update(static_cast<int64_t>(program.info.ops.size()));
  const double secs = progress.elapsed_seconds();
  progress.finish(fmt::format("{} cycles, {:.1f} M simulated cycles/s", cycles,
                              secs > 0 ? cycles / secs / 1e6 : 0.0));
  r.mode = SimMode::kFast;
  r.dram = memory->stats();
  r.memory_model = memory->describe();
  return r;
}

void write_timeline(const frontend::HwConfig& hw, const isa::Program& program, const JobList& jobs,
                    const SimOptions& options) {
  if (options.timeline.empty()) return;
  write_file_atomically(options.timeline, timeline_json(hw, program, jobs).dump() + "\n");
}

void require_bit_exact(const RunStats& run) {
  if (run.values_checked && !run.bit_exact) {
    throw RunFailure("values MISMATCH against the kernels (detailed mode): " + run.first_mismatch);
  }
}

}  // namespace palsim::sim
