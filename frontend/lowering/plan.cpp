#include "frontend/lowering/plan.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

#include "frontend/mapping/mapper.h"
#include "frontend/util/error.h"

namespace palsim::frontend {

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
// and across the networks of one process (table2 compiles 24 variants).
std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::vector<Mapping>>& mapping_cache() {
  static std::map<std::string, std::vector<Mapping>> c;
  return c;
}

std::vector<Mapping> cached_mappings(const HwConfig& hw, const std::string& fingerprint,
                                     const MappingProblem& p, const std::string& name,
                                     size_t count) {
  std::mutex& mutex = cache_mutex();
  auto& cache = mapping_cache();
  const std::string key = fingerprint + "#" + std::to_string(count) + "#" + p.key();
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  std::vector<Mapping> m = find_mappings(hw, p, name, count);
  std::lock_guard<std::mutex> lock(mutex);
  cache.emplace(key, m);
  return m;
}

Mapping cached_mapping(const HwConfig& hw, const std::string& fingerprint, const MappingProblem& p,
                       const std::string& name) {
  return cached_mappings(hw, fingerprint, p, name, 1).front();
}

std::map<std::string, std::pair<Mapping, PlanEvaluation>>& refined_cache() {
  static std::map<std::string, std::pair<Mapping, PlanEvaluation>> c;
  return c;
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
  auto& chosen = refined_cache();
  const std::string key =
      fmt::format("{}#refined{}#{}#{}", fingerprint, o.candidates, o.cycle_tolerance, p.key());
  {
    std::lock_guard<std::mutex> lock(cache_mutex());
    auto it = chosen.find(key);
    if (it != chosen.end()) {
      if (evaluation) *evaluation = it->second.second;
      return it->second.first;
    }
  }
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
  const Mapping best = cands[pick];
  const PlanEvaluation best_eval = evals[pick];
  std::lock_guard<std::mutex> lock(cache_mutex());
  chosen.emplace(key, std::make_pair(best, best_eval));
  if (evaluation) *evaluation = best_eval;
  return best;
}

// An op's output can stay on chip for the next op when the next op is its
// only reader (of the whole tensor: not a view), reads it as its input group by group with the same
// groups and no rotation, and the producer writes it unpermuted.
bool fusable(const HwGraph& g, size_t i) {
  if (i + 1 >= g.ops.size()) return false;
  const HwOp& a = g.ops[i];
  const HwOp& b = g.ops[i + 1];
  if (a.kind != HwOpKind::kConv || b.kind != HwOpKind::kConv) return false;
  if (b.input != a.output || a.groups != b.groups || b.in_group_rotate != 0 ||
      a.out_shuffle_groups > 1)
    return false;
  // A channel view (a place in a concatenation) is part of a larger tensor in DRAM.
  if (g.tensors[static_cast<size_t>(a.output)].is_view()) return false;
  for (size_t j = 0; j < g.ops.size(); ++j) {
    // No other reader, of the tensor or of a view of it (a split); nor the
    // consumer reading it a second time as its residual (a cyclic shuffle
    // module without its permutation: Z = X + f(X) reads X twice, and the
    // residual comes from DRAM).
    if (j != i + 1 && g.storage_of(g.ops[j].input) == a.output) return false;
    if (g.ops[j].residual >= 0 && g.storage_of(g.ops[j].residual) == a.output) return false;
  }
  return a.output != g.output_tensor;
}

}  // namespace

void clear_mapping_cache() {
  std::lock_guard<std::mutex> lock(cache_mutex());
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
  for (size_t i = 0; i < ops.size(); ++i) {
    OpPlan& op = plan.ops[i];
    op.problem = make_problem(plan.graph, ops[i]);
    op.mapping = refine ? refined_mapping(hw, plan.hw_fingerprint, plan.graph, static_cast<int>(i),
                                          op.problem, options, nullptr)
                        : cached_mapping(hw, plan.hw_fingerprint, op.problem, ops[i].name);
    if (options.progress) options.progress(static_cast<int>(i) + 1, static_cast<int>(ops.size()));
  }
  if (graph.options.onchip_intermediates) {
    for (size_t i = 0; i + 1 < ops.size(); ++i) {
      if (plan.ops[i].onchip_consumer || !fusable(plan.graph, i)) continue;
      ++plan.fusion_candidates;
      const HwTensor& t = plan.graph.tensors[static_cast<size_t>(ops[i].output)];
      const int64_t region = static_cast<int64_t>(t.size_bits()) / ops[i].groups;
      if (region >= hw.ibuf.size_bytes * 8) continue;
      MappingProblem pa = plan.ops[i].problem, pb = plan.ops[i + 1].problem;
      pa.onchip_output = true;
      pa.ibuf_reserved_bits = region;
      pb.onchip_input = true;
      pb.ibuf_reserved_bits = region;
      Mapping ma, mb;
      try {
        if (refine) {
          ma = refined_mapping(hw, plan.hw_fingerprint, plan.graph, static_cast<int>(i), pa,
                               options, nullptr);
          mb = refined_mapping(hw, plan.hw_fingerprint, plan.graph, static_cast<int>(i + 1), pb,
                               options, nullptr);
        } else {
          ma = cached_mapping(hw, plan.hw_fingerprint, pa, ops[i].name);
          mb = cached_mapping(hw, plan.hw_fingerprint, pb, ops[i + 1].name);
        }
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
  return plan;
}

}  // namespace palsim::frontend
