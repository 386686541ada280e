#pragma once
// The cycle-level behaviour of the engines other than the array, as plain
// classes the SystemC modules wrap: the scoreboard of completed jobs, the DMA
// engine (two queues, one off-chip channel) and the post-processing unit.
// Their rules are the fast engine's (sim/core/fast_engine.h), applied cycle
// by cycle.
#include <cstdint>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "sim/core/stats.h"
#include "sim/functional/functional_state.h"

namespace palsim::sim {

class Scoreboard {
 public:
  explicit Scoreboard(size_t jobs) : done_(jobs, 0), complete_(jobs, false) {}
  void complete(uint32_t id, uint64_t done) {
    done_[id] = done;
    complete_[id] = true;
    ++completed_;
  }
  bool ready(const Job& j, uint64_t cycle) const {
    for (uint32_t d : j.deps) {
      if (!complete_[d] || done_[d] + kCompletionHopCycles > cycle) return false;
    }
    return true;
  }
  size_t completed() const { return completed_; }

 private:
  std::vector<uint64_t> done_;
  std::vector<bool> complete_;
  size_t completed_ = 0;
};

// Per-job results of a detailed run.
struct JobRecord {
  uint64_t start = 0, end = 0, done = 0;
  Counts counts;
};

class DmaCore {
 public:
  DmaCore(const frontend::OffchipConfig& offchip, JobList& jobs, Scoreboard& sb,
          FunctionalState& state, std::vector<JobRecord>& records)
      : offchip_(offchip), jobs_(jobs), sb_(sb), state_(state), records_(records) {}
  // One cycle: finish the transfer ending now; start the next ready one
  // (store queue first). `serve` returns the transfer's duration.
  template <typename Serve>
  void tick(uint64_t cycle, Serve&& serve) {
    if (busy_ && cycle >= end_) finish();
    if (busy_) return;
    for (Engine e : {Engine::kStore, Engine::kLoad}) {
      auto& q = jobs_.queue[static_cast<int>(e)];
      size_t& h = head_[e == Engine::kStore ? 1 : 0];
      if (h >= q.size()) continue;
      const uint32_t id = q[h];
      Job& j = jobs_.jobs[id];
      if (!sb_.ready(j, cycle)) continue;
      ++h;
      uint64_t dur = 0;
      for (const DramAccess& a : j.accesses) dur += serve(cycle + dur, a);
      busy_ = true;
      current_ = id;
      start_ = cycle;
      end_ = cycle + std::max<uint64_t>(1, dur);
      return;
    }
  }
  bool busy() const { return busy_; }
  uint32_t current() const { return current_; }

 private:
  void finish();
  const frontend::OffchipConfig& offchip_;
  JobList& jobs_;
  Scoreboard& sb_;
  FunctionalState& state_;
  std::vector<JobRecord>& records_;
  size_t head_[2] = {0, 0};  // load, store
  bool busy_ = false;
  uint32_t current_ = 0;
  uint64_t start_ = 0, end_ = 0;
};

class PpuCore {
 public:
  PpuCore(const frontend::HwConfig& hw, JobList& jobs, Scoreboard& sb, FunctionalState& state,
          std::vector<JobRecord>& records)
      : hw_(hw), jobs_(jobs), sb_(sb), state_(state), records_(records) {}
  void tick(uint64_t cycle);
  bool busy() const { return busy_; }
  uint32_t current() const { return current_; }

 private:
  const frontend::HwConfig& hw_;
  JobList& jobs_;
  Scoreboard& sb_;
  FunctionalState& state_;
  std::vector<JobRecord>& records_;
  size_t head_ = 0;
  bool busy_ = false;
  uint32_t current_ = 0;
  uint64_t start_ = 0, end_ = 0;
};

}  // namespace palsim::sim
