#pragma once
// The controller: fetches and decodes the instruction stream, walks its loop
// nests and, at every LOAD, COMPUTE and STORE, generates the tile of the
// current loop indices, its DRAM addresses, and the job for the engine that
// runs it, with the dependencies that buffer double-buffering, on-chip regions
// and tensor readiness impose. It never searches or schedules beyond that: the
// mapping is whatever the program says.
#include <string>

#include "frontend/arch/hw_config.h"
#include "frontend/isa/program.h"
#include "sim/core/job.h"
#include "sim/core/layer_decoder.h"  // decode_layers

namespace palsim::sim {

// Throws InputError when the program is malformed (unbalanced loops, a LOAD
// outside a layer, registers out of range).
JobList expand_program(const frontend::HwConfig& hw, const isa::Program& program);

}  // namespace palsim::sim
