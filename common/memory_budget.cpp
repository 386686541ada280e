#include "common/memory_budget.h"

#include <fmt/format.h>
#include <unistd.h>

#include "common/error.h"

namespace palsim {

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return UINT64_MAX;  // unknown: do not refuse
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

void check_memory_budget(uint64_t needed_bytes, const std::string& what) {
  const uint64_t have = physical_memory_bytes();
  if (needed_bytes <= have) return;
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  throw InputError(
      fmt::format("{}: needs at least {:.1f} GiB of memory, this machine has {:.1f} GiB", what,
                  static_cast<double>(needed_bytes) / kGiB, static_cast<double>(have) / kGiB));
}

}  // namespace palsim
