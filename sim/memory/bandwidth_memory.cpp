#include "sim/memory/bandwidth_memory.h"

#include <fmt/format.h>

namespace palsim::sim {

BandwidthMemory::BandwidthMemory(const frontend::OffchipConfig& config)
    : cost_(config),
      bits_per_cycle_(static_cast<uint64_t>(config.bits_per_cycle)),
      latency_cycles_(static_cast<uint64_t>(config.latency_cycles)) {}

uint64_t BandwidthMemory::serve(uint64_t start_cycle, const DramAccess& access) {
  const uint64_t bits = access.total_bits();
  if (bits == 0) return 0;
  return channel_.serve(start_cycle, cost_.cycles_for_bits(bits), access);
}

std::string BandwidthMemory::describe() const {
  return fmt::format("bandwidth: {} bits/cycle, {} cycles latency per transfer", bits_per_cycle_,
                     latency_cycles_);
}

}  // namespace palsim::sim
