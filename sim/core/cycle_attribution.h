#pragma once
// Which layer each cycle of a run belongs to, so that per-layer cycles sum to
// the run's cycles and every per-layer ratio (utilization, MAC utilization)
// stays within its physical range even when layers overlap in time (a
// producer and consumer kept on chip interleave their tiles):
//   - a cycle in which the array computes a tile belongs to that tile's layer;
//   - a cycle in which the array is idle belongs to the earliest layer (in
//     program order) that is in flight: it has started and is not complete;
//   - before a layer starts and with none in flight, to the next layer to
//     start; after the last job, to the last layer.
// A layer's cycles therefore include every cycle its tiles occupy the array.
#include <cstdint>
#include <vector>

#include "sim/core/job.h"

namespace palsim::sim {

// The rule above, in one line: what reports print beside per-layer cycles.
extern const char* const kCycleAttributionRule;

// Cycles attributed to each of `layers` layers (indexed by Job::op).
std::vector<uint64_t> attribute_cycles(const JobList& list, int layers, uint64_t total_cycles);

}  // namespace palsim::sim
