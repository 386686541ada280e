#include "sim/memory/offchip_memory.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "sim/memory/bandwidth_memory.h"
#include "sim/memory/ddr4_memory.h"

namespace palsim::sim {

uint64_t SerialChannel::serve(uint64_t start_cycle, uint64_t cycles, const DramAccess& access) {
  const uint64_t begin = std::max(start_cycle, busy_until_);
  const uint64_t end = begin + cycles;
  busy_until_ = end;
  (access.write ? stats_.write_bits : stats_.read_bits) += access.total_bits();
  ++stats_.transfers;
  stats_.busy_cycles += end - begin;
  return end - start_cycle;
}

std::unique_ptr<OffchipMemory> make_offchip_memory(const frontend::OffchipConfig& config,
                                                   double clock_mhz) {
  switch (config.model) {
    case frontend::OffchipModel::kBandwidth:
      return std::make_unique<BandwidthMemory>(config);
    case frontend::OffchipModel::kDdr4:
      return std::make_unique<Ddr4Memory>(config.ddr4, clock_mhz);
  }
  throw InternalError("an off-chip model without a memory");
}

}  // namespace palsim::sim
