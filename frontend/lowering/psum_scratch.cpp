#include "frontend/lowering/psum_scratch.h"

namespace palsim::frontend {

PsumScratch place_psum_scratch(const HwGraph& graph, int accumulator_bits) {
  constexpr uint64_t kUnitBits = 512;
  PsumScratch s;
  uint64_t addr = graph.dram_bits;
  s.bit.reserve(graph.ops.size());
  for (const HwOp& op : graph.ops) {
    const auto outputs = static_cast<uint64_t>(op.out.elements() * graph.options.batch);
    s.bit.push_back(addr);
    addr += outputs * static_cast<uint64_t>(accumulator_bits) * (op.uniform_quantizer ? 2 : 1);
    addr = (addr + kUnitBits - 1) / kUnitBits * kUnitBits;
  }
  s.end_bit = addr;
  return s;
}

}  // namespace palsim::frontend
