#pragma once
// The mapping search (kept apart from the architecture and the simulator, as
// in Timeloop): a map space of named axes (map_space.h), a search policy
// walking it (search_policy.h; by default every point), an evaluator
// estimating each point or rejecting it with a reason (map_evaluator.h), and
// the ranking of what it found (ranking.h). Capacity is checked against half
// of each double-buffered buffer. Ranked by estimated cycles, then energy,
// then DRAM traffic; ties keep the first found (deterministic). A tile size
// outside the candidates has the tile count of a candidate that is no larger
// (tests/frontend/test_mapper.cpp checks this, and checks small problems
// against every tile size by brute force).
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/mapping/map_space.h"
#include "frontend/mapping/mapping.h"
#include "frontend/mapping/mapping_cost.h"
#include "frontend/mapping/search_policy.h"

namespace palsim::frontend {

// The candidates of a search and what it visited to find them.
struct MapSearchResult {
  std::vector<Mapping> mappings;
  MapSearchStats stats;
};

// Candidates for a final choice: the `count` best mappings by estimated
// (cycles, energy) followed by the `count` best by (energy, cycles) that are
// not already listed; fewer when the space is smaller. The first is
// find_mapping's result. Every pack of the group packing axis is searched
// (a space each) and the candidates merged. Throws InputError naming the
// operation when no array mode handles the operands or no tiling fits the
// buffers.
MapSearchResult find_mappings(const HwConfig& hw, const MappingProblem& problem,
                              const std::string& op_name, size_t count,
                              const PolicyFactory& policy = exhaustive_policy());
// The best mapping.
Mapping find_mapping(const HwConfig& hw, const MappingProblem& problem, const std::string& op_name);

}  // namespace palsim::frontend
