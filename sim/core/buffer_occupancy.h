#pragma once
// Bits resident in the on-chip buffers over a run, from its timed job list.
// Data enters a buffer when the job that brings it starts and leaves when the
// last job that needs it is complete (the point after which the controller
// lets the next occupant of its buffer half in):
// - IBUF: each input and residual tile from its DMA load's start until the
//   last compute, pool or post-processing job that depends on the load is
//   complete; each on-chip intermediate result (a fused block's output kept
//   in the IBUF region) from the post-processing job that writes it until the
//   consumer's last compute on that group is complete.
// - WBUF: each weight tile from its load's start until its last compute.
// - OBUF: each output tile (one buffer half, from the partial-sum reload or
//   the first compute that writes it until the store that empties it, or
//   the post-processing job that moves it into the IBUF region): its
//   accumulators (and the activation sums of a uniform quantizer) at the
//   accumulator width; a pool's outputs at the output width.
// The bits are the tiles' useful bits, so they never exceed the configured
// buffer (tested against every buffer of several networks).
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "sim/core/job.h"

namespace palsim::sim {

// (cycle, change in bits), unsorted.
using OccupancySteps = std::vector<std::pair<uint64_t, int64_t>>;

// Indexed by Buffer (IBUF, WBUF, OBUF).
std::array<OccupancySteps, 3> buffer_occupancy(const frontend::HwConfig& hw, const JobList& jobs);

}  // namespace palsim::sim
