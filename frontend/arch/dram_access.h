#pragma once
// A DMA transfer as the off-chip memory sees it, and the burst rule that says
// what it really moves. Both live here, beside the hardware configuration, so
// that the mapper (which prices tiles before any program exists) and the
// memory models in sim (which serve the program's transfers) count bursts by
// one definition.
#include <cstdint>

namespace palsim::frontend {

// `outer_count` x `inner_count` contiguous runs of `run_bits`, run (o, i)
// starting at base_bit + o * outer_stride_bits + i * inner_stride_bits.
// Addresses are in bits of the off-chip address space (tensors of 2-bit
// elements are packed).
struct DramAccess {
  bool write = false;
  uint64_t base_bit = 0;
  uint64_t run_bits = 0;
  uint32_t inner_count = 1;
  uint64_t inner_stride_bits = 0;
  uint32_t outer_count = 1;
  uint64_t outer_stride_bits = 0;
  uint64_t total_bits() const { return run_bits * inner_count * outer_count; }
};

// The access with loops whose runs touch end to end folded into longer runs:
// a contiguous tensor is one run however the access was written.
DramAccess fold_contiguous_runs(const DramAccess& access);

// Calls visit(first_burst, last_burst) for each run of `access` (folded) in
// order, with the bursts of `burst_bits` it moves that an earlier run of the
// same access has not: a run that begins in the burst the previous run ended
// in does not move that burst again (a read has its data in the DMA engine, a
// write merges the two under the data mask). Runs wholly inside such a burst
// are skipped. A partial burst moves a whole burst (over-fetch).
template <typename Visit>
void for_each_burst_range(const DramAccess& access, uint64_t burst_bits, Visit&& visit) {
  const DramAccess a = fold_contiguous_runs(access);
  if (a.total_bits() == 0) return;
  bool have_last = false;
  uint64_t last_burst = 0;
  for (uint64_t o = 0; o < a.outer_count; ++o) {
    const uint64_t outer_base = a.base_bit + o * a.outer_stride_bits;
    for (uint64_t i = 0; i < a.inner_count; ++i) {
      const uint64_t first_bit = outer_base + i * a.inner_stride_bits;
      uint64_t first = first_bit / burst_bits;
      const uint64_t last = (first_bit + a.run_bits - 1) / burst_bits;
      if (have_last && first == last_burst) {
        if (first == last) continue;
        ++first;
      }
      visit(first, last);
      last_burst = last;
      have_last = true;
    }
  }
}

// Bursts of `burst_bits` the access moves (for_each_burst_range's count).
uint64_t bursts_moved(const DramAccess& access, uint64_t burst_bits);

}  // namespace palsim::frontend
