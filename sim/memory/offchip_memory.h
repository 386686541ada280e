#pragma once
// Off-chip memory as a component with a tiny interface (after DRAMsim3's
// MemorySystem and Ramulator 2): construct from the configuration, then
// serve transfers in order. Both simulation modes (fast and detailed) call the
// same object with the same sequence of (start cycle, access), so their cycle
// counts agree by construction.
#include <cstdint>
#include <memory>
#include <string>

#include "frontend/arch/dram_access.h"
#include "frontend/arch/hw_config.h"

namespace palsim::sim {

// A DMA access (frontend/arch/dram_access.h: the mapper prices the same
// description with the same burst rule).
using frontend::DramAccess;

struct DramStats {
  uint64_t read_bits = 0;   // useful bits read (what the energy per bit is charged on)
  uint64_t write_bits = 0;  // useful bits written
  uint64_t transfers = 0;
  uint64_t busy_cycles = 0;  // accelerator cycles the channel spent serving transfers
  // DDR4 model only:
  uint64_t bursts = 0;       // bursts issued (reads + writes)
  uint64_t burst_bytes = 0;  // bytes moved on the bus, including over-fetch of partial bursts
  uint64_t activates = 0;
  uint64_t precharges = 0;
  uint64_t row_hits = 0;
  uint64_t row_misses = 0;     // bank was closed
  uint64_t row_conflicts = 0;  // another row was open
  uint64_t refreshes = 0;
  double current_energy_pj = 0;  // IDD-based energy estimate (reported beside the per-bit figure)
};

class OffchipMemory {
 public:
  virtual ~OffchipMemory() = default;
  // Serves `access`, which may start at accelerator cycle `start_cycle`
  // (calls come in order with non-decreasing start cycles). Returns the
  // number of accelerator cycles from `start_cycle` until the transfer is
  // complete (>= 1 for a non-empty access): until its data has arrived (a
  // read) or has been accepted (a write; the DDR4 model posts writes and
  // drains them later). How transfers share the channel is the model's: the
  // bandwidth model serves one at a time; the DDR4 model lets a transfer's
  // commands use bank and bus slots an earlier transfer left idle.
  virtual uint64_t serve(uint64_t start_cycle, const DramAccess& access) = 0;
  virtual const DramStats& stats() const = 0;
  virtual std::string describe() const = 0;
};

// The bookkeeping of a channel that serves one transfer at a time (the
// bandwidth model and PricedMemory): a transfer starts when the channel
// frees, the wait is part of its duration, and busy time is the channel's
// own serving time (a wait was already counted as the earlier transfer's).
class SerialChannel {
 public:
  // Serves a non-empty `access` that takes `cycles` once it starts; returns
  // the cycles from `start_cycle` to its completion.
  uint64_t serve(uint64_t start_cycle, uint64_t cycles, const DramAccess& access);
  uint64_t busy_until() const { return busy_until_; }
  const DramStats& stats() const { return stats_; }

 private:
  uint64_t busy_until_ = 0;  // accelerator cycle at which the channel is free again
  DramStats stats_;
};

// Bandwidth + latency model: a transfer of n bits takes latency + ceil(n / bits_per_cycle) cycles.
// DDR4 model: bank/row/refresh timing (see ddr4_memory.h).
std::unique_ptr<OffchipMemory> make_offchip_memory(const frontend::OffchipConfig& config,
                                                   double clock_mhz);

}  // namespace palsim::sim
