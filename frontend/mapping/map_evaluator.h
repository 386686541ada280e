#pragma once
// The evaluator: a point of the map space -> its cost estimate, or why it is
// not a candidate. evaluate_point is that function for one point (a mapping
// given by hand); TilingEvaluator is the same rules for every point of one
// tiling at once, as the search asks (its points share volumes, footprints
// and traffic, computed once), with two exact prunings no policy needs to
// know of: a tiling whose compute bound cannot enter the ranking is skipped
// (work_bound), and a DMA level with no less traffic and no smaller tile
// than another of the same operand is dropped (dominated: the estimate grows
// with both). tests/frontend/test_map_space.cpp checks that both agree.
#include <memory>
#include <optional>

#include "frontend/arch/access_cost.h"
#include "frontend/arch/hw_config.h"
#include "frontend/mapping/map_space.h"
#include "frontend/mapping/mapping_cost.h"
#include "frontend/mapping/mapping_cost_parts.h"
#include "frontend/mapping/ranking.h"
#include "frontend/mapping/search_policy.h"

namespace palsim::frontend {

struct PointEvaluation {
  Mapping mapping;  // the point with its mode completed from the space's, and its estimate
  std::optional<MappingEstimate> estimate;  // set when the point is a candidate
  std::optional<Rejection> rejection;       // set otherwise
};

// Structure (MapSpace::check), buffer capacity, an on-chip output's spills;
// then the estimate.
PointEvaluation evaluate_point(const HwConfig& hw, const MapSpace& space, const Mapping& m);

class TilingEvaluator {
 public:
  TilingEvaluator(const HwConfig& hw, const MapSpace& space);
  // Offers every candidate point of `tiling` to `ranking`, counting each of
  // its points in `stats`.
  TilingReport evaluate(const Mapping& tiling, Ranking& ranking, MapSearchStats& stats);

 private:
  // One DMA level of one operand that fits its buffer.
  struct LevelOption {
    int level = 0;
    cost::OperandVolume v;
    int64_t bits = 0;      // input: IBUF bits; weights: WBUF; output: OBUF
    int64_t res_bits = 0;  // output: the residual tile's IBUF bits
    DramTraffic d;         // priced on a memory that prices by shape
  };
  struct LevelOptions {
    std::array<LevelOption, kLoopDims + 1> o;
    int n = 0;
    int64_t fitting = 0;  // before dominance
  };
  // The levels of operand x under `m`'s order that fit, counting those that do not.
  // The reasons a level alone can be rejected for: the first four.
  static constexpr size_t kLevelReasons = static_cast<size_t>(RejectReason::kOnchipSpill) + 1;
  template <Operand x>
  void fitting_levels(Mapping& m, const cost::Tiling& t, LevelOptions& opts,
                      std::array<int64_t, kLevelReasons>& rejected);
  void evaluate_order(const Mapping& m, const cost::Tiling& t, const cost::TilingWork& work,
                      Ranking& ranking, MapSearchStats& stats, TilingReport& report);

  const HwConfig& hw_;
  const MapSpace& space_;
  const MappingProblem& p_;
  const TileFootprint cap_;
  const std::unique_ptr<AccessCost> cost_;
  const bool shaped_;
  const cost::SpanCache spans_;
  const int64_t points_per_tiling_;
  cost::VolumeCache volumes_;
};

}  // namespace palsim::frontend
