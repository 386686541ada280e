#include "sim/core/fast_engine.h"

#include <algorithm>
#include <limits>

namespace palsim::sim {

void job_duration(const frontend::HwConfig& hw, const Job& job, uint64_t& occupancy,
                  uint64_t& latency) {
  occupancy = latency = 0;
  if (job.engine == Engine::kArray) {
    const frontend::ComputeCost c = frontend::compute_tile_cost(hw, job.mode, job.tile);
    occupancy = static_cast<uint64_t>(std::max<int64_t>(1, c.cycles));
    latency = static_cast<uint64_t>(c.latency);
  } else if (job.engine == Engine::kPpu) {
    occupancy =
        static_cast<uint64_t>(std::max<int64_t>(1, frontend::post_tile_cost(hw, job.post).cycles));
  }
}

namespace {
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
}  // namespace

uint64_t run_fast(const frontend::HwConfig& hw, JobList& list, OffchipMemory& memory) {
  std::vector<Job>& jobs = list.jobs;
  std::vector<bool> finished(jobs.size(), false);
  size_t head[kEngines] = {0, 0, 0, 0};
  uint64_t free_at[kEngines] = {0, 0, 0,
                                0};  // the DMA queues share free_at of the channel (index kLoad)
  uint64_t total = 0;

  // Earliest start of a job whose dependencies are all finished; kNever otherwise.
  auto ready_time = [&](const Job& j) {
    uint64_t t = 0;
    for (uint32_t d : j.deps) {
      if (!finished[d]) return kNever;
      t = std::max(t, jobs[d].done + kCompletionHopCycles);
    }
    return t;
  };

  size_t remaining = jobs.size();
  while (remaining > 0) {
    // Find, over the engines, the job that can start earliest.
    uint64_t best_t = kNever;
    int best_e = -1;
    for (int e = 0; e < kEngines; ++e) {
      const auto& q = list.queue[e];
      if (head[e] >= q.size()) continue;
      const Job& j = jobs[q[head[e]]];
      const uint64_t r = ready_time(j);
      if (r == kNever) continue;
      const uint64_t engine_free =
          (e == static_cast<int>(Engine::kLoad) || e == static_cast<int>(Engine::kStore))
              ? free_at[static_cast<int>(Engine::kLoad)]
              : free_at[e];
      const uint64_t t = std::max(r, engine_free);
      // Ties: the store queue before the load queue; engines otherwise in index order.
      const bool prefer = t < best_t || (t == best_t && e == static_cast<int>(Engine::kStore) &&
                                         best_e == static_cast<int>(Engine::kLoad));
      if (prefer) {
        best_t = t;
        best_e = e;
      }
    }
    if (best_e < 0) {
      // Cannot happen for programs from the controller (dependencies point
      // backwards), but guard against a cycle rather than spin.
      throw std::logic_error("fast engine: no job can start (dependency cycle)");
    }
    const uint32_t id = list.queue[best_e][head[best_e]++];
    Job& j = jobs[id];
    j.start = best_t;
    if (j.engine == Engine::kLoad || j.engine == Engine::kStore) {
      uint64_t dur = 0;
      for (const DramAccess& a : j.accesses) dur += memory.serve(j.start + dur, a);
      j.end = j.start + std::max<uint64_t>(1, dur);
      j.done = j.end;
      free_at[static_cast<int>(Engine::kLoad)] = j.end;
    } else {
      uint64_t occupancy = 0, latency = 0;
      job_duration(hw, j, occupancy, latency);
      j.end = j.start + occupancy;
      j.done = j.end + latency;
      free_at[best_e] = j.end;
    }
    finished[id] = true;
    total = std::max(total, j.done);
    --remaining;
  }
  return total;
}

}  // namespace palsim::sim
