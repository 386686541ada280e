#include "sim/memory/offchip_memory.h"

#include <fmt/format.h>

#include "frontend/util/error.h"
#include "sim/memory/bandwidth_memory.h"
#include "sim/memory/ddr4_memory.h"

namespace palsim::sim {

std::unique_ptr<OffchipMemory> make_offchip_memory(const frontend::OffchipConfig& config,
                                                   double clock_mhz) {
  if (config.model == "bandwidth") return std::make_unique<BandwidthMemory>(config);
  if (config.model == "ddr4") return std::make_unique<Ddr4Memory>(config.ddr4, clock_mhz);
  throw InputError(fmt::format("offchip.model: must be bandwidth or ddr4, got '{}'", config.model));
}

}  // namespace palsim::sim
