#include "sim/memory/priced_memory.h"

#include <algorithm>
#include <cmath>

namespace palsim::sim {

PricedMemory::PricedMemory(std::unique_ptr<frontend::AccessCost> cost) : cost_(std::move(cost)) {}

uint64_t PricedMemory::serve(uint64_t start_cycle, const DramAccess& access) {
  const uint64_t bits = access.total_bits();
  if (bits == 0) return 0;
  const frontend::TransferPrice p = cost_->price(access);
  // A transfer requested while the channel is still busy (or the moment it
  // frees) was queued behind it: its row opening and CAS latency overlap
  // the earlier data, as the DDR4 controller's queue overlaps them.
  const bool queued = busy_until_ > 0 && start_cycle <= busy_until_;
  const double cycles = queued ? std::max(1.0, p.cycles - cost_->latency_cycles()) : p.cycles;
  const uint64_t begin = std::max(start_cycle, busy_until_);
  const uint64_t end = begin + std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(cycles)));
  busy_until_ = end;
  (access.write ? stats_.write_bits : stats_.read_bits) += bits;
  ++stats_.transfers;
  stats_.busy_cycles += end - begin;
  return end - start_cycle;
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
