#include "sim/memory/priced_memory.h"

#include <algorithm>
#include <cmath>

namespace palsim::sim {

PricedMemory::PricedMemory(std::unique_ptr<frontend::AccessCost> cost) : cost_(std::move(cost)) {}

uint64_t PricedMemory::serve(uint64_t start_cycle, const DramAccess& access) {
  if (access.total_bits() == 0) return 0;
  const frontend::TransferPrice p = cost_->price(access);
  // A transfer requested while the channel is still busy (or the moment it
  // frees) was queued behind it: its row opening and CAS latency overlap
  // the earlier data, as the DDR4 controller's queue overlaps them.
  const uint64_t busy_until = channel_.busy_until();
  const bool queued = busy_until > 0 && start_cycle <= busy_until;
  const double cycles = queued ? std::max(1.0, p.cycles - cost_->latency_cycles()) : p.cycles;
  return channel_.serve(start_cycle,
                        std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(cycles))), access);
}

std::string PricedMemory::describe() const {
  return "priced: each transfer at the access-cost price of the configured memory";
}

std::unique_ptr<OffchipMemory> make_evaluation_memory(const frontend::OffchipConfig& config,
                                                      double clock_mhz) {
  auto cost = frontend::make_access_cost(config, clock_mhz);
  // A memory priced by bits alone is cheap to run as it is.
  if (!cost->prices_by_shape()) return make_offchip_memory(config, clock_mhz);
  return std::make_unique<PricedMemory>(std::move(cost));
}

}  // namespace palsim::sim
