#pragma once
// The mapping search (kept apart from the architecture and the simulator, as
// in Timeloop): exhaustive over the mapping space
//   loop order of {P = (N, H, W), M, C}  x  tile sizes (every distinct tile count per
//   dimension, each as its balanced tile size ceil(E / count))  x  array modes
//   x  DMA level of each operand (every combination of levels),
// with capacity checks against half of each double-buffered buffer. Ranked by
// estimated cycles, then energy, then DRAM traffic; ties keep the first found
// (deterministic). A tile size outside the candidates has the tile count of a
// candidate that is no larger (tests/frontend/test_mapper.cpp checks this, and
// checks small problems against every tile size by brute force).
// Candidates that do not fit are counted.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/mapping/mapping.h"

namespace palsim::frontend {

struct MapperStats {
  int64_t evaluated = 0;
  int64_t rejected_capacity = 0;
};

// Returns the best mapping; throws InputError naming the operation when no
// tiling fits the buffers.
Mapping find_mapping(const HwConfig& hw, const MappingProblem& problem, const std::string& op_name);
// Candidates for a final choice: the `count` best mappings by estimated
// (cycles, energy) followed by the `count` best by (energy, cycles) that are
// not already listed; fewer when the space is smaller. The first is
// find_mapping's result.
std::vector<Mapping> find_mappings(const HwConfig& hw, const MappingProblem& problem,
                                   const std::string& op_name, size_t count);

// The analytic estimate of one mapping (the mapper's objective).
MappingEstimate estimate_mapping(const HwConfig& hw, const MappingProblem& p, const Mapping& m);

// Bits of each operand's tile at the mapping's levels (for capacity checks).
struct TileFootprint {
  int64_t ibuf_bits = 0;
  int64_t wbuf_bits = 0;
  int64_t obuf_bits = 0;
};
TileFootprint tile_footprint(const HwConfig& hw, const MappingProblem& p, const Mapping& m);
// Capacity per tile (bits) of each buffer for this problem.
TileFootprint tile_capacity(const HwConfig& hw, const MappingProblem& p);

}  // namespace palsim::frontend
