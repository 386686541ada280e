#pragma once
// The first-step off-chip model (docs/hardware.md §4): a channel with a
// fixed latency and a fixed width. It is what Bit Fusion's public simulator
// charges (bits / if_width cycles), plus an optional per-transfer latency, and
// it is the free baseline against which the DDR4 model shows what banks, rows
// and refresh cost.
#include <cstdint>
#include <string>

#include "frontend/arch/access_cost.h"
#include "frontend/arch/hw_config.h"
#include "sim/memory/offchip_memory.h"

namespace palsim::sim {

class BandwidthMemory final : public OffchipMemory {
 public:
  // Uses bits_per_cycle and latency_cycles; throws InputError if either is out of range.
  explicit BandwidthMemory(const frontend::OffchipConfig& config);

  // A transfer of n bits that finds the channel free at cycle t is complete at
  // t + latency_cycles + ceil(n / bits_per_cycle). One transfer at a time: a
  // transfer that arrives while the channel is still busy starts when it frees,
  // and the wait is part of the returned duration. An empty access takes 0
  // cycles and is not counted.
  uint64_t serve(uint64_t start_cycle, const DramAccess& access) override;
  const DramStats& stats() const override { return channel_.stats(); }
  std::string describe() const override;

 private:
  frontend::BandwidthCost cost_;  // the formula (and the range checks) live there
  uint64_t bits_per_cycle_;
  uint64_t latency_cycles_;
  SerialChannel channel_;
};

}  // namespace palsim::sim
