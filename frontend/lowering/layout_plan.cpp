#include "frontend/lowering/layout_plan.h"

#include <algorithm>
#include <map>

#include "frontend/arch/cached_access_cost.h"

namespace palsim::frontend {

namespace {

TensorLayout stored_layout(const Plan& plan, int id, const Shape& logical) {
  const HwGraph& g = plan.graph;
  const HwTensor& t = g.tensors[static_cast<size_t>(id)];
  TensorLayout l{t.dram_bit, t.bits, logical.c, logical.h, logical.w};
  if (t.is_view()) {
    l.c_total = g.tensors[static_cast<size_t>(t.view_of)].shape.c;
    l.c_offset = t.view_offset;
    l.c_stride = t.view_stride;
  }
  const LayoutChoice c = plan.layout_of(id);
  l.block = c.block;
  l.group_major = c.group_major;
  return l;
}

// How op `k` touches tensor `owner` (its storage): as input, output or residual.
struct Access {
  int op;
  bool input, output, residual;
};

}  // namespace

ProblemTensors op_tensors(const Plan& plan, int index) {
  const HwOp& op = plan.graph.ops[static_cast<size_t>(index)];
  ProblemTensors t;
  t.input = stored_layout(plan, op.input, op.in);
  t.output = stored_layout(plan, op.output, op.out);
  if (op.residual >= 0) t.residual = stored_layout(plan, op.residual, op.out);
  t.out_shuffle = op.out_shuffle_groups;
  return t;
}

void choose_layouts(const HwConfig& hw, Plan& plan) {
  const HwGraph& g = plan.graph;
  plan.tensor_layout.assign(g.tensors.size(), LayoutChoice{});
  const auto cost = make_cached_access_cost(hw.offchip, hw.clock_mhz);
  const bool shaped = cost->prices_by_shape();
  for (OpPlan& op : plan.ops) op.psum_block = shaped ? psum_block(op.problem, op.mapping) : 0;
  if (!shaped) return;
  std::map<int, std::vector<Access>> accesses;  // by owner tensor
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const HwOp& op = g.ops[k];
    const OpPlan& pl = plan.ops[k];
    const int i = static_cast<int>(k);
    if (!pl.onchip_consumer) accesses[g.storage_of(op.input)].push_back({i, true, false, false});
    if (!pl.onchip_producer) accesses[g.storage_of(op.output)].push_back({i, false, true, false});
    if (op.residual >= 0) accesses[g.storage_of(op.residual)].push_back({i, false, false, true});
  }
  for (const auto& [owner, list] : accesses) {
    const int channels = g.tensors[static_cast<size_t>(owner)].shape.c;
    // Every block some accessor's tiles would want; group-major variants
    // when the writer shuffles.
    std::vector<int> blocks = {0};
    int shuffle = 0;
    for (const Access& a : list) {
      const MappingProblem& p = plan.ops[static_cast<size_t>(a.op)].problem;
      const Mapping& m = plan.ops[static_cast<size_t>(a.op)].mapping;
      const int tile = a.input && !p.pool ? std::min(m.c_t, p.cin_g) : std::min(m.m_t, p.cout_g);
      const int group = a.input && !p.pool ? p.cin_g : p.cout_g;
      for (int b : layout_candidates(channels, tile, group)) {
        if (std::find(blocks.begin(), blocks.end(), b) == blocks.end()) blocks.push_back(b);
      }
      const int s = g.ops[static_cast<size_t>(a.op)].out_shuffle_groups;
      if (a.output && s > 1 && channels % s == 0) shuffle = s;
    }
    std::vector<LayoutChoice> candidates;
    for (int b : blocks) candidates.push_back({b, 0});
    if (shuffle > 1) {
      for (int b : blocks) candidates.push_back({b, shuffle});
    }
    double best_cycles = 0;
    LayoutChoice best;
    for (size_t c = 0; c < candidates.size(); ++c) {
      plan.tensor_layout[static_cast<size_t>(owner)] = candidates[c];
      double cycles = 0;
      for (const Access& a : list) {
        const OpPlan& pl = plan.ops[static_cast<size_t>(a.op)];
        const MappingTraffic t =
            mapping_traffic(hw, *cost, pl.problem, pl.mapping, op_tensors(plan, a.op));
        cycles += a.input ? t.input.cycles : t.output.cycles;
      }
      // Ties keep the earlier candidate (planar first).
      if (c == 0 || cycles < best_cycles) {
        best_cycles = cycles;
        best = candidates[c];
      }
    }
    plan.tensor_layout[static_cast<size_t>(owner)] = best;
  }
}

}  // namespace palsim::frontend
