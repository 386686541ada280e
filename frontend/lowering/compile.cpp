#include "frontend/lowering/compile.h"

#include "frontend/lowering/codegen.h"
#include "frontend/lowering/work_bound.h"

namespace palsim::frontend {

Compiled compile_network(const HwConfig& hw, const Network& net, const LoweringOptions& options,
                         const PlanOptions& plan_options) {
  Compiled c;
  const HwGraph graph = build_hw_graph(net, options);
  check_work(estimate_work(hw, graph), graph);
  c.plan = plan_network(hw, graph, plan_options);
  c.program = generate_program(hw, c.plan);
  return c;
}

}  // namespace palsim::frontend
