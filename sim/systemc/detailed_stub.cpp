// Placeholder until the SystemC detailed model lands (same commit series).
#include "frontend/util/error.h"
#include "sim/simulator.h"

namespace palsim::sim {

RunStats simulate_detailed(const frontend::HwConfig&, const isa::Program&, const SimOptions&) {
  throw InputError("--mode detailed: not available in this build yet");
}

}  // namespace palsim::sim
