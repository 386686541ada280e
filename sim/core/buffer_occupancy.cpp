#include "sim/core/buffer_occupancy.h"

#include <algorithm>
#include <map>

namespace palsim::sim {

namespace {

void resident(OccupancySteps& steps, uint64_t from, uint64_t until, int64_t bits) {
  if (bits <= 0) return;
  steps.emplace_back(from, bits);
  steps.emplace_back(std::max(from, until), -bits);
}

bool is_store(const Job& j) {
  return j.engine == Engine::kStore;
}

}  // namespace

std::array<OccupancySteps, 3> buffer_occupancy(const frontend::HwConfig& hw, const JobList& list) {
  const std::vector<Job>& jobs = list.jobs;
  std::array<OccupancySteps, 3> out;
  auto& ibuf = out[static_cast<size_t>(Buffer::kIbuf)];
  auto& wbuf = out[static_cast<size_t>(Buffer::kWbuf)];
  auto& obuf = out[static_cast<size_t>(Buffer::kObuf)];

  // The last completion among the jobs that depend on each job, and among
  // the computes that read each on-chip region.
  std::vector<uint64_t> last_user(jobs.size(), 0);
  std::map<int64_t, uint64_t> region_last_read;
  for (const Job& j : jobs) {
    for (uint32_t d : j.deps) last_user[d] = std::max(last_user[d], j.done);
    if (j.engine == Engine::kArray && j.region >= 0)
      region_last_read[j.region] = std::max(region_last_read[j.region], j.done);
  }
  for (size_t k = 0; k < jobs.size(); ++k) {
    const Job& j = jobs[k];
    if (j.engine != Engine::kLoad || j.transfer == Transfer::kPsumLoad) continue;
    resident(j.buffer == Buffer::kWbuf ? wbuf : ibuf, j.start, std::max(j.done, last_user[k]),
             static_cast<int64_t>(j.bits));
  }
  for (const Job& j : jobs) {
    if (j.engine != Engine::kPpu || !j.post_to_region || !j.final_output) continue;
    const auto it = region_last_read.find(j.region);
    resident(ibuf, j.start, it == region_last_read.end() ? j.done : std::max(j.done, it->second),
             j.post.elements * j.post.out_bits);
  }

  // Output tiles: in program order, each tile's jobs come together — an
  // optional partial-sum reload, its computes (or pool jobs), then the store
  // (or the post-processing job into the region) that closes it.
  bool open = false;
  uint64_t start = 0;
  int64_t elements = 0, positions = 0, bits_per_element = 0;
  bool activation_sums = false;
  for (const Job& j : jobs) {
    const bool psum_load = j.engine == Engine::kLoad && j.transfer == Transfer::kPsumLoad;
    if (!psum_load && j.engine == Engine::kLoad) continue;
    if (!open) {
      open = true;
      start = j.start;
      elements = positions = 0;
      activation_sums = false;
    }
    start = std::min(start, j.start);
    if (j.engine == Engine::kArray) {
      elements = j.acc_box.elements();
      positions = static_cast<int64_t>(j.acc_box.n) * j.acc_box.h * j.acc_box.w;
      bits_per_element = hw.accumulator_bits;
      activation_sums = activation_sums || j.tile.activation_sum;
    } else if (j.engine == Engine::kPpu && !j.post.from_obuf) {
      elements = j.acc_box.elements();  // a pool's outputs
      positions = 0;
      bits_per_element = j.post.out_bits;
    }
    const bool closes = is_store(j) || (j.engine == Engine::kPpu && j.post_to_region);
    if (!closes) continue;
    const int64_t bits =
        (elements + (activation_sums ? positions : 0)) * static_cast<int64_t>(bits_per_element);
    resident(obuf, start, j.done, bits);
    open = false;
  }
  return out;
}

}  // namespace palsim::sim
