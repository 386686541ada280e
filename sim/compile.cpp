#include "sim/compile.h"

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <unordered_map>

#include "common/progress.h"

#include "frontend/lowering/codegen.h"
#include "frontend/lowering/layout_plan.h"
#include "frontend/lowering/psum_scratch.h"
#include "sim/core/controller.h"
#include "sim/core/fast_engine.h"
#include "sim/core/stats.h"
#include "sim/memory/priced_memory.h"

namespace palsim::sim {

namespace {

// The graph of just `ops`: the tensors they read and write (and the owners of
// those that are views), renumbered, at their own addresses. Only these
// enter the candidate's program, so that evaluating a candidate costs the
// size of its ops, not of the network (a copy of every tensor made compiling
// a 10,000-layer network quadratic).
frontend::HwGraph subgraph(const frontend::HwGraph& graph, const std::vector<int>& ops) {
  frontend::HwGraph sub;
  sub.network = graph.network;
  sub.options = graph.options;
  sub.dram_bits = graph.dram_bits;
  std::unordered_map<int, int> renumbered;
  // An owner is never a view itself, so one level of recursion suffices.
  std::function<int(int)> keep = [&](int t) {
    if (t < 0) return -1;
    if (auto it = renumbered.find(t); it != renumbered.end()) return it->second;
    frontend::HwTensor x = graph.tensors.at(static_cast<size_t>(t));
    if (x.is_view()) x.view_of = keep(x.view_of);
    x.id = static_cast<int>(sub.tensors.size());
    sub.tensors.push_back(x);
    renumbered[t] = x.id;
    return x.id;
  };
  for (int i : ops) {
    frontend::HwOp op = graph.ops.at(static_cast<size_t>(i));
    op.input = keep(op.input);
    op.output = keep(op.output);
    op.residual = keep(op.residual);
    sub.ops.push_back(std::move(op));
  }
  if (auto it = renumbered.find(graph.input_tensor); it != renumbered.end())
    sub.input_tensor = it->second;
  if (auto it = renumbered.find(graph.output_tensor); it != renumbered.end())
    sub.output_tensor = it->second;
  return sub;
}

}  // namespace

frontend::PlanEvaluator fast_evaluator(const frontend::HwConfig& hw) {
  return [&hw, fingerprint = hw.fingerprint()](const frontend::HwGraph& graph,
                                               const std::vector<int>& ops,
                                               const std::vector<frontend::OpPlan>& plans) {
    // A program of just these ops: their tensors at the same addresses, the
    // ops' own plans, their partial-sum scratch where the whole plan puts it.
    frontend::Plan sub;
    sub.graph = subgraph(graph, ops);
    sub.hw_fingerprint = fingerprint;
    const frontend::PsumScratch scratch = frontend::place_psum_scratch(graph, hw.accumulator_bits);
    for (size_t k = 0; k < ops.size(); ++k) {
      frontend::OpPlan p = plans[k];
      p.psum_dram_bit = scratch.bit[static_cast<size_t>(ops[k])];
      sub.ops.push_back(p);
    }
    sub.graph.dram_bits = scratch.end_bit;
    // The layouts that suit these ops alone (the whole plan later chooses
    // what all readers and writers of each tensor agree on).
    frontend::choose_layouts(hw, sub);
    const isa::Program program = frontend::generate_program(hw, sub);
    JobList jobs = expand_program(hw, program);
    auto memory = make_evaluation_memory(hw.offchip, hw.clock_mhz);
    const uint64_t cycles = run_fast(hw, jobs, *memory);
    Counts c;
    for (const Job& j : jobs.jobs) c += job_counts(hw, j);
    frontend::PlanEvaluation e;
    e.cycles = static_cast<int64_t>(cycles);
    e.energy_pj = energy_of(hw, c, cycles).total();
    return e;
  };
}

frontend::Compiled compile(const frontend::HwConfig& hw, const frontend::Network& net,
                           const frontend::LoweringOptions& options, size_t candidates,
                           double cycle_tolerance, bool progress,
                           const frontend::MappingFile* given) {
  frontend::PlanOptions po;
  po.cycle_tolerance = cycle_tolerance;
  po.given = given;
  std::unique_ptr<Progress> bar;
  if (progress) {
    po.progress = [&bar, &net](int done, int total) {
      if (!bar)
        bar = std::make_unique<Progress>(fmt::format("map {}", net.name()), "layers", total, true);
      bar->update(done);
      if (done == total) bar->finish();
    };
  }
  if (candidates > 1) {
    po.candidates = candidates;
    po.evaluate = fast_evaluator(hw);
  }
  return frontend::compile_network(hw, net, options, po);
}

}  // namespace palsim::sim
