#pragma once
// What each DDR4 bank did during a run: the commands the DDR4 model placed
// (sim/memory/ddr4_memory.h), recovered by serving the run's DMA transfers
// again, in the order and at the cycles the run served them, through a fresh
// model that records its commands. The model is deterministic, so the replay
// places the same commands as the run did, in either simulation mode; every
// replayed transfer must take the cycles it took in the run (checked), so a
// divergence is an error rather than a wrong picture. The write buffer is
// drained at the end: posted writes still buffered when the last job
// completed are placed after it.
#include <vector>

#include "frontend/arch/hw_config.h"
#include "sim/core/job.h"
#include "sim/memory/ddr4_memory.h"

namespace palsim::sim {

struct BankActivity {
  std::vector<Ddr4Memory::PlacedCommand> commands;  // in cycle order
  int64_t dram_period_ps = 0;
  Ddr4Timing timing;
};

// Requires hw.offchip.model == OffchipModel::kDdr4 and a timed job list. Throws
// InternalError when a replayed transfer's duration differs from the run's.
BankActivity replay_bank_activity(const frontend::HwConfig& hw, const JobList& jobs);

}  // namespace palsim::sim
