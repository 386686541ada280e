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
  p.a_bits = op.a_bits;
  p.w_bits = op.w_bits;
  p.in_bits = g.tensors[static_cast<size_t>(op.input)].bits;
  p.out_bits = g.tensors[static_cast<size_t>(op.output)].bits;
  p.res_bits = op.residual >= 0 ? g.tensors[static_cast<size_t>(op.residual)].bits : 0;
  p.uniform = op.uniform_quantizer;
  return p;
}

namespace {

// Mappings depend only on the problem and the hardware: cache them across ops
// and across the networks of one process (table2 compiles 24 variants).
std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, Mapping>& mapping_cache() {
  static std::map<std::string, Mapping> c;
  return c;
}

Mapping cached_mapping(const HwConfig& hw, const std::string& fingerprint, const MappingProblem& p,
                       const std::string& name) {
  std::mutex& mutex = cache_mutex();
  std::map<std::string, Mapping>& cache = mapping_cache();
  const std::string key = fingerprint + "#" + p.key();
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  Mapping m = find_mapping(hw, p, name);
  std::lock_guard<std::mutex> lock(mutex);
  cache.emplace(key, m);
  return m;
}

// An op's output can stay on chip for the next op when the next op is its
// only reader, reads it as its input group by group with the same groups and
// no rotation, and the producer writes it unpermuted.
bool fusable(const HwGraph& g, size_t i) {
  if (i + 1 >= g.ops.size()) return false;
  const HwOp& a = g.ops[i];
  const HwOp& b = g.ops[i + 1];
  if (a.kind != HwOpKind::kConv || b.kind != HwOpKind::kConv) return false;
  if (b.input != a.output || a.groups != b.groups || b.in_group_rotate != 0 || a.out_shuffle_groups > 1) return false;
  for (size_t j = 0; j < g.ops.size(); ++j) {
    if (j == i + 1) continue;
    if (g.ops[j].input == a.output || g.ops[j].residual == a.output) return false;
  }
  return a.output != g.output_tensor;
}

}  // namespace

void clear_mapping_cache() {
  std::lock_guard<std::mutex> lock(cache_mutex());
  mapping_cache().clear();
}

Plan plan_network(const HwConfig& hw, const HwGraph& graph) {
  Plan plan;
  plan.graph = graph;
  plan.hw_fingerprint = hw.fingerprint();
  const auto& ops = plan.graph.ops;
  plan.ops.resize(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    OpPlan& op = plan.ops[i];
    op.problem = make_problem(plan.graph, ops[i]);
    op.mapping = cached_mapping(hw, plan.hw_fingerprint, op.problem, ops[i].name);
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
        ma = cached_mapping(hw, plan.hw_fingerprint, pa, ops[i].name);
        mb = cached_mapping(hw, plan.hw_fingerprint, pb, ops[i + 1].name);
      } catch (const InputError&) {
        continue;  // no tiling fits beside the region: keep the DRAM round trip
      }
      const MappingEstimate& ua = plan.ops[i].mapping.estimate;
      const MappingEstimate& ub = plan.ops[i + 1].mapping.estimate;
      const int64_t fused_cycles = ma.estimate.cycles + mb.estimate.cycles;
      const int64_t split_cycles = ua.cycles + ub.cycles;
      const double fused_energy = ma.estimate.energy_pj + mb.estimate.energy_pj;
      const double split_energy = ua.energy_pj + ub.energy_pj;
      if (fused_cycles < split_cycles || (fused_cycles == split_cycles && fused_energy < split_energy)) {
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
