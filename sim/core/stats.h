#pragma once
// Statistics of a run: action counts (kept apart from their costs, as in
// Accelergy) and the energy they cost under the configuration. Per layer and
// in total; the per-layer attributed cycles and energies sum to the totals.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/isa/program.h"
#include "sim/core/job.h"

namespace palsim::sim {

struct Counts {
  uint64_t dram_read_bits = 0;
  uint64_t dram_write_bits = 0;
  uint64_t dram_transfers = 0;
  uint64_t ibuf_read_bits = 0, ibuf_write_bits = 0;
  uint64_t wbuf_read_bits = 0, wbuf_write_bits = 0;
  uint64_t obuf_read_bits = 0, obuf_write_bits = 0;
  uint64_t unit_busy_cycles = 0;  // sum over array units of busy cycles
  uint64_t asu_busy_cycles = 0;
  uint64_t ppu_elements = 0;
  uint64_t macs = 0;              // chunk products computed (2-bit products in 2-bit mode)
  uint64_t mac_input_bits = 0;    // macs x input chunk width (per-MAC SRAM accounting)
  uint64_t folds = 0;
  std::array<uint64_t, kEngines> engine_busy{};  // cycles each engine was occupied
  Counts& operator+=(const Counts& o);
  bool operator==(const Counts& o) const;
};

struct Energy {
  double core_dynamic = 0, core_leakage = 0, activation_sum = 0, ppu = 0;
  double ibuf = 0, wbuf = 0, obuf = 0, dram = 0;
  double total() const { return core_dynamic + core_leakage + activation_sum + ppu + ibuf + wbuf + obuf + dram; }
  Energy& operator+=(const Energy& o);
};

// Why the array waited before starting a tile.
enum class Stall : uint8_t { kInput = 0, kWeight, kPsum, kOutputSpace, kOnchip, kOther };
constexpr int kStallCauses = 6;
const char* stall_name(Stall s);

struct LayerStats {
  std::string name, kind, role, mapping;
  std::vector<std::string> layers;
  int64_t macs = 0;                 // original MACs of the op (per inference batch)
  uint64_t first_start = 0, last_done = 0;  // span of its jobs
  uint64_t cycles = 0;              // attributed cycles (sum over layers = total)
  Counts counts;
  Energy energy;
  std::array<uint64_t, kStallCauses> stalls{};
  double utilization = 0;           // unit busy cycles / (attributed cycles x units)
  // Useful 2-bit products (the layer's MACs x slice pairs at 2 bits) over
  // attributed cycles x 2-bit multipliers: what busy units hide (zero weights
  // of packed depthwise groups, padded lanes).
  double mac_utilization = 0;
};

struct RunStats {
  std::string mode;
  uint64_t cycles = 0;
  double seconds = 0;  // cycles / clock
  Counts counts;
  Energy energy;
  std::array<uint64_t, kStallCauses> stalls{};
  double utilization = 0;
  double mac_utilization = 0;
  std::vector<LayerStats> layers;
  DramStats dram;
  std::string memory_model;
  uint64_t jobs = 0;
  // Detailed mode.
  bool values_checked = false;
  bool bit_exact = false;
  std::string first_mismatch;
  uint64_t unit_cycles = 0;  // array units stepped
  double wall_seconds = 0;
  // Totals counted by the SRAM buffer modules (read, write bits).
  uint64_t buffer_bits[3][2] = {{0, 0}, {0, 0}, {0, 0}};
};

// Counts of one job (from the array model; the detailed mode counts them
// while stepping and is tested to match).
Counts job_counts(const frontend::HwConfig& hw, const Job& job);
Energy energy_of(const frontend::HwConfig& hw, const Counts& c, uint64_t cycles);

// Assembles the statistics of a finished job list (timing filled in).
RunStats collect_stats(const frontend::HwConfig& hw, const isa::Program& program, const JobList& jobs,
                       uint64_t total_cycles, const std::vector<Counts>& job_counts_override = {});

}  // namespace palsim::sim
