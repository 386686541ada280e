#pragma once
// The compiled plan of a network for one accelerator: every hardware
// operation with its mapping, and the pairs of operations whose intermediate
// tensor stays on chip. The code generator turns a plan into instructions.
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/mapping/mapping.h"

namespace palsim::frontend {

struct OpPlan {
  MappingProblem problem;
  Mapping mapping;
  // On-chip intermediate: this op writes its output into an IBUF region that
  // the next op (onchip_consumer) reads group by group.
  bool onchip_producer = false;
  bool onchip_consumer = false;
  int64_t region_bits = 0;      // bits of the region (one group's tensor)
  uint64_t psum_dram_bit = 0;   // scratch for spilled partial sums (if any)
};

struct Plan {
  HwGraph graph;
  std::vector<OpPlan> ops;  // parallel to graph.ops
  int64_t fused_pairs = 0;
  int64_t fusion_candidates = 0;
  std::string hw_fingerprint;
};

MappingProblem make_problem(const HwGraph& g, const HwOp& op);

// Chooses a mapping for every op and, where options allow and the estimate
// improves, keeps block intermediates on chip. Mappings are cached per
// problem (identical layers are mapped once).
Plan plan_network(const HwConfig& hw, const HwGraph& graph);

// Forgets every cached mapping (benchmarks measure the search itself).
void clear_mapping_cache();

}  // namespace palsim::frontend
