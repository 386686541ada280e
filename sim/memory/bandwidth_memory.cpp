#include "sim/memory/bandwidth_memory.h"

#include <fmt/format.h>

#include <algorithm>

#include "frontend/util/error.h"

namespace palsim::sim {

BandwidthMemory::BandwidthMemory(const frontend::OffchipConfig& config)
    : bits_per_cycle_(0), latency_cycles_(0) {
  // The YAML reader checks these ranges too; a config built in code must not
  // reach a division by zero or a negative latency either.
  if (config.bits_per_cycle < 1) {
    throw InputError(
        fmt::format("offchip.bits_per_cycle: must be at least 1, got {}", config.bits_per_cycle));
  }
  if (config.latency_cycles < 0) {
    throw InputError(
        fmt::format("offchip.latency_cycles: must not be negative, got {}", config.latency_cycles));
  }
  bits_per_cycle_ = static_cast<uint64_t>(config.bits_per_cycle);
  latency_cycles_ = static_cast<uint64_t>(config.latency_cycles);
}

uint64_t BandwidthMemory::serve(uint64_t start_cycle, const DramAccess& access) {
  const uint64_t bits = access.total_bits();
  if (bits == 0) return 0;
  const uint64_t begin = std::max(start_cycle, busy_until_);
  const uint64_t end = begin + latency_cycles_ + (bits + bits_per_cycle_ - 1) / bits_per_cycle_;
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
