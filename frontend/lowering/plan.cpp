#include "frontend/lowering/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "frontend/lowering/layout_plan.h"
#include "frontend/mapping/mapper.h"
#include "frontend/util/error.h"
#include "frontend/util/once_cache.h"

namespace palsim::frontend {

LayoutChoice Plan::layout_of(int tensor) const {
  const size_t owner = static_cast<size_t>(graph.storage_of(tensor));
  return owner < tensor_layout.size() ? tensor_layout[owner] : LayoutChoice{};
}

MappingProblem make_problem(const HwGraph& g, const HwOp& op) {
  MappingProblem p;
  p.pool = op.kind != HwOpKind::kConv;
  p.groups = op.groups;
  p.batch = g.options.batch;
  p.cin_g = op.in.c / op.groups;
  p.cout_g = op.out.c / op.groups;
  p.in_h = op.in.h;
  p.in_w = op.in.w;
  p.out_h = op.out.h;
  p.out_w = op.out.w;
  p.kh = op.kh;
  p.kw = op.kw;
  p.sh = op.sh;
  p.sw = op.sw;
  p.ph = op.ph;
  p.pw = op.pw;
  p.dh = op.dh;
  p.dw = op.dw;
  p.a_bits = op.a_bits;
  p.w_bits = op.w_bits;
  p.in_bits = g.tensors[static_cast<size_t>(op.input)].bits;
  p.out_bits = g.tensors[static_cast<size_t>(op.output)].bits;
  p.res_bits = op.residual >= 0 ? g.tensors[static_cast<size_t>(op.residual)].bits : 0;
  p.uniform = op.uniform_quantizer;
  p.in_rotate = op.in_group_rotate;
  return p;
}

namespace {

// Mappings depend only on the problem and the hardware: cache them across ops
// and across the networks of one process (table2 compiles 24 variants, in
// parallel: a search another thread is running is waited for, not repeated).
OnceCache<std::vector<Mapping>>& mapping_cache() {
  static OnceCache<std::vector<Mapping>> c;
  return c;
}

std::vector<Mapping> cached_mappings(const HwConfig& hw, const std::string& fingerprint,
                                     const MappingProblem& p, const std::string& name,
                                     size_t count) {
  const std::string key = fingerprint + "#" + std::to_string(count) + "#" + p.key();
  return mapping_cache().get(key, [&] { return find_mappings(hw, p, name, count); });
}

Mapping cached_mapping(const HwConfig& hw, const std::string& fingerprint, const MappingProblem& p,
                       const std::string& name) {
  return cached_mappings(hw, fingerprint, p, name, 1).front();
}

OnceCache<std::pair<Mapping, PlanEvaluation>>& refined_cache() {
  static OnceCache<std::pair<Mapping, PlanEvaluation>> c;
  return c;
}

// Runs work(0..n-1) on every core, the calling thread included; after each
// item the calling thread did, after_own(items done so far by all threads).
// The work fills the caches; its exceptions are left to the caller's own
// pass over the items (the caches hold them).
void on_every_core(size_t n, const std::function<void(size_t)>& work,
                   const std::function<void(size_t)>& after_own) {
  std::atomic<size_t> next{0}, done{0};
  auto run = [&](bool own) {
    for (size_t i = next++; i < n; i = next++) {
      try {
        work(i);
      } catch (...) {
      }
      const size_t finished = ++done;
      if (own && after_own) after_own(finished);
    }
  };
  const size_t threads = std::min<size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(run, false);
  run(true);
  for (auto& h : helpers) h.join();
}

}  // namespace

size_t choose_candidate(const std::vector<PlanEvaluation>& e, double tolerance) {
  int64_t fewest = e.front().cycles;
  for (const auto& x : e) fewest = std::min(fewest, x.cycles);
  const double limit = static_cast<double>(fewest) * (1.0 + tolerance);
  size_t best = e.size();
  for (size_t i = 0; i < e.size(); ++i) {
    if (static_cast<double>(e[i].cycles) > limit) continue;
    if (best == e.size() || e[i].energy_pj < e[best].energy_pj ||
        (e[i].energy_pj == e[best].energy_pj && e[i].cycles < e[best].cycles)) {
      best = i;
    }
  }
  return best;
}

namespace {

// The best of the mapper's candidates for op `index` with problem `p`, by
// evaluation; the evaluated choice is cached like the candidates.
Mapping refined_mapping(const HwConfig& hw, const std::string& fingerprint, const HwGraph& g,
                        int index, const MappingProblem& p, const PlanOptions& o,
                        PlanEvaluation* evaluation) {
  const std::string key =
      fmt::format("{}#refined{}#{}#{}", fingerprint, o.candidates, o.cycle_tolerance, p.key());
  const auto chosen = refined_cache().get(key, [&] {
    const std::vector<Mapping> cands =
        cached_mappings(hw, fingerprint, p, g.ops[static_cast<size_t>(index)].name, o.candidates);
    std::vector<PlanEvaluation> evals;
    for (const Mapping& m : cands) {
      OpPlan op;
      op.problem = p;
      op.mapping = m;
      op.onchip_producer = p.onchip_output;
      op.onchip_consumer = p.onchip_input;
      evals.push_back(o.evaluate(g, {index}, {op}));
    }
    const size_t pick = choose_candidate(evals, o.cycle_tolerance);
    return std::make_pair(cands[pick], evals[pick]);
  });
  if (evaluation) *evaluation = chosen.second;
  return chosen.first;
}

// How many ops read each tensor's storage as their input, and as their
// residual (counted once for the whole graph: asking per op made planning a
// network quadratic in its depth).
struct StorageReaders {
  std::vector<int> as_input, as_residual;
  explicit StorageReaders(const HwGraph& g)
      : as_input(g.tensors.size(), 0), as_residual(g.tensors.size(), 0) {
    for (const HwOp& op : g.ops) {
      if (op.input >= 0) ++as_input[static_cast<size_t>(g.storage_of(op.input))];
      if (op.residual >= 0) ++as_residual[static_cast<size_t>(g.storage_of(op.residual))];
    }
  }
};

// An op's output can stay on chip for the next op when the next op is its
// only reader (of the whole tensor: not a view), reads it as its input group by group with the same
// groups and no rotation, and the producer writes it unpermuted.
bool fusable(const HwGraph& g, const StorageReaders& readers, size_t i) {
  if (i + 1 >= g.ops.size()) return false;
  const HwOp& a = g.ops[i];
  const HwOp& b = g.ops[i + 1];
  if (a.kind != HwOpKind::kConv || b.kind != HwOpKind::kConv) return false;
  if (b.input != a.output || a.groups != b.groups || b.in_group_rotate != 0 ||
      a.out_shuffle_groups > 1)
    return false;
  // A channel view (a place in a concatenation) is part of a larger tensor in DRAM.
  if (g.tensors[static_cast<size_t>(a.output)].is_view()) return false;
  // No other reader, of the tensor or of a view of it (a split); nor the
  // consumer reading it a second time as its residual (a cyclic shuffle
  // module without its permutation: Z = X + f(X) reads X twice, and the
  // residual comes from DRAM).
  const size_t t = static_cast<size_t>(a.output);
  if (readers.as_input[t] != 1 || readers.as_residual[t] != 0) return false;
  return a.output != g.output_tensor;
}

}  // namespace

void clear_mapping_cache() {
  mapping_cache().clear();
  refined_cache().clear();
}

Plan plan_network(const HwConfig& hw, const HwGraph& graph, const PlanOptions& options) {
  const bool refine = options.evaluate && options.candidates > 1;
  Plan plan;
  plan.graph = graph;
  plan.hw_fingerprint = hw.fingerprint();
  const auto& ops = plan.graph.ops;
  plan.ops.resize(ops.size());
  auto map_op = [&](size_t i, const MappingProblem& p) {
    return refine ? refined_mapping(hw, plan.hw_fingerprint, plan.graph, static_cast<int>(i), p,
                                    options, nullptr)
                  : cached_mapping(hw, plan.hw_fingerprint, p, ops[i].name);
  };
  for (size_t i = 0; i < ops.size(); ++i) plan.ops[i].problem = make_problem(plan.graph, ops[i]);
  // The layers' searches are independent: they run on every core first, into
  // the caches, and the plan is then built in order from them. A problem is
  // searched (and its candidates evaluated) with the first op that has it,
  // as in order.
  const auto first_of_each = [&](const std::vector<std::pair<size_t, MappingProblem>>& work) {
    std::vector<std::pair<size_t, MappingProblem>> unique;
    std::set<std::string> seen;
    for (const auto& w : work) {
      if (seen.insert(w.second.key()).second) unique.push_back(w);
    }
    return unique;
  };
  std::vector<std::pair<size_t, MappingProblem>> layers;
  for (size_t i = 0; i < ops.size(); ++i) layers.emplace_back(i, plan.ops[i].problem);
  const auto layer_work = first_of_each(layers);
  // From the start: the first op alone may take long.
  if (options.progress) options.progress(0, static_cast<int>(ops.size()));
  on_every_core(
      layer_work.size(), [&](size_t k) { map_op(layer_work[k].first, layer_work[k].second); },
      [&](size_t done) {
        // The last report is the one after all are done, below.
        if (options.progress && done < layer_work.size())
          options.progress(static_cast<int>(done * ops.size() / layer_work.size()),
                           static_cast<int>(ops.size()));
      });
  if (options.progress && !ops.empty())
    options.progress(static_cast<int>(ops.size()), static_cast<int>(ops.size()));
  for (size_t i = 0; i < ops.size(); ++i) plan.ops[i].mapping = map_op(i, plan.ops[i].problem);
  if (graph.options.onchip_intermediates) {
    // The problems of op i and i + 1 with i's output kept on chip, if it fits.
    auto fused_problems = [&](size_t i, MappingProblem& pa, MappingProblem& pb, int64_t& region) {
      const HwTensor& t = plan.graph.tensors[static_cast<size_t>(ops[i].output)];
      region = static_cast<int64_t>(t.size_bits()) / ops[i].groups;
      if (region >= hw.ibuf.size_bytes * 8) return false;
      pa = plan.ops[i].problem;
      pb = plan.ops[i + 1].problem;
      pa.onchip_output = true;
      pa.ibuf_reserved_bits = region;
      pb.onchip_input = true;
      pb.ibuf_reserved_bits = region;
      return true;
    };
    const StorageReaders readers(plan.graph);
    std::vector<std::pair<size_t, MappingProblem>> pairs;
    for (size_t i = 0; i + 1 < ops.size(); ++i) {
      MappingProblem pa, pb;
      int64_t region = 0;
      if (!fusable(plan.graph, readers, i) || !fused_problems(i, pa, pb, region)) continue;
      pairs.emplace_back(i, pa);
      pairs.emplace_back(i + 1, pb);
    }
    const auto pair_work = first_of_each(pairs);
    on_every_core(pair_work.size(),
                  [&](size_t k) { map_op(pair_work[k].first, pair_work[k].second); }, {});
    for (size_t i = 0; i + 1 < ops.size(); ++i) {
      if (plan.ops[i].onchip_consumer || !fusable(plan.graph, readers, i)) continue;
      ++plan.fusion_candidates;
      MappingProblem pa, pb;
      int64_t region = 0;
      if (!fused_problems(i, pa, pb, region)) continue;
      Mapping ma, mb;
      try {
        ma = map_op(i, pa);
        mb = map_op(i + 1, pb);
      } catch (const InputError&) {
        continue;  // no tiling fits beside the region: keep the DRAM round trip
      }
      bool keep;
      if (refine) {
        // The pair as it would run, with and without the region.
        OpPlan fa = plan.ops[i], fb = plan.ops[i + 1];
        fa.problem = pa;
        fa.mapping = ma;
        fa.onchip_producer = true;
        fa.region_bits = region;
        fb.problem = pb;
        fb.mapping = mb;
        fb.onchip_consumer = true;
        fb.region_bits = region;
        const int a = static_cast<int>(i), b = static_cast<int>(i + 1);
        const PlanEvaluation fused = options.evaluate(plan.graph, {a, b}, {fa, fb});
        const PlanEvaluation split =
            options.evaluate(plan.graph, {a, b}, {plan.ops[i], plan.ops[i + 1]});
        keep = choose_candidate({split, fused}, options.cycle_tolerance) == 1;
      } else {
        const MappingEstimate& ua = plan.ops[i].mapping.estimate;
        const MappingEstimate& ub = plan.ops[i + 1].mapping.estimate;
        const int64_t fused_cycles = ma.estimate.cycles + mb.estimate.cycles;
        const int64_t split_cycles = ua.cycles + ub.cycles;
        const double fused_energy = ma.estimate.energy_pj + mb.estimate.energy_pj;
        const double split_energy = ua.energy_pj + ub.energy_pj;
        keep = fused_cycles < split_cycles ||
               (fused_cycles == split_cycles && fused_energy < split_energy);
      }
      if (keep) {
        plan.ops[i].problem = pa;
        plan.ops[i].mapping = ma;
        plan.ops[i].onchip_producer = true;
        plan.ops[i].region_bits = region;
        plan.ops[i + 1].problem = pb;
        plan.ops[i + 1].mapping = mb;
        plan.ops[i + 1].onchip_consumer = true;
        plan.ops[i + 1].region_bits = region;
        ++plan.fused_pairs;
      }
    }
  }
  // Scratch space for spilled partial sums, after everything else.
  uint64_t addr = plan.graph.dram_bits;
  for (size_t i = 0; i < ops.size(); ++i) {
    const HwOp& op = ops[i];
    const int64_t outputs = op.out.elements() * plan.graph.options.batch;
    plan.ops[i].psum_dram_bit = addr;
    addr += static_cast<uint64_t>(outputs) * hw.accumulator_bits * (op.uniform_quantizer ? 2 : 1);
    addr = (addr + 511) / 512 * 512;
  }
  plan.graph.dram_bits = addr;
  choose_layouts(hw, plan);
  return plan;
}

}  // namespace palsim::frontend
