#pragma once
// SystemC modules of the detailed model. Each engine module is a clocked
// SC_METHOD around its cycle-level core (sim/detailed/); modules talk through
// the interfaces in interfaces.h and report, as signals (traced to VCD with
// --trace), whether each engine is busy and the layer (hardware op index) of
// the job it works on (kNoLayer when idle).
#include <string>
#include <systemc>

#include "common/progress.h"
#include "sim/detailed/array_core.h"
#include "sim/detailed/engines.h"
#include "sim/systemc/interfaces.h"

namespace palsim::sim {

// The layer signals' value while an engine is idle.
constexpr int kNoLayer = -1;

// An engine's activity signals: busy, and the layer of its current job.
struct ActivityPorts {
  sc_core::sc_out<bool> busy;
  sc_core::sc_out<int> layer;
  explicit ActivityPorts(const char* name)
      : busy((std::string(name) + "_busy").c_str()),
        layer((std::string(name) + "_layer").c_str()) {}
  void write(bool is_busy, int op) {
    busy.write(is_busy);
    layer.write(is_busy ? op : kNoLayer);
  }
};

// DDR4 or bandwidth model behind offchip_if.
class OffchipChannel : public sc_core::sc_module, public offchip_if {
 public:
  OffchipChannel(sc_core::sc_module_name name, OffchipMemory& memory)
      : sc_module(name), memory_(memory) {}
  uint64_t serve(uint64_t start_cycle, const DramAccess& access) override {
    return memory_.serve(start_cycle, access);
  }

 private:
  OffchipMemory& memory_;
};

// IBUF, WBUF or OBUF: the access counters (the contents live in FunctionalState).
class SramBuffer : public sc_core::sc_module, public buffer_if {
 public:
  explicit SramBuffer(sc_core::sc_module_name name) : sc_module(name) {}
  void read_bits(uint64_t bits) override { reads_ += bits; }
  void write_bits(uint64_t bits) override { writes_ += bits; }
  uint64_t reads() const { return reads_; }
  uint64_t writes() const { return writes_; }

 private:
  uint64_t reads_ = 0, writes_ = 0;
};

// Forwards a finished job's buffer accesses to the buffer modules.
struct BufferPorts {
  sc_core::sc_port<buffer_if>* ibuf;
  sc_core::sc_port<buffer_if>* wbuf;
  sc_core::sc_port<buffer_if>* obuf;
  void account(const Counts& c) const;
};

struct Clocked {
  explicit Clocked(const sc_core::sc_time& period) : period_(period) {}
  uint64_t cycle() const { return sc_core::sc_time_stamp().value() / period_.value(); }
  sc_core::sc_time period_;
};

class DmaEngine : public sc_core::sc_module, Clocked {
 public:
  sc_core::sc_in<bool> clk;
  sc_core::sc_port<offchip_if> dram;
  sc_core::sc_port<buffer_if> ibuf, wbuf, obuf;
  sc_core::sc_out<bool> busy;  // either queue
  ActivityPorts load, store;   // the load and the store queue
  SC_HAS_PROCESS(DmaEngine);
  DmaEngine(sc_core::sc_module_name name, const sc_core::sc_time& period, DmaCore& core,
            const JobList& jobs, std::vector<JobRecord>& records);

 private:
  void tick();
  DmaCore& core_;
  const JobList& jobs_;
  std::vector<JobRecord>& records_;
  bool was_busy_ = false;
  uint32_t last_ = 0;
};

class SystolicArray : public sc_core::sc_module, Clocked {
 public:
  sc_core::sc_in<bool> clk;
  sc_core::sc_port<buffer_if> ibuf, wbuf, obuf;
  sc_core::sc_out<bool> busy;
  sc_core::sc_out<int> layer;  // of the job started last while any is in flight
  SC_HAS_PROCESS(SystolicArray);
  SystolicArray(sc_core::sc_module_name name, const sc_core::sc_time& period, ArrayCore& core,
                JobList& jobs, Scoreboard& sb, std::vector<JobRecord>& records);

 private:
  void tick();
  ArrayCore& core_;
  JobList& jobs_;
  Scoreboard& sb_;
  std::vector<JobRecord>& records_;
  size_t head_ = 0;
  int last_op_ = kNoLayer;
  std::vector<uint32_t> completed_;
};

class PostProcessor : public sc_core::sc_module, Clocked {
 public:
  sc_core::sc_in<bool> clk;
  sc_core::sc_port<buffer_if> ibuf, obuf;
  sc_core::sc_out<bool> busy;
  sc_core::sc_out<int> layer;
  SC_HAS_PROCESS(PostProcessor);
  PostProcessor(sc_core::sc_module_name name, const sc_core::sc_time& period, PpuCore& core,
                std::vector<JobRecord>& records, JobList& jobs);

 private:
  void tick();
  PpuCore& core_;
  std::vector<JobRecord>& records_;
  JobList& jobs_;
  size_t accounted_ = 0;
};

// Fetch/decode happened at construction (the program expanded into jobs);
// every cycle the controller watches completion, reports progress, and stops
// the simulation when every job is done.
class Controller : public sc_core::sc_module, Clocked {
 public:
  sc_core::sc_in<bool> clk;
  SC_HAS_PROCESS(Controller);
  Controller(sc_core::sc_module_name name, const sc_core::sc_time& period, const JobList& jobs,
             const Scoreboard& sb, int ops, bool progress);
  uint64_t finished_at() const { return finished_at_; }

 private:
  void tick();
  const JobList& jobs_;
  const Scoreboard& sb_;
  std::vector<uint32_t> last_job_of_op_;
  size_t ops_done_ = 0;
  Progress progress_;
  uint64_t finished_at_ = 0;
};

}  // namespace palsim::sim
