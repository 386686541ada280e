#pragma once
// Writes a plan as an instruction stream (see frontend/isa/isa.h).
//
// A layer:   LAYER, SETR x registers, LOOP G { tile loop nest }, ENDLAYER.
// A fused pair (first op's output kept on chip for the second):
//            LOOP G { LAYER a ... ENDLAYER  LAYER b ... ENDLAYER }.
// Inside the tile nest, each operand's LOAD sits at its mapping level; the
// partial-sum reload and the residual LOAD sit at the output level, before the
// loops it spans, and the STORE after them.
#include "frontend/isa/program.h"
#include "frontend/lowering/plan.h"

namespace palsim::frontend {

isa::Program generate_program(const HwConfig& hw, const Plan& plan);

}  // namespace palsim::frontend
