#include "sim/core/dram_bank_activity.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace palsim::sim {

BankActivity replay_bank_activity(const frontend::HwConfig& hw, const JobList& list) {
  Ddr4Memory memory(hw.offchip.ddr4, hw.clock_mhz);
  memory.record_commands(true);
  // The two DMA queues share the channel: their jobs never overlap, so start
  // order is the order the run served them in.
  std::vector<uint32_t> dma;
  for (int e : {static_cast<int>(Engine::kLoad), static_cast<int>(Engine::kStore)})
    dma.insert(dma.end(), list.queue[e].begin(), list.queue[e].end());
  std::sort(dma.begin(), dma.end(),
            [&](uint32_t a, uint32_t b) { return list.jobs[a].start < list.jobs[b].start; });
  for (uint32_t id : dma) {
    const Job& j = list.jobs[id];
    uint64_t dur = 0;
    for (const DramAccess& a : j.accesses) dur += memory.serve(j.start + dur, a);
    if (j.start + std::max<uint64_t>(1, dur) != j.end) {
      throw InternalError(fmt::format(
          "timeline: DMA job {} took {} cycles in the run but {} when its transfers are served "
          "again through the DDR4 model",
          id, j.end - j.start, std::max<uint64_t>(1, dur)));
    }
  }
  memory.drain();
  BankActivity b;
  b.commands = memory.placed_commands();
  std::stable_sort(b.commands.begin(), b.commands.end(),
                   [](const auto& x, const auto& y) { return x.cycle < y.cycle; });
  b.dram_period_ps = memory.dram_period_ps();
  b.timing = memory.timing();
  return b;
}

}  // namespace palsim::sim
