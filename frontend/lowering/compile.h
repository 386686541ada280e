#pragma once
// Network -> hardware graph -> plan (mappings) -> instruction stream.
#include "frontend/arch/hw_config.h"
#include "frontend/ir/network.h"
#include "frontend/isa/program.h"
#include "frontend/lowering/plan.h"

namespace palsim::frontend {

struct Compiled {
  Plan plan;
  isa::Program program;
};

Compiled compile_network(const HwConfig& hw, const Network& net, const LoweringOptions& options,
                         const PlanOptions& plan_options = {});

}  // namespace palsim::frontend
