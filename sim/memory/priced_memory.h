#pragma once
// An off-chip memory that serves each transfer at its AccessCost price
// (frontend/arch/access_cost.h), one transfer at a time, the latency of a
// transfer queued behind another hidden under its data: the mapping
// refinement's stand-in for a timing model too slow to run for every
// candidate of every layer (the DDR4 model). The final simulation always
// runs the configured model.
#include <memory>
#include <string>

#include "frontend/arch/access_cost.h"
#include "sim/memory/offchip_memory.h"

namespace palsim::sim {

class PricedMemory final : public OffchipMemory {
 public:
  explicit PricedMemory(std::unique_ptr<frontend::AccessCost> cost);
  uint64_t serve(uint64_t start_cycle, const DramAccess& access) override;
  const DramStats& stats() const override { return channel_.stats(); }
  std::string describe() const override;

 private:
  std::unique_ptr<frontend::AccessCost> cost_;
  SerialChannel channel_;
};

// The memory a candidate mapping is evaluated on: the configured model when
// its price does not depend on a transfer's shape (bandwidth), else
// PricedMemory of its cost.
std::unique_ptr<OffchipMemory> make_evaluation_memory(const frontend::OffchipConfig& config,
                                                      double clock_mhz);

}  // namespace palsim::sim
