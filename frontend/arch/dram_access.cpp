#include "frontend/arch/dram_access.h"

namespace palsim::frontend {

DramAccess fold_contiguous_runs(const DramAccess& access) {
  DramAccess a = access;
  if (a.inner_count > 1 && a.inner_stride_bits == a.run_bits) {
    a.run_bits *= a.inner_count;
    a.inner_count = 1;
  }
  if (a.inner_count == 1 && a.outer_count > 1 && a.outer_stride_bits == a.run_bits) {
    a.run_bits *= a.outer_count;
    a.outer_count = 1;
  }
  return a;
}

uint64_t bursts_moved(const DramAccess& access, uint64_t burst_bits) {
  uint64_t n = 0;
  for_each_burst_range(access, burst_bits,
                       [&](uint64_t first, uint64_t last) { n += last - first + 1; });
  return n;
}

}  // namespace palsim::frontend
