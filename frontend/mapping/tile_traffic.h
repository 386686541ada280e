#pragma once
// The DRAM traffic of a stream of tile transfers, priced on the configured
// memory (frontend/arch/access_cost.h) with the tiles' real accesses in the
// tensor's layout (tensor_layout.h). The mapper prices every operand of a
// candidate mapping with it; the planner prices the layouts a tensor could
// have with it.
#include <cstdint>
#include <vector>

#include "frontend/arch/access_cost.h"
#include "frontend/mapping/tensor_layout.h"

namespace palsim::frontend {

struct DramTraffic {
  double requested_bits = 0;
  double moved_bits = 0;  // on the bus
  double cycles = 0;      // accelerator cycles the channel is busy
  DramTraffic& operator+=(const DramTraffic& o);
};

// `transfers` transfers shaped like `tile` (the accesses of one), moving
// `total_bits` requested bits in all (tiles at a tensor's edges are smaller
// than `tile`): each transfer pays the access latency once per access; the
// bits move at the tile's rate and with its over-fetch.
DramTraffic stream_traffic(const AccessCost& cost, const std::vector<DramAccess>& tile,
                           double total_bits, int64_t transfers);

}  // namespace palsim::frontend
