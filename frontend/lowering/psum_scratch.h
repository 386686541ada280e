#pragma once
// Where each op's spilled partial sums live in DRAM: one formula for the
// plan (the program's addresses) and for the fast evaluator that measures
// candidate mappings (which must see the same addresses, since under a DDR4
// memory a transfer's price depends on its alignment in a burst).
#include <cstdint>
#include <vector>

#include "frontend/lowering/hw_graph.h"

namespace palsim::frontend {

struct PsumScratch {
  std::vector<uint64_t> bit;  // by op of the graph: the first bit of its scratch
  uint64_t end_bit = 0;       // the first bit after all of them
};

// Scratch after everything the graph places (graph.dram_bits), op by op: an
// op's outputs at accumulator precision, twice for an op whose uniform
// quantizer keeps the activation sums beside them, each rounded up to whole
// 512-bit units so that every op's scratch starts at a DDR4 burst.
PsumScratch place_psum_scratch(const HwGraph& graph, int accumulator_bits);

}  // namespace palsim::frontend
