#include "sim/detailed/engines.h"

#include <algorithm>

#include "frontend/arch/access_cost.h"

namespace palsim::sim {

void DmaCore::finish() {
  Job& j = jobs_.jobs[current_];
  if (j.engine == Engine::kLoad) {
    state_.load(j);
  } else {
    state_.store(j);
  }
  JobRecord& r = records_[current_];
  r.start = start_;
  r.end = end_;
  r.done = end_;
  // The bits this transfer moved, on both sides.
  Counts& c = r.counts;
  c.engine_busy[static_cast<size_t>(j.engine)] = end_ - start_;
  c.dram_transfers = j.accesses.size();
  for (const DramAccess& a : j.accesses)
    c.dram_moved_bits += frontend::transfer_moved_bits(offchip_, a);
  if (j.engine == Engine::kLoad) {
    c.dram_read_bits = j.bits;
    if (j.buffer == Buffer::kIbuf) c.ibuf_write_bits = j.bits;
    if (j.buffer == Buffer::kWbuf) c.wbuf_write_bits = j.bits;
    if (j.buffer == Buffer::kObuf) c.obuf_write_bits = j.bits;
  } else {
    c.dram_write_bits = j.bits;
    c.obuf_read_bits = j.bits;
  }
  sb_.complete(current_, end_);
  busy_ = false;
}

void PpuCore::tick(uint64_t cycle) {
  if (busy_ && cycle >= end_) {
    JobRecord& r = records_[current_];
    r.start = start_;
    r.end = end_;
    r.done = end_;
    r.counts.engine_busy[static_cast<size_t>(Engine::kPpu)] = end_ - start_;
    sb_.complete(current_, end_);
    busy_ = false;
  }
  if (busy_) return;
  const auto& q = jobs_.queue[static_cast<int>(Engine::kPpu)];
  if (head_ >= q.size()) return;
  const uint32_t id = q[head_];
  const Job& j = jobs_.jobs[id];
  if (!sb_.ready(j, cycle)) return;
  ++head_;
  state_.post_process(j);
  // `lanes` window reads per cycle; accesses counted per element.
  const frontend::PostTile& t = j.post;
  const int64_t reads = t.elements * t.window;
  Counts& c = records_[id].counts;
  c.ppu_elements = static_cast<uint64_t>(t.elements);
  if (t.from_obuf) {
    c.obuf_read_bits =
        static_cast<uint64_t>(reads * t.in_bits + t.activation_sums * hw_.accumulator_bits);
  } else {
    c.ibuf_read_bits = static_cast<uint64_t>(reads * t.in_bits);
  }
  c.ibuf_read_bits += static_cast<uint64_t>(t.elements * t.residual_bits);
  if (j.post_to_region) {
    c.ibuf_write_bits = static_cast<uint64_t>(t.elements * t.out_bits);
  } else {
    c.obuf_write_bits = static_cast<uint64_t>(t.elements * t.out_bits);
  }
  busy_ = true;
  current_ = id;
  start_ = cycle;
  end_ = cycle +
         static_cast<uint64_t>(std::max<int64_t>(1, (reads + hw_.ppu.lanes - 1) / hw_.ppu.lanes));
}

}  // namespace palsim::sim
