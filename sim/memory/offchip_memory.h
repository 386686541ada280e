#pragma once
// Off-chip memory as a component with a tiny interface (after DRAMsim3's
// MemorySystem and Ramulator 2): construct from the configuration, then
// serve transfers in order. Both simulation modes (fast and detailed) call the
// same object with the same sequence of (start cycle, access), so their cycle
// counts agree by construction.
#include <cstdint>
#include <memory>
#include <string>

#include "frontend/arch/hw_config.h"

namespace palsim::sim {

// A DMA access: `outer_count` x `inner_count` contiguous runs of `run_bits`,
// run k = (o, i) starting at base_bit + o * outer_stride_bits + i * inner_stride_bits.
// Addresses are in bits of the off-chip address space (tensors of 2-bit
// elements are packed).
struct DramAccess {
  bool write = false;
  uint64_t base_bit = 0;
  uint64_t run_bits = 0;
  uint32_t inner_count = 1;
  uint64_t inner_stride_bits = 0;
  uint32_t outer_count = 1;
  uint64_t outer_stride_bits = 0;
  uint64_t total_bits() const { return run_bits * inner_count * outer_count; }
};

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
  // (calls come in order with non-decreasing start cycles; the channel serves
  // one transfer at a time). Returns the number of accelerator cycles from
  // `start_cycle` until the transfer is complete (>= 1 for a non-empty access).
  virtual uint64_t serve(uint64_t start_cycle, const DramAccess& access) = 0;
  virtual const DramStats& stats() const = 0;
  virtual std::string describe() const = 0;
};

// Bandwidth + latency model: a transfer of n bits takes latency + ceil(n / bits_per_cycle) cycles.
// DDR4 model: bank/row/refresh timing (see ddr4_memory.h).
std::unique_ptr<OffchipMemory> make_offchip_memory(const frontend::OffchipConfig& config,
                                                   double clock_mhz);

}  // namespace palsim::sim
