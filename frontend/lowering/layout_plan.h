#pragma once
// Tensor layouts chosen per tensor: after the mappings are chosen, every
// DRAM tensor gets the layout that makes the transfers of all its readers and
// its writer cheapest on the configured memory (priced with the mappings'
// own tiles, tile_traffic.h), so producer and consumers agree on one layout
// and a layout that suits one of them but not the others is a cost the choice
// sees. Candidates: planar (NCHW) and channel blocks matching the tiles'
// channel extents, a group's channels or all channels (NHWC). On a memory
// whose price does not depend on a transfer's shape (the bandwidth model)
// every tensor stays planar. Partial-sum scratch is private to its op: blocks
// of the op's M tile.
#include "frontend/arch/hw_config.h"
#include "frontend/lowering/plan.h"
#include "frontend/mapping/mapper.h"

namespace palsim::frontend {

// Sets plan.tensor_layout and every op's psum_block.
void choose_layouts(const HwConfig& hw, Plan& plan);

// The tensors of op `index` as the plan stores them (addresses, views, layouts, shuffle).
ProblemTensors op_tensors(const Plan& plan, int index);

}  // namespace palsim::frontend
