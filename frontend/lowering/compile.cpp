#include "frontend/lowering/compile.h"

#include "frontend/lowering/codegen.h"

namespace palsim::frontend {

Compiled compile_network(const HwConfig& hw, const Network& net, const LoweringOptions& options,
                         const PlanOptions& plan_options) {
  Compiled c;
  c.plan = plan_network(hw, build_hw_graph(net, options), plan_options);
  c.program = generate_program(hw, c.plan);
  return c;
}

}  // namespace palsim::frontend
