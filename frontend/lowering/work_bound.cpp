#include "frontend/lowering/work_bound.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "frontend/lowering/plan.h"
#include "frontend/mapping/array_model.h"
#include "frontend/mapping/mapping.h"

namespace palsim::frontend {

namespace {

// Saturating, so that an absurd shape reads as "more than the limit" rather
// than overflowing (every figure here stays at or below kSaturated).
constexpr int64_t kSaturated = int64_t{1} << 62;

int64_t times(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kSaturated / b ? kSaturated : std::min(a * b, kSaturated);
}

int64_t plus(int64_t a, int64_t b) {
  return std::min(a + b, kSaturated);  // both <= 2^62: the sum fits
}

int64_t choices(int extent) {
  return static_cast<int64_t>(tile_candidates(std::max(1, extent)).size());
}

OpWork op_work(const HwConfig& hw, const HwGraph& g, const HwOp& op) {
  const MappingProblem p = make_problem(g, op);
  OpWork w;
  const int64_t modes =
      p.pool
          ? 1
          : std::max<int64_t>(1, static_cast<int64_t>(array_modes(hw, p.a_bits, p.w_bits).size()));
  w.tilings =
      times(times(times(times(modes, choices(p.batch)), choices(p.out_h)), choices(p.out_w)),
            times(choices(p.cout_g), p.pool ? 1 : choices(p.cin_g)));
  const int64_t batch = g.options.batch;
  const int64_t partial_sums = times(times(op.out.elements(), batch), hw.accumulator_bits);
  const int64_t output_tiles = ceil_div64(partial_sums, hw.obuf.tile_capacity_bits());
  const int64_t input_bits = times(times(op.in.elements(), batch), p.in_bits);
  const int64_t weight_bits = static_cast<int64_t>(op.weight_bits());
  w.min_jobs =
      plus(plus(times(2, output_tiles), ceil_div64(input_bits, hw.ibuf.tile_capacity_bits())),
           p.pool ? 0 : ceil_div64(weight_bits, hw.wbuf.tile_capacity_bits()));
  return w;
}

}  // namespace

WorkEstimate estimate_work(const HwConfig& hw, const HwGraph& graph) {
  WorkEstimate e;
  for (const HwOp& op : graph.ops) {
    e.ops.push_back(op_work(hw, graph, op));
    e.min_jobs = plus(e.min_jobs, e.ops.back().min_jobs);
  }
  return e;
}

void check_work(const WorkEstimate& work, const HwGraph& graph) {
  for (size_t i = 0; i < work.ops.size(); ++i) {
    if (work.ops[i].tilings > kMaxTilingsPerOp) {
      const HwOp& op = graph.ops[i];
      throw InputError(fmt::format(
          "network '{}', layer '{}' ({}x{}x{} output, batch {}): its mapping search has {:.3g} "
          "candidate tilings, more than the limit of {:.3g}; use a smaller input, padding or batch",
          graph.network, op.name, op.out.c, op.out.h, op.out.w, graph.options.batch,
          static_cast<double>(work.ops[i].tilings), static_cast<double>(kMaxTilingsPerOp)));
    }
  }
  if (work.min_jobs > kMaxCompileJobs) {
    size_t largest = 0;
    for (size_t i = 0; i < work.ops.size(); ++i)
      if (work.ops[i].min_jobs > work.ops[largest].min_jobs) largest = i;
    throw InputError(fmt::format(
        "network '{}' at batch {}: the program would have at least {:.3g} jobs (layer '{}' alone "
        "{:.3g}), more than the limit of {:.3g}; use a smaller input or batch",
        graph.network, graph.options.batch, static_cast<double>(work.min_jobs),
        graph.ops[largest].name, static_cast<double>(work.ops[largest].min_jobs),
        static_cast<double>(kMaxCompileJobs)));
  }
}

}  // namespace palsim::frontend
