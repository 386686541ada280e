#pragma once
// Interfaces between the detailed model's SystemC modules: pure virtual,
// split by use (style of the SystemC simple_bus example).
#include <systemc>

#include "sim/memory/offchip_memory.h"

namespace palsim::sim {

// The off-chip channel: serves one access starting at a cycle, returns its duration.
class offchip_if : public virtual sc_core::sc_interface {
 public:
  virtual uint64_t serve(uint64_t start_cycle, const DramAccess& access) = 0;
};

// An SRAM buffer's access port (counts every bit read and written).
class buffer_if : public virtual sc_core::sc_interface {
 public:
  virtual void read_bits(uint64_t bits) = 0;
  virtual void write_bits(uint64_t bits) = 0;
};

}  // namespace palsim::sim
