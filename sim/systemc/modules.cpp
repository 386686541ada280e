#include "sim/systemc/modules.h"

#include <fmt/format.h>

namespace palsim::sim {

void BufferPorts::account(const Counts& c) const {
  if (c.ibuf_read_bits) (*ibuf)->read_bits(c.ibuf_read_bits);
  if (c.ibuf_write_bits) (*ibuf)->write_bits(c.ibuf_write_bits);
  if (c.wbuf_read_bits && wbuf) (*wbuf)->read_bits(c.wbuf_read_bits);
  if (c.wbuf_write_bits && wbuf) (*wbuf)->write_bits(c.wbuf_write_bits);
  if (c.obuf_read_bits) (*obuf)->read_bits(c.obuf_read_bits);
  if (c.obuf_write_bits) (*obuf)->write_bits(c.obuf_write_bits);
}

DmaEngine::DmaEngine(sc_core::sc_module_name name, const sc_core::sc_time& period, DmaCore& core,
                     const JobList& jobs, std::vector<JobRecord>& records)
    : sc_module(name),
      Clocked(period),
      clk("clk"),
      dram("dram"),
      ibuf("ibuf"),
      wbuf("wbuf"),
      obuf("obuf"),
      busy("busy"),
      load("load"),
      store("store"),
      core_(core),
      jobs_(jobs),
      records_(records) {
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void DmaEngine::tick() {
  core_.tick(cycle(),
             [this](uint64_t start, const DramAccess& a) { return dram->serve(start, a); });
  if (was_busy_ && (!core_.busy() || core_.current() != last_)) {
    BufferPorts{&ibuf, &wbuf, &obuf}.account(records_[last_].counts);
  }
  was_busy_ = core_.busy();
  last_ = core_.current();
  busy.write(core_.busy());
  const Job* j = core_.busy() ? &jobs_.jobs[core_.current()] : nullptr;
  load.write(j && j->engine == Engine::kLoad, j ? j->op : kNoLayer);
  store.write(j && j->engine == Engine::kStore, j ? j->op : kNoLayer);
}

SystolicArray::SystolicArray(sc_core::sc_module_name name, const sc_core::sc_time& period,
                             ArrayCore& core, JobList& jobs, Scoreboard& sb,
                             std::vector<JobRecord>& records)
    : sc_module(name),
      Clocked(period),
      clk("clk"),
      ibuf("ibuf"),
      wbuf("wbuf"),
      obuf("obuf"),
      busy("busy"),
      layer("layer"),
      core_(core),
      jobs_(jobs),
      sb_(sb),
      records_(records) {
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void SystolicArray::tick() {
  const uint64_t t = cycle();
  const auto& q = jobs_.queue[static_cast<int>(Engine::kArray)];
  if (head_ < q.size() && core_.accepting(t)) {
    const uint32_t id = q[head_];
    const Job& j = jobs_.jobs[id];
    if (sb_.ready(j, t)) {
      ++head_;
      JobRecord& r = records_[id];
      r.start = t;
      core_.start(j, id, t, &r.counts);
      last_op_ = j.op;
    }
  }
  completed_.clear();
  core_.tick(t, completed_);
  for (uint32_t id : completed_) {
    JobRecord& r = records_[id];
    r.done = t + 1;
    sb_.complete(id, r.done);
    BufferPorts{&ibuf, &wbuf, &obuf}.account(r.counts);
  }
  busy.write(!core_.idle());
  layer.write(core_.idle() ? kNoLayer : last_op_);
}

PostProcessor::PostProcessor(sc_core::sc_module_name name, const sc_core::sc_time& period,
                             PpuCore& core, std::vector<JobRecord>& records, JobList& jobs)
    : sc_module(name),
      Clocked(period),
      clk("clk"),
      ibuf("ibuf"),
      obuf("obuf"),
      busy("busy"),
      layer("layer"),
      core_(core),
      records_(records),
      jobs_(jobs) {
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void PostProcessor::tick() {
  core_.tick(cycle());
  // Forward the accesses of jobs as they complete (in queue order).
  const auto& q = jobs_.queue[static_cast<int>(Engine::kPpu)];
  while (accounted_ < q.size() && records_[q[accounted_]].done != 0) {
    BufferPorts{&ibuf, nullptr, &obuf}.account(records_[q[accounted_]].counts);
    ++accounted_;
  }
  busy.write(core_.busy());
  layer.write(core_.busy() ? jobs_.jobs[core_.current()].op : kNoLayer);
}

Controller::Controller(sc_core::sc_module_name name, const sc_core::sc_time& period,
                       const JobList& jobs, const Scoreboard& sb, int ops, bool progress)
    : sc_module(name),
      Clocked(period),
      clk("clk"),
      jobs_(jobs),
      sb_(sb),
      progress_("simulate (detailed)", "layers", ops, progress) {
  last_job_of_op_.assign(static_cast<size_t>(ops), 0);
  for (uint32_t i = 0; i < jobs.jobs.size(); ++i)
    last_job_of_op_[static_cast<size_t>(jobs.jobs[i].op)] = i;
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void Controller::tick() {
  const uint64_t t = cycle();
  if ((t & 0xffff) == 0) {
    // Layers whose last job (in program order) has completed.
    while (ops_done_ < last_job_of_op_.size() && sb_.completed() > last_job_of_op_[ops_done_])
      ++ops_done_;
    const double secs = progress_.elapsed_seconds();
    progress_.update(static_cast<int64_t>(ops_done_), fmt::format("{} cycles, {:.2f} M cycles/s", t,
                                                                  secs > 0 ? t / secs / 1e6 : 0.0));
  }
  if (sb_.completed() == jobs_.jobs.size()) {
    finished_at_ = t;
    progress_.update(static_cast<int64_t>(last_job_of_op_.size()));
    progress_.finish(fmt::format("{} cycles", t));
    sc_core::sc_stop();
  }
}

}  // namespace palsim::sim
