#pragma once
// Rebuilds the hardware graph a program was compiled from, out of its
// metadata and layer registers — so that a program file alone can be run in
// detailed mode (with a synthetic integer model) and checked against the
// kernels.
#include "frontend/isa/program.h"
#include "frontend/lowering/hw_graph.h"

namespace palsim::sim {

frontend::HwGraph graph_from_program(const isa::Program& program);

}  // namespace palsim::sim
