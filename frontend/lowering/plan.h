#pragma once
// The compiled plan of a network for one accelerator: every hardware
// operation with its mapping, and the pairs of operations whose intermediate
// tensor stays on chip. The code generator turns a plan into instructions.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/mapping/map_space.h"
#include "frontend/mapping/mapping.h"
#include "frontend/mapping/mapping_file.h"
#include "frontend/mapping/tensor_layout.h"

namespace palsim::frontend {

struct OpPlan {
  MappingProblem problem;
  Mapping mapping;
  // On-chip intermediate: this op writes its output into an IBUF region that
  // the next op (onchip_consumer) reads group by group.
  bool onchip_producer = false;
  bool onchip_consumer = false;
  int64_t region_bits = 0;     // bits of the region (one group's tensor)
  uint64_t psum_dram_bit = 0;  // scratch for spilled partial sums (if any)
  int psum_block = 0;          // layout of that scratch (tensor_layout.h; private to the op)
  // What the search for this op's problem visited (nothing for a given mapping).
  MapSearchStats search;
  bool given = false;  // the mapping came from a mapping file, evaluated without search
};

struct Plan {
  HwGraph graph;
  std::vector<OpPlan> ops;  // parallel to graph.ops
  // DRAM layout of every tensor, parallel to graph.tensors
  // (frontend/mapping/tensor_layout.h; empty: all NCHW). A view is stored in
  // its owner's layout.
  std::vector<LayoutChoice> tensor_layout;
  LayoutChoice layout_of(int tensor) const;
  int64_t fused_pairs = 0;
  int64_t fusion_candidates = 0;
  std::string hw_fingerprint;
};

MappingProblem make_problem(const HwGraph& g, const HwOp& op);

// Cycles and energy of running some ops alone, measured by something more
// precise than the mapper's estimate (the simulator provides it).
struct PlanEvaluation {
  int64_t cycles = 0;
  double energy_pj = 0;
};
using PlanEvaluator = std::function<PlanEvaluation(
    const HwGraph& graph, const std::vector<int>& ops, const std::vector<OpPlan>& plans)>;

// The objective's default tolerance (PlanOptions::cycle_tolerance).
constexpr double kDefaultCycleTolerance = 0.01;

struct PlanOptions {
  // With an evaluator: the mapper's `candidates` best mappings of each op are
  // evaluated and the best by (cycles, energy) is kept; the on-chip decision
  // for a pair of ops compares the evaluated pair with and without it.
  // Without: the mapper's estimate decides.
  size_t candidates = 1;
  PlanEvaluator evaluate;
  // The objective, cycles then energy, with a tolerance: among the candidates
  // whose cycles are within this fraction of the fewest, the least energy
  // wins (0: strictly cycles, then energy). A strict order lets a mapping
  // that is 0.01% faster win however much more DRAM traffic it moves.
  double cycle_tolerance = kDefaultCycleTolerance;
  // Called after each op is mapped (ops done, total).
  std::function<void(int, int)> progress;
  // Mappings given by a file: the ops it names take them (and its on-chip
  // flags decide their pairs) without search; illegal ones are FileErrors at
  // the file's key. The rest are searched as usual.
  const MappingFile* given = nullptr;
};

// The chosen index of candidates evaluated as (cycles, energy) under `tolerance`.
size_t choose_candidate(const std::vector<PlanEvaluation>& evaluations, double tolerance);

// Chooses a mapping for every op and, where options allow and it pays,
// keeps block intermediates on chip. Mappings are cached per problem
// (identical layers are mapped once).
Plan plan_network(const HwConfig& hw, const HwGraph& graph, const PlanOptions& options = {});

// Every op's mapping and on-chip flags, in order, as a mapping file holds
// them (an op name once: the first op of that name).
std::vector<GivenMapping> plan_mappings(const Plan& plan);

// Forgets every cached mapping (benchmarks measure the search itself).
void clear_mapping_cache();

}  // namespace palsim::frontend
