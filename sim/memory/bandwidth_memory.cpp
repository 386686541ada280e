#include "sim/memory/bandwidth_memory.h"

#include <fmt/format.h>

#include <algorithm>

namespace palsim::sim {

BandwidthMemory::BandwidthMemory(const frontend::OffchipConfig& config)
    : cost_(config),
      bits_per_cycle_(static_cast<uint64_t>(config.bits_per_cycle)),
      latency_cycles_(static_cast<uint64_t>(config.latency_cycles)) {}

uint64_t BandwidthMemory::serve(uint64_t start_cycle, const DramAccess& access) {
  const uint64_t bits = access.total_bits();
  if (bits == 0) return 0;
  const uint64_t begin = std::max(start_cycle, busy_until_);
  const uint64_t end = begin + cost_.cycles_for_bits(bits);
  busy_until_ = end;
  (access.write ? stats_.write_bits : stats_.read_bits) += bits;
  ++stats_.transfers;
  // Busy time is the channel's own serving time; a wait for the previous
  // transfer was already counted as that transfer's busy time.
  stats_.busy_cycles += end - begin;
  return end - start_cycle;
}

std::string BandwidthMemory::describe() const {
  return fmt::format("bandwidth: {} bits/cycle, {} cycles latency per transfer", bits_per_cycle_,
                     latency_cycles_);
}

}  // namespace palsim::sim
