#pragma once
// Energy as action counts times per-action costs (Accelergy's split of
// action counts from the energy reference table). One formula serves the
// mapper's estimate and the simulator's statistics, so a mapping is ranked by
// the energy it will be reported with; one table names the components, in the
// order every report (JSON, CSV, text, plots, table2) lists them.
#include <array>
#include <cstdint>

#include "frontend/arch/hw_config.h"

namespace palsim::frontend {

enum class EnergyComponent : uint8_t {
  kCoreDynamic = 0,
  kCoreLeakage,
  kActivationSum,
  kPpu,
  kIbuf,
  kWbuf,
  kObuf,
  kDram
};
constexpr int kEnergyComponents = 8;

struct EnergyComponentInfo {
  EnergyComponent id;
  const char* key;    // JSON key of energy_breakdown_pj; CSV column e_KEY
  const char* label;  // text reports and plot legends
  const char* group;  // "core", "sram" or "dram": the stacked parts of energy plots
};
// Every component, in report order.
const std::array<EnergyComponentInfo, kEnergyComponents>& energy_components();

// The actions energy is charged on. Cycles of the run are passed beside them
// (leakage is charged on every array unit for every cycle).
struct ActionCounts {
  uint64_t dram_read_bits = 0;   // requested
  uint64_t dram_write_bits = 0;  // requested
  // Bits the transfers moved on the bus (DDR4: whole bursts, over-fetch
  // included; the bandwidth model moves what is asked). Every bit moved costs
  // offchip.pj_per_bit; counts that do not track the bus (0) are charged on
  // the requested bits.
  uint64_t dram_moved_bits = 0;
  uint64_t ibuf_read_bits = 0, ibuf_write_bits = 0;
  uint64_t wbuf_read_bits = 0, wbuf_write_bits = 0;
  uint64_t obuf_read_bits = 0, obuf_write_bits = 0;
  uint64_t unit_busy_cycles = 0;  // sum over array units of cycles with valid work
  uint64_t asu_busy_cycles = 0;   // the activation-sum unit
  uint64_t ppu_elements = 0;      // output elements post-processed
  // Products the array computes: chunk x chunk (2-bit x 2-bit in 2-bit mode),
  // not the network's MACs. The per-MAC SRAM accounting charges on these.
  uint64_t chunk_products = 0;
  uint64_t chunk_product_input_bits = 0;  // chunk_products x the input chunk width
  ActionCounts& operator+=(const ActionCounts& o);
  bool operator==(const ActionCounts& o) const;
};

struct Energy {
  std::array<double, kEnergyComponents> pj{};
  double& operator[](EnergyComponent c) { return pj[static_cast<size_t>(c)]; }
  double operator[](EnergyComponent c) const { return pj[static_cast<size_t>(c)]; }
  // The sum of the components, in report order.
  double total() const;
  Energy& operator+=(const Energy& o);
};

// The energy of `counts` over `cycles` cycles under `hw`'s costs, with its
// SRAM accounting (energy.sram_accounting).
Energy energy_of(const HwConfig& hw, const ActionCounts& counts, uint64_t cycles);

}  // namespace palsim::frontend
