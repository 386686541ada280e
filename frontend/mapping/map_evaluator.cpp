#include "frontend/mapping/map_evaluator.h"

#include <fmt/format.h>

#include "frontend/arch/cached_access_cost.h"

namespace palsim::frontend {

using namespace cost;

namespace {

Rejection capacity_rejection(RejectReason reason, const char* buffer, int64_t bytes,
                             const std::string& what, int64_t bits, int64_t capacity) {
  return Rejection{reason,
                   fmt::format("the {} tile needs {} bits of {}, more than the {} bits a "
                               "tile may hold ({} has {} B)",
                               what, bits, buffer, capacity, buffer, bytes),
                   "tiles"};
}

// The quantities the estimate takes from an operand's level: an option no
// smaller in any of them than another can never win.
template <typename Option>
std::array<int64_t, 5> components(const Option& q, Operand x) {
  const int64_t moved = x == Operand::kOutput ? q.v.spill_factor : q.v.total_elems;
  return {moved, q.v.executions, q.bits, q.res_bits, static_cast<int64_t>(q.d.cycles)};
}

// Keeps the Pareto-optimal options, in order; ties keep the first
// (innermost) of equal options.
template <typename Options>
void drop_dominated(Options& opts, Operand x) {
  int kept = 0;
  for (int i = 0; i < opts.n; ++i) {
    const auto b = components(opts.o[static_cast<size_t>(i)], x);
    bool dominated = false;
    for (int k = 0; k < opts.n && !dominated; ++k) {
      if (k == i) continue;
      const auto a = components(opts.o[static_cast<size_t>(k)], x);
      bool no_worse = true, better = false;
      for (size_t q = 0; q < a.size(); ++q) {
        no_worse = no_worse && a[q] <= b[q];
        better = better || a[q] < b[q];
      }
      dominated = no_worse && (better || k < i);
    }
    if (!dominated) opts.o[static_cast<size_t>(kept++)] = opts.o[static_cast<size_t>(i)];
  }
  opts.n = kept;
}

}  // namespace

PointEvaluation evaluate_point(const HwConfig& hw, const MapSpace& space, const Mapping& m) {
  PointEvaluation r;
  r.mapping = m;
  if ((r.rejection = space.check(m))) return r;
  r.mapping.mode = *space.mode_like(m.mode);
  const MappingProblem& p = space.problem;
  const Tiling t = make_tiling(p, r.mapping);
  const Volumes v = volumes_of(p, r.mapping, t);
  const TileFootprint cap = tile_capacity(hw, p);
  const int64_t in = input_footprint(p, v.in), wt = weight_footprint(p, v.wt),
                res = residual_footprint(p, v.out),
                out = output_footprint(hw, p, r.mapping, t, v.out);
  if (in + res > cap.ibuf_bits) {
    r.rejection = capacity_rejection(RejectReason::kIbufCapacity, "IBUF", hw.ibuf.size_bytes,
                                     res ? "input and residual" : "input", in + res, cap.ibuf_bits);
  } else if (wt > cap.wbuf_bits) {
    r.rejection = capacity_rejection(RejectReason::kWbufCapacity, "WBUF", hw.wbuf.size_bytes,
                                     "weight", wt, cap.wbuf_bits);
  } else if (p.onchip_output && v.out.spill_factor > 1) {
    r.rejection = Rejection{
        RejectReason::kOnchipSpill,
        fmt::format("the output stays on chip but its DMA level {} has C loops outside it: the "
                    "partial sums would leave OBUF {} times per tile",
                    m.level[2], v.out.spill_factor),
        "levels.output"};
  } else if (out > cap.obuf_bits) {
    r.rejection = capacity_rejection(RejectReason::kObufCapacity, "OBUF", hw.obuf.size_bytes,
                                     "accumulator", out, cap.obuf_bits);
  } else {
    r.estimate = r.mapping.estimate = estimate_mapping(hw, p, r.mapping);
  }
  return r;
}

TilingEvaluator::TilingEvaluator(const HwConfig& hw, const MapSpace& space)
    : hw_(hw),
      space_(space),
      p_(space.problem),
      cap_(tile_capacity(hw, space.problem)),
      cost_(make_cached_access_cost(hw.offchip, hw.clock_mhz)),
      shaped_(cost_->prices_by_shape()),
      spans_(space.problem, space.tile[static_cast<size_t>(LoopDim::kH)].values,
             space.tile[static_cast<size_t>(LoopDim::kW)].values),
      points_per_tiling_(space.points_per_tiling()),
      volumes_(hw, space.problem, *cost_) {}

TilingReport TilingEvaluator::evaluate(const Mapping& tiling, Ranking& ranking,
                                       MapSearchStats& stats) {
  TilingReport report;
  const int64_t points = points_per_tiling_;
  stats.visited += points;
  // Every order of this tiling takes at least its compute time (per group,
  // like the work; estimates cover all the op's groups).
  const int64_t bound = tiling_cycle_bound(hw_, p_, tiling) * p_.groups;
  if (!ranking.admits(bound)) {
    stats[RejectReason::kWorkBound] += points;
    report.pruned = true;
    return report;
  }
  const TilingWork work = tiling_work(hw_, p_, tiling);
  const Tiling t = make_tiling(p_, tiling, &spans_);
  volumes_.start(t, tiling);
  for (const LoopOrder& order : space_.order.values) {
    Mapping m = tiling;
    m.order = order;
    evaluate_order(m, t, work, ranking, stats, report);
  }
  return report;
}

template <Operand x>
void TilingEvaluator::fitting_levels(Mapping& m, const Tiling& t, LevelOptions& opts,
                                     std::array<int64_t, kLevelReasons>& rejected) {
  const size_t xi = static_cast<size_t>(x);
  const auto reject = [&](RejectReason r) { ++rejected[static_cast<size_t>(r)]; };
  for (int level : space_.level[xi].values) {
    m.level[xi] = level;
    LevelOption o;
    o.level = level;
    if (x == Operand::kWeight && p_.pool) {  // no weights: the one level is free
      opts.o[static_cast<size_t>(opts.n++)] = o;
      continue;
    }
    o.v = volumes_.get(x, outside_dims(m, level));
    if (x == Operand::kInput) {
      o.bits = input_footprint(p_, o.v);
      if (o.bits > cap_.ibuf_bits) {
        reject(RejectReason::kIbufCapacity);
        continue;
      }
    } else if (x == Operand::kWeight) {
      o.bits = weight_footprint(p_, o.v);
      if (o.bits > cap_.wbuf_bits) {
        reject(RejectReason::kWbufCapacity);
        continue;
      }
    } else {
      if (p_.onchip_output && o.v.spill_factor > 1) {
        reject(RejectReason::kOnchipSpill);
        continue;
      }
      o.bits = output_footprint(hw_, p_, m, t, o.v);
      o.res_bits = residual_footprint(p_, o.v);
      if (o.bits > cap_.obuf_bits || o.res_bits > cap_.ibuf_bits) {
        reject(o.bits > cap_.obuf_bits ? RejectReason::kObufCapacity : RejectReason::kIbufCapacity);
        continue;
      }
    }
    if (shaped_) o.d = volumes_.traffic(x, outside_dims(m, level));
    opts.o[static_cast<size_t>(opts.n++)] = o;
  }
  opts.fitting = opts.n;
  if (!(x == Operand::kWeight && p_.pool)) drop_dominated(opts, x);
}

void TilingEvaluator::evaluate_order(const Mapping& order, const Tiling& t, const TilingWork& work,
                                     Ranking& ranking, MapSearchStats& stats,
                                     TilingReport& report) {
  // Each operand's levels that fit its buffer, then every combination of
  // them that fits. A point is counted under the first operand whose level
  // is rejected (input, weight, output), then as dominated, then by the
  // input and residual sharing IBUF.
  Mapping m = order;
  std::array<std::array<int64_t, kLevelReasons>, 3> rejected{};
  std::array<LevelOptions, 3> opts;
  std::array<int64_t, 3> levels{};
  for (size_t x = 0; x < 3; ++x) {
    levels[x] = static_cast<int64_t>(space_.level[x].size());
  }
  fitting_levels<Operand::kInput>(m, t, opts[0], rejected[0]);
  fitting_levels<Operand::kWeight>(m, t, opts[1], rejected[1]);
  fitting_levels<Operand::kOutput>(m, t, opts[2], rejected[2]);
  const int64_t f0 = opts[0].fitting, f1 = opts[1].fitting, f2 = opts[2].fitting;
  for (size_t r = 0; r < kLevelReasons; ++r) {
    stats.rejected[r] += rejected[0][r] * levels[1] * levels[2] + f0 * rejected[1][r] * levels[2] +
                         f0 * f1 * rejected[2][r];
  }
  stats[RejectReason::kDominated] +=
      f0 * f1 * f2 - static_cast<int64_t>(opts[0].n) * opts[1].n * opts[2].n;
  for (int a = 0; a < opts[0].n; ++a) {
    const LevelOption& oi = opts[0].o[static_cast<size_t>(a)];
    for (int b = 0; b < opts[1].n; ++b) {
      const LevelOption& ow = opts[1].o[static_cast<size_t>(b)];
      for (int c = 0; c < opts[2].n; ++c) {
        const LevelOption& oo = opts[2].o[static_cast<size_t>(c)];
        if (oi.bits + oo.res_bits > cap_.ibuf_bits) {
          ++stats[RejectReason::kIbufCapacity];
          continue;
        }
        const TileFootprint f{oi.bits + oo.res_bits, ow.bits, oo.bits};
        const std::array<DramTraffic, 3> traffic =
            shaped_ ? std::array<DramTraffic, 3>{oi.d, ow.d, oo.d} : std::array<DramTraffic, 3>{};
        const MappingEstimate e =
            estimate_from(hw_, p_, work, Volumes{oi.v, ow.v, oo.v}, f, *cost_, traffic);
        ++stats.evaluated;
        ++report.evaluated;
        if (report.best_cycles < 0 || e.cycles < report.best_cycles) report.best_cycles = e.cycles;
        ranking.offer(order, {oi.level, ow.level, oo.level}, e);
      }
    }
  }
}

}  // namespace palsim::frontend
