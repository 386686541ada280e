#pragma once
// Fast mode: executes a job list at the job level. Each engine takes its
// queue in order; a job starts at the first cycle its engine is free and all
// its dependencies are complete (+ the completion hop); the two DMA queues
// share the off-chip channel, which, when free, serves whichever queue head
// can start first (the store queue on a tie, since it frees OBUF space).
// Durations: DMA from the off-chip memory model, array and PPU from the array
// model (the same formulas the detailed mode's per-cycle stepping realises).
#include "frontend/arch/hw_config.h"
#include "sim/core/job.h"

namespace palsim::sim {

// Fills every job's start/end/done. Returns the total cycles (the last done).
uint64_t run_fast(const frontend::HwConfig& hw, JobList& jobs, OffchipMemory& memory);

// Duration of a non-DMA job (array: occupancy and latency; PPU: cycles).
void job_duration(const frontend::HwConfig& hw, const Job& job, uint64_t& occupancy,
                  uint64_t& latency);

}  // namespace palsim::sim
