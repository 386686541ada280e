#pragma once
// The mapper's cost model of one mapping: what its tiles hold (the fit) and
// what it costs (the estimate the search ranks by). The search
// (mapper.h) and the evaluation of a given mapping (map_evaluator.h) use
// the same pieces (mapping_cost_parts.h), so a mapping is priced alike
// however it was found.
#include <cstdint>
#include <vector>

#include "frontend/arch/access_cost.h"
#include "frontend/arch/hw_config.h"
#include "frontend/mapping/mapping.h"
#include "frontend/mapping/tensor_layout.h"
#include "frontend/mapping/tile_traffic.h"

namespace palsim::frontend {

// The analytic estimate of one mapping (the mapper's objective).
MappingEstimate estimate_mapping(const HwConfig& hw, const MappingProblem& p, const Mapping& m);

// Where a problem's tensors live in DRAM (geometry, channel view, layout,
// base address) and how its output is permuted: what its transfers are
// priced on. The mapper, which searches before tensors are placed, assumes
// plain tensors at address 0, each in the layout that suits the tile best
// among planar, blocks of the tile's channels and blocks of a group's
// channels (layout_candidates: the map space's tensor layout axis); the
// planner then prices the layouts every reader and writer of a tensor would
// agree on.
struct ProblemTensors {
  TensorLayout input, output, residual;
  int out_shuffle = 0;
};
ProblemTensors plain_tensors(const MappingProblem& p);
// Blocks worth trying for an operand tensor of `channels` channels whose
// tiles hold `tile_channels` of a group's `group_channels` (valid ones only;
// planar first).
std::vector<int> layout_candidates(int channels, int tile_channels, int group_channels);
// The partial-sum scratch of a mapping: blocks of the M tile (private to the op).
int psum_block(const MappingProblem& p, const Mapping& m);

// The DRAM traffic of a mapping's transfers, priced on `cost`: input loads,
// weight loads, and output stores with partial-sum spills and residual loads.
struct MappingTraffic {
  DramTraffic input, weight, output;
  DramTraffic total() const;
};
MappingTraffic mapping_traffic(const HwConfig& hw, const AccessCost& cost, const MappingProblem& p,
                               const Mapping& m, const ProblemTensors& tensors);

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
