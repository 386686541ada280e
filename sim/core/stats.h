#pragma once
// Statistics of a run: action counts (kept apart from their costs, as in
// Accelergy) and the energy they cost under the configuration. Per layer and
// in total; the per-layer attributed cycles and energies sum to the totals.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/arch/energy_model.h"
#include "frontend/arch/hw_config.h"
#include "frontend/isa/program.h"
#include "sim/core/job.h"
#include "sim/core/layer_record.h"
#include "sim/core/sim_mode.h"

namespace palsim::sim {

// A run's action counts: what energy is charged on (frontend::ActionCounts,
// priced by frontend::energy_of) and what the engines did.
struct Counts : frontend::ActionCounts {
  uint64_t dram_transfers = 0;
  uint64_t folds = 0;
  std::array<uint64_t, kEngines> engine_busy{};  // cycles each engine was occupied
  Counts& operator+=(const Counts& o);
  bool operator==(const Counts& o) const;
};

using frontend::Energy;
using frontend::EnergyComponent;

// Why the array waited before starting a tile.
enum class Stall : uint8_t { kInput = 0, kWeight, kPsum, kOutputSpace, kOnchip, kOther };
constexpr int kStallCauses = 6;
const char* stall_name(Stall s);

struct LayerStats {
  std::string name, kind, role, mapping;  // mapping: the compiler's description of it
  LayerShape shape;                       // from the program (sim/core/layer_record.h)
  MappingRecord mapping_record;           // the same mapping, field by field
  std::vector<std::string> layers;
  // The network's multiply-accumulates of the op (per inference batch), as the
  // BitOps rule counts them: not the array's chunk products (counts.chunk_products).
  int64_t network_macs = 0;
  uint64_t first_start = 0, last_done = 0;  // span of its jobs
  uint64_t cycles = 0;  // attributed cycles (kCycleAttributionRule; sum over layers = total)
  Counts counts;
  Energy energy;
  std::array<uint64_t, kStallCauses> stalls{};
  double utilization = 0;  // unit busy cycles / (attributed cycles x units)
  // Useful 2-bit products (the layer's MACs x slice pairs at 2 bits) over
  // attributed cycles x 2-bit multipliers: what busy units hide (zero weights
  // of packed depthwise groups, padded lanes).
  double mac_utilization = 0;
  // Tensor layouts in DRAM of the op's input and output (frontend/mapping/tensor_layout.h).
  std::string input_layout, output_layout;
};

// Requested bits over bits moved (1 when nothing moved).
double dram_efficiency(const Counts& c);

struct RunStats {
  SimMode mode = SimMode::kFast;
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
  double wall_seconds = 0;   // the detailed run's process, all of it
  double model_seconds = 0;  // the SystemC model alone: the rate is unit_cycles / this
  double check_seconds = 0;  // the kernels' reference, computed beside the model
  // Totals counted by the SRAM buffer modules (read, write bits).
  uint64_t buffer_bits[3][2] = {{0, 0}, {0, 0}, {0, 0}};
};

// Counts of one job (from the array model; the detailed mode counts them
// while stepping and is tested to match).
Counts job_counts(const frontend::HwConfig& hw, const Job& job);

// Assembles the statistics of a finished job list (timing filled in).
RunStats collect_stats(const frontend::HwConfig& hw, const isa::Program& program,
                       const JobList& jobs, uint64_t total_cycles,
                       const std::vector<Counts>& job_counts_override = {});

}  // namespace palsim::sim
