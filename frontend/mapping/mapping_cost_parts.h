#pragma once
// The pieces of the cost model (mapping_cost.h) that the search reuses across
// the points of one tiling: per-dimension facts, operand volumes at a DMA
// level, footprints, DRAM traffic, the order-independent work and the
// estimate from them. Internal to frontend/mapping.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "frontend/arch/access_cost.h"
#include "frontend/mapping/array_model.h"
#include "frontend/mapping/mapping_cost.h"

namespace palsim::frontend::cost {

// Per-dimension facts for one tiling, computed once per candidate.
struct DimInfo {
  int64_t trips = 1;
  int64_t tile = 1;
  // Input extent along H/W: of the largest tile and summed over all tiles.
  int64_t in_tile = 1, in_sum = 1, in_full = 1;
};

struct Tiling {
  std::array<DimInfo, kLoopDims> d;
};

// Input extents along H or W for one output tile size: the largest tile's
// span and the sum over all tiles (halos counted once per tile).
void input_extents(const MappingProblem& p, LoopDim dim, int64_t tile, int64_t& in_tile,
                   int64_t& in_sum);

// input_extents of every tile size a search visits, computed once per
// problem (the search asks for them once per tiling).
struct SpanCache {
  std::vector<std::pair<int64_t, int64_t>> h, w;  // indexed by tile size
  SpanCache(const MappingProblem& p, const std::vector<int>& h_tiles,
            const std::vector<int>& w_tiles);
};

Tiling make_tiling(const MappingProblem& p, const Mapping& m, const SpanCache* spans = nullptr);

// Position of loop `d` in the mapping's order.
inline int position(const Mapping& m, LoopDim d) {
  for (int i = 0; i < kLoopDims; ++i) {
    if (m.order[static_cast<size_t>(i)] == d) return i;
  }
  return 0;
}

// Elements of operand x held per DMA execution at `level` (largest tile) and
// moved in total over the whole loop nest.
struct OperandVolume {
  int64_t tile_elems = 0;
  int64_t total_elems = 0;
  int64_t executions = 0;
  int64_t spill_factor = 1;  // output only: visits per output tile
};

// The dimensions outside a DMA level: the first `level` loops of the order.
// A volume depends on this set only, not on the order within it.
inline uint32_t outside_dims(const Mapping& m, int level) {
  uint32_t mask = 0;
  for (int i = 0; i < level; ++i)
    mask |= 1u << static_cast<unsigned>(m.order[static_cast<size_t>(i)]);
  return mask;
}
constexpr size_t kDimSets = size_t{1} << kLoopDims;

OperandVolume volume_outside(const MappingProblem& p, const Tiling& t, Operand x, uint32_t outside);

// The volumes of the three operands at the mapping's levels (weights: none for pools).
struct Volumes {
  OperandVolume in, wt, out;
};
Volumes volumes_of(const MappingProblem& p, const Mapping& m, const Tiling& t);

// Each operand's share of the footprint: input and residual in IBUF, weights
// in WBUF, accumulators (pools: outputs) in OBUF.
inline int64_t input_footprint(const MappingProblem& p, const OperandVolume& in) {
  return p.onchip_input ? 0 : in.tile_elems * p.in_bits;
}
// A packed (block-diagonal) weight tile holds only its groups' own weights:
// 1/pack of the dense tile (packed tiles always cover whole groups).
inline int64_t weight_footprint(const MappingProblem& p, const OperandVolume& wt) {
  return p.pool ? 0 : wt.tile_elems * p.w_bits / p.pack;
}
inline int64_t residual_footprint(const MappingProblem& p, const OperandVolume& out) {
  return out.tile_elems * p.res_bits;  // the residual tile rides with the output
}
inline int64_t output_footprint(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
                                const Tiling& t, const OperandVolume& out) {
  if (p.pool) return out.tile_elems * p.out_bits;
  // Accumulators, plus one activation sum per output position.
  const int64_t positions =
      out.tile_elems / std::max<int64_t>(1, m.level[2] <= position(m, LoopDim::kM)
                                                ? p.cout_g
                                                : t.d[static_cast<size_t>(LoopDim::kM)].tile);
  return (out.tile_elems + (p.uniform ? positions : 0)) * hw.accumulator_bits;
}
TileFootprint footprint_from(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
                             const Tiling& t, const Volumes& v);

// The traffic of one operand (one group's share) at the DMA level with the
// loops `outside` around it and the volume `v` there, with the tensors in
// `tensors`; `best_layout`: try the layout candidates of each activation
// tensor and keep the cheapest (the mapper's assumption, see mapping_cost.h).
DramTraffic operand_traffic(const HwConfig& hw, const AccessCost& cost, const MappingProblem& p,
                            const Mapping& m, const Tiling& t, Operand x, uint32_t outside,
                            const OperandVolume& v, const ProblemTensors& tensors,
                            bool best_layout);

// The volumes of one tiling, each computed once: the loop orders of the
// search share most of their sets of outer loops. One cache serves the whole
// search (start() per tiling), so its 3 KB are not cleared for every tiling.
// With a memory that prices transfers by their shape, the traffic of each
// volume is cached beside it.
class VolumeCache {
 public:
  VolumeCache(const HwConfig& hw, const MappingProblem& p, const AccessCost& cost)
      : hw_(hw), p_(p), cost_(cost), tensors_(plain_tensors(p)) {}
  void start(const Tiling& t, const Mapping& m) {
    t_ = &t;
    m_ = &m;
    known_ = {};
    priced_ = {};
  }
  const OperandVolume& get(Operand x, uint32_t outside) {
    const size_t xi = static_cast<size_t>(x);
    if (!(known_[xi] & (uint64_t{1} << outside))) {
      v_[xi][outside] = volume_outside(p_, *t_, x, outside);
      known_[xi] |= uint64_t{1} << outside;
    }
    return v_[xi][outside];
  }
  const DramTraffic& traffic(Operand x, uint32_t outside) {
    const size_t xi = static_cast<size_t>(x);
    if (!(priced_[xi] & (uint64_t{1} << outside))) {
      d_[xi][outside] =
          operand_traffic(hw_, cost_, p_, *m_, *t_, x, outside, get(x, outside), tensors_, true);
      priced_[xi] |= uint64_t{1} << outside;
    }
    return d_[xi][outside];
  }

 private:
  const HwConfig& hw_;
  const MappingProblem& p_;
  const AccessCost& cost_;
  const ProblemTensors tensors_;
  const Tiling* t_ = nullptr;
  const Mapping* m_ = nullptr;
  std::array<std::array<OperandVolume, kDimSets>, 3> v_;
  std::array<std::array<DramTraffic, kDimSets>, 3> d_;
  std::array<uint64_t, 3> known_{}, priced_{};
};

// The order-independent work of one tiling: array and post-processing costs
// summed exactly over its tile classes.
struct TilingWork {
  ComputeCost compute;
  PostCost post;
};
TilingWork tiling_work(const HwConfig& hw, const MappingProblem& p, const Mapping& m);

// max(compute cycles, post cycles) of tiling_work, from the cycle formulas
// alone: every loop order of the tiling takes at least this long, and the
// search prunes most tilings with it before their full work is computed.
int64_t tiling_cycle_bound(const HwConfig& hw, const MappingProblem& p, const Mapping& m);

// The estimate from the operand volumes and the footprint at the mapping's
// levels (the search computes them once per level and operand); `traffic`:
// each operand's priced traffic when the memory prices by shape.
MappingEstimate estimate_from(const HwConfig& hw, const MappingProblem& p, const TilingWork& w,
                              const Volumes& v, const TileFootprint& f, const AccessCost& cost,
                              const std::array<DramTraffic, 3>& traffic);

// Each operand's traffic at the mapping's levels (one group's share).
std::array<DramTraffic, 3> traffic_of(const HwConfig& hw, const AccessCost& cost,
                                      const MappingProblem& p, const Mapping& m, const Tiling& t,
                                      const Volumes& v, const ProblemTensors& tensors,
                                      bool best_layout);

}  // namespace palsim::frontend::cost
