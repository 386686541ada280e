#include "frontend/arch/energy_model.h"

#include <algorithm>

namespace palsim::frontend {

const std::array<EnergyComponentInfo, kEnergyComponents>& energy_components() {
  static const std::array<EnergyComponentInfo, kEnergyComponents> table = {{
      {EnergyComponent::kCoreDynamic, "core_dynamic", "core dynamic", "core"},
      {EnergyComponent::kCoreLeakage, "core_leakage", "core leakage", "core"},
      {EnergyComponent::kActivationSum, "activation_sum", "activation sums", "core"},
      {EnergyComponent::kPpu, "ppu", "PPU", "core"},
      {EnergyComponent::kIbuf, "ibuf", "IBUF", "sram"},
      {EnergyComponent::kWbuf, "wbuf", "WBUF", "sram"},
      {EnergyComponent::kObuf, "obuf", "OBUF", "sram"},
      {EnergyComponent::kDram, "dram", "DRAM", "dram"},
  }};
  return table;
}

ActionCounts& ActionCounts::operator+=(const ActionCounts& o) {
  dram_read_bits += o.dram_read_bits;
  dram_write_bits += o.dram_write_bits;
  dram_moved_bits += o.dram_moved_bits;
  ibuf_read_bits += o.ibuf_read_bits;
  ibuf_write_bits += o.ibuf_write_bits;
  wbuf_read_bits += o.wbuf_read_bits;
  wbuf_write_bits += o.wbuf_write_bits;
  obuf_read_bits += o.obuf_read_bits;
  obuf_write_bits += o.obuf_write_bits;
  unit_busy_cycles += o.unit_busy_cycles;
  asu_busy_cycles += o.asu_busy_cycles;
  ppu_elements += o.ppu_elements;
  chunk_products += o.chunk_products;
  chunk_product_input_bits += o.chunk_product_input_bits;
  return *this;
}

bool ActionCounts::operator==(const ActionCounts& o) const {
  return dram_read_bits == o.dram_read_bits && dram_write_bits == o.dram_write_bits &&
         dram_moved_bits == o.dram_moved_bits && ibuf_read_bits == o.ibuf_read_bits &&
         ibuf_write_bits == o.ibuf_write_bits && wbuf_read_bits == o.wbuf_read_bits &&
         wbuf_write_bits == o.wbuf_write_bits && obuf_read_bits == o.obuf_read_bits &&
         obuf_write_bits == o.obuf_write_bits && unit_busy_cycles == o.unit_busy_cycles &&
         asu_busy_cycles == o.asu_busy_cycles && ppu_elements == o.ppu_elements &&
         chunk_products == o.chunk_products &&
         chunk_product_input_bits == o.chunk_product_input_bits;
}

double Energy::total() const {
  double t = 0;
  for (double v : pj) t += v;
  return t;
}

Energy& Energy::operator+=(const Energy& o) {
  for (size_t i = 0; i < pj.size(); ++i) pj[i] += o.pj[i];
  return *this;
}

Energy energy_of(const HwConfig& hw, const ActionCounts& c, uint64_t cycles) {
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  Energy e;
  const double units = static_cast<double>(hw.array.rows) * hw.array.cols;
  e[EnergyComponent::kCoreDynamic] = d(c.unit_busy_cycles) * hw.energy.unit_dynamic_pj_per_cycle;
  e[EnergyComponent::kCoreLeakage] = d(cycles) * units * hw.energy.unit_leakage_pj_per_cycle;
  e[EnergyComponent::kActivationSum] = d(c.asu_busy_cycles) * hw.energy.activation_sum_pj_per_cycle;
  e[EnergyComponent::kPpu] = d(c.ppu_elements) * hw.energy.ppu_pj_per_element;
  const bool per_mac = hw.energy.sram_accounting == SramAccounting::kPerMac;
  // The public Bit Fusion simulator's weight-stationary accounting
  // (optimizer.py, get_stats_fast) charges every product an input read from
  // IBUF (instead of the array's own IBUF reads) and a partial-sum read and
  // write in OBUF (on top of palsim's OBUF accesses).
  const uint64_t ibuf_reads = per_mac ? c.chunk_product_input_bits : c.ibuf_read_bits;
  e[EnergyComponent::kIbuf] =
      d(ibuf_reads) * hw.ibuf.read_pj_per_bit + d(c.ibuf_write_bits) * hw.ibuf.write_pj_per_bit;
  e[EnergyComponent::kWbuf] = d(c.wbuf_read_bits) * hw.wbuf.read_pj_per_bit +
                              d(c.wbuf_write_bits) * hw.wbuf.write_pj_per_bit;
  e[EnergyComponent::kObuf] = d(c.obuf_read_bits) * hw.obuf.read_pj_per_bit +
                              d(c.obuf_write_bits) * hw.obuf.write_pj_per_bit;
  if (per_mac) {
    e[EnergyComponent::kObuf] += d(c.chunk_products) * hw.accumulator_bits *
                                 (hw.obuf.read_pj_per_bit + hw.obuf.write_pj_per_bit);
  }
  e[EnergyComponent::kDram] =
      d(std::max(c.dram_moved_bits, c.dram_read_bits + c.dram_write_bits)) * hw.offchip.pj_per_bit;
  return e;
}

}  // namespace palsim::frontend
