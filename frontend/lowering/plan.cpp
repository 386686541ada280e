#include "frontend/lowering/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/once_cache.h"
#include "frontend/lowering/layout_plan.h"
#include "frontend/lowering/psum_scratch.h"
#include "frontend/mapping/map_evaluator.h"
#include "frontend/mapping/mapper.h"

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
OnceCache<MapSearchResult>& mapping_cache() {
  static OnceCache<MapSearchResult> c;
  return c;
}

MapSearchResult cached_mappings(const HwConfig& hw, const std::string& fingerprint,
                                const MappingProblem& p, const std::string& name, size_t count) {
  const std::string key = fingerprint + "#" + std::to_string(count) + "#" + p.key();
  return mapping_cache().get(key, [&] { return find_mappings(hw, p, name, count); });
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
        cached_mappings(hw, fingerprint, p, g.ops[static_cast<size_t>(index)].name, o.candidates)
            .mappings;
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

// An op's mapping and what was searched to find it.
struct Mapped {
  Mapping mapping;
  MapSearchStats search;
  bool given = false;
};

std::string with_rule(const Rejection& r) {
  return fmt::format("{} (rule: {})", r.detail, reject_reason_name(r.reason));
}

// The mapping `g` gives an op of problem `p` (with the file's on-chip
// flags), evaluated without search; an illegal one is refused at its key.
Mapped given_mapping(const HwConfig& hw, const MappingFile& file, const GivenMapping& g,
                     const MappingProblem& p) {
  if (auto r = check_group_pack(hw, p, g.mapping.pack)) file.fail(g, r->key, with_rule(*r));
  const MapSpace space = make_map_space(hw, packed_problem(p, g.mapping.pack), g.op);
  const PointEvaluation e = evaluate_point(hw, space, g.mapping);
  if (e.rejection) file.fail(g, e.rejection->key, with_rule(*e.rejection));
  return {e.mapping, {}, true};
}

// Plans one network: maps every op (searching, or taking the file's
// mapping), decides the on-chip pairs, places the partial-sum scratch.
class NetworkPlanner {
 public:
  NetworkPlanner(const HwConfig& hw, const HwGraph& graph, const PlanOptions& options)
      : hw_(hw), o_(options), refine_(options.evaluate && options.candidates > 1) {
    plan_.graph = graph;
    plan_.hw_fingerprint = hw.fingerprint();
    plan_.ops.resize(graph.ops.size());
    for (size_t i = 0; i < graph.ops.size(); ++i)
      plan_.ops[i].problem = make_problem(plan_.graph, graph.ops[i]);
    given_.assign(graph.ops.size(), nullptr);
    if (o_.given) take_given(*o_.given);
  }

  Plan run() {
    map_layers();
    if (plan_.graph.options.onchip_intermediates) fuse_pairs();
    place_psum_scratch();
    choose_layouts(hw_, plan_);
    return std::move(plan_);
  }

 private:
  const std::vector<HwOp>& ops() const { return plan_.graph.ops; }

  // Which op each of the file's entries names.
  void take_given(const MappingFile& file) {
    for (const GivenMapping& g : file.layers) {
      bool found = false;
      for (size_t i = 0; i < ops().size(); ++i) {
        if (ops()[i].name != g.op) continue;
        given_[i] = &g;
        found = true;
      }
      if (!found)
        file.fail(g, "op",
                  fmt::format("network '{}' has no operation '{}' (palsim simulate --write-mapping "
                              "writes every operation's name)",
                              plan_.graph.network, g.op));
    }
  }

  Mapped map_op(size_t i, const MappingProblem& p) const {
    if (given_[i]) return given_mapping(hw_, *o_.given, *given_[i], p);
    const std::string& fp = plan_.hw_fingerprint;
    if (!refine_) {
      MapSearchResult r = cached_mappings(hw_, fp, p, ops()[i].name, 1);
      return {r.mappings.front(), r.stats};
    }
    Mapping m = refined_mapping(hw_, fp, plan_.graph, static_cast<int>(i), p, o_, nullptr);
    return {m, cached_mappings(hw_, fp, p, ops()[i].name, o_.candidates).stats};
  }

  void set(size_t i, const MappingProblem& p, const Mapped& m) {
    OpPlan& op = plan_.ops[i];
    op.problem = p;
    op.mapping = m.mapping;
    op.search = m.search;
    op.given = m.given;
  }

  // The first op of each problem among `work` that is searched (a given
  // mapping needs no search).
  std::vector<std::pair<size_t, MappingProblem>> first_searched(
      const std::vector<std::pair<size_t, MappingProblem>>& work) const {
    std::vector<std::pair<size_t, MappingProblem>> unique;
    std::set<std::string> seen;
    for (const auto& w : work) {
      if (!given_[w.first] && seen.insert(w.second.key()).second) unique.push_back(w);
    }
    return unique;
  }

  // The layers' searches are independent: they run on every core first, into
  // the caches, and the plan is then built in order from them. A problem is
  // searched (and its candidates evaluated) with the first op that has it,
  // as in order.
  void map_layers() {
    const size_t n = ops().size();
    std::vector<std::pair<size_t, MappingProblem>> layers;
    for (size_t i = 0; i < n; ++i) layers.emplace_back(i, plan_.ops[i].problem);
    const auto work = first_searched(layers);
    const auto& progress = o_.progress;
    // From the start: the first op alone may take long.
    if (progress) progress(0, static_cast<int>(n));
    on_every_core(
        work.size(), [&](size_t k) { map_op(work[k].first, work[k].second); },
        [&](size_t done) {
          // The last report is the one after all are done, below.
          if (progress && done < work.size())
            progress(static_cast<int>(done * n / work.size()), static_cast<int>(n));
        });
    if (progress && n) progress(static_cast<int>(n), static_cast<int>(n));
    for (size_t i = 0; i < n; ++i) {
      // An op the file keeps on chip is mapped with its pair.
      if (given_[i] && (given_[i]->onchip_input || given_[i]->onchip_output)) continue;
      set(i, plan_.ops[i].problem, map_op(i, plan_.ops[i].problem));
    }
  }

  // The problems of op i and i + 1 with i's output kept on chip, if it fits.
  bool fused_problems(size_t i, MappingProblem& pa, MappingProblem& pb, int64_t& region) const {
    const HwTensor& t = plan_.graph.tensors[static_cast<size_t>(ops()[i].output)];
    region = static_cast<int64_t>(t.size_bits()) / ops()[i].groups;
    if (region >= hw_.ibuf.size_bytes * 8) return false;
    pa = plan_.ops[i].problem;
    pb = plan_.ops[i + 1].problem;
    pa.onchip_output = true;
    pa.ibuf_reserved_bits = region;
    pb.onchip_input = true;
    pb.ibuf_reserved_bits = region;
    return true;
  }

  // The on-chip decision of each pair (i, i + 1) that the file fixes (it
  // gives either op), after checking that its flags agree and can apply.
  std::vector<std::optional<bool>> forced_pairs(const StorageReaders& readers) const {
    const size_t n = ops().size();
    std::vector<std::optional<bool>> forced(n);
    const MappingFile* file = o_.given;
    if (!file) return forced;
    for (size_t i = 0; i < n; ++i) {
      const GivenMapping* g = given_[i];
      if (!g) continue;
      if (g->onchip_input && g->onchip_output)
        file->fail(*g, "onchip", "an operation cannot both read and write the on-chip region");
      // The producer before this op, and this op as a producer.
      const GivenMapping* before = i > 0 ? given_[i - 1] : nullptr;
      const GivenMapping* after = i + 1 < n ? given_[i + 1] : nullptr;
      if (g->onchip_input && (i == 0 || !fusable(plan_.graph, readers, i - 1)))
        file->fail(*g, "onchip.input",
                   "its input is not a tensor palsim can keep on chip "
                   "(see docs/formats.md, Mapping files)");
      if (g->onchip_output && !fusable(plan_.graph, readers, i))
        file->fail(*g, "onchip.output",
                   "its output is not a tensor palsim can keep on chip "
                   "(see docs/formats.md, Mapping files)");
      if (before && before->onchip_output != g->onchip_input)
        file->fail(*g, "onchip.input",
                   fmt::format("must be {}, as '{}' before it gives onchip.output",
                               before->onchip_output, before->op));
      if (g->onchip_output && after && !after->onchip_input)
        file->fail(*after, "onchip.input",
                   fmt::format("must be true, as '{}' before it gives onchip.output", g->op));
      forced[i] = g->onchip_output;
      if (i > 0 && !forced[i - 1]) forced[i - 1] = g->onchip_input;
    }
    for (size_t i = 0; i + 1 < n; ++i) {
      if (forced[i].value_or(false) && forced[i + 1].value_or(false))
        file->fail(given_[i + 2] ? *given_[i + 2] : *given_[i], "onchip",
                   fmt::format("'{}' between two on-chip pairs would both read and write the "
                               "on-chip region",
                               ops()[i + 1].name));
    }
    return forced;
  }

  // Whether the pair (i, i + 1) with i's output on chip (mapped `ma`, `mb`)
  // beats the pair through DRAM: measured with an evaluator, else estimated.
  bool fusion_pays(size_t i, const MappingProblem& pa, const MappingProblem& pb, int64_t region,
                   const Mapped& ma, const Mapped& mb) const {
    if (refine_) {
      // The pair as it would run, with and without the region.
      OpPlan fa = plan_.ops[i], fb = plan_.ops[i + 1];
      fa.problem = pa;
      fa.mapping = ma.mapping;
      fa.onchip_producer = true;
      fa.region_bits = region;
      fb.problem = pb;
      fb.mapping = mb.mapping;
      fb.onchip_consumer = true;
      fb.region_bits = region;
      const int a = static_cast<int>(i), b = static_cast<int>(i + 1);
      const PlanEvaluation fused = o_.evaluate(plan_.graph, {a, b}, {fa, fb});
      const PlanEvaluation split =
          o_.evaluate(plan_.graph, {a, b}, {plan_.ops[i], plan_.ops[i + 1]});
      return choose_candidate({split, fused}, o_.cycle_tolerance) == 1;
    }
    const MappingEstimate& ua = plan_.ops[i].mapping.estimate;
    const MappingEstimate& ub = plan_.ops[i + 1].mapping.estimate;
    const int64_t fused_cycles = ma.mapping.estimate.cycles + mb.mapping.estimate.cycles;
    const int64_t split_cycles = ua.cycles + ub.cycles;
    const double fused_energy = ma.mapping.estimate.energy_pj + mb.mapping.estimate.energy_pj;
    const double split_energy = ua.energy_pj + ub.energy_pj;
    return fused_cycles < split_cycles ||
           (fused_cycles == split_cycles && fused_energy < split_energy);
  }

  void fuse_pairs() {
    const StorageReaders readers(plan_.graph);
    const std::vector<std::optional<bool>> forced = forced_pairs(readers);
    std::vector<std::pair<size_t, MappingProblem>> pairs;
    for (size_t i = 0; i + 1 < ops().size(); ++i) {
      MappingProblem pa, pb;
      int64_t region = 0;
      if (!forced[i].value_or(true) || !fusable(plan_.graph, readers, i) ||
          !fused_problems(i, pa, pb, region))
        continue;
      pairs.emplace_back(i, pa);
      pairs.emplace_back(i + 1, pb);
    }
    const auto work = first_searched(pairs);
    on_every_core(work.size(), [&](size_t k) { map_op(work[k].first, work[k].second); }, {});
    for (size_t i = 0; i + 1 < ops().size(); ++i) {
      if (plan_.ops[i].onchip_consumer || !fusable(plan_.graph, readers, i)) continue;
      ++plan_.fusion_candidates;
      // The file's decision; without one, a pair whose consumer the file
      // makes a producer stays in DRAM.
      if (!forced[i].value_or(!forced[i + 1].value_or(false))) continue;
      MappingProblem pa, pb;
      int64_t region = 0;
      if (!fused_problems(i, pa, pb, region)) {
        if (forced[i]) fail_forced(i, "the tensor does not fit in IBUF");
        continue;
      }
      Mapped ma, mb;
      try {
        ma = map_op(i, pa);
        mb = map_op(i + 1, pb);
      } catch (const FileError&) {
        throw;
      } catch (const ArgumentError&) {
        throw;  // a kernel or ISA precondition, not a tiling that does not fit
      } catch (const InputError& e) {
        if (forced[i]) fail_forced(i, e.what());
        continue;  // no tiling fits beside the region: keep the DRAM round trip
      }
      if (!forced[i] && !fusion_pays(i, pa, pb, region, ma, mb)) continue;
      set(i, pa, ma);
      plan_.ops[i].onchip_producer = true;
      plan_.ops[i].region_bits = region;
      set(i + 1, pb, mb);
      plan_.ops[i + 1].onchip_consumer = true;
      plan_.ops[i + 1].region_bits = region;
      ++plan_.fused_pairs;
    }
  }

  [[noreturn]] void fail_forced(size_t i, const std::string& why) const {
    const GivenMapping* g = given_[i] ? given_[i] : given_[i + 1];
    o_.given->fail(*g, given_[i] ? "onchip.output" : "onchip.input",
                   fmt::format("'{}' cannot keep its output on chip for '{}': {}", ops()[i].name,
                               ops()[i + 1].name, why));
  }

  // Scratch space for spilled partial sums, after everything else.
  void place_psum_scratch() {
    const PsumScratch scratch = frontend::place_psum_scratch(plan_.graph, hw_.accumulator_bits);
    for (size_t i = 0; i < ops().size(); ++i) plan_.ops[i].psum_dram_bit = scratch.bit[i];
    plan_.graph.dram_bits = scratch.end_bit;
  }

  const HwConfig& hw_;
  const PlanOptions& o_;
  const bool refine_;
  Plan plan_;
  std::vector<const GivenMapping*> given_;  // per op: the file's entry naming it
};

}  // namespace

void clear_mapping_cache() {
  mapping_cache().clear();
  refined_cache().clear();
}

Plan plan_network(const HwConfig& hw, const HwGraph& graph, const PlanOptions& options) {
  return NetworkPlanner(hw, graph, options).run();
}

std::vector<GivenMapping> plan_mappings(const Plan& plan) {
  std::vector<GivenMapping> out;
  std::set<std::string> named;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const std::string& name = plan.graph.ops[i].name;
    if (!named.insert(name).second) continue;
    GivenMapping g;
    g.op = name;
    g.mapping = plan.ops[i].mapping;
    g.onchip_input = plan.ops[i].onchip_consumer;
    g.onchip_output = plan.ops[i].onchip_producer;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace palsim::frontend
