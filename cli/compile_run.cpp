#include "cli/compile_run.h"

#include "frontend/arch/hw_config_json.h"
#include "sim/compile.h"

namespace palsim::cli {

void CompileOptions::add_to(po::options_description& desc) {
  net.add_to(desc);
  hw.add_to(desc);
  mapping.add_to(desc);
}

CompileOutcome compile_run(const CompileOptions& o, const po::variables_map& vm) {
  CompileOutcome out;
  out.hardware = o.hw.load();
  const std::optional<frontend::MappingFile> given = o.mapping.load();
  const frontend::Network network = frontend::resolve_network(o.net.request(vm));
  out.compiled =
      sim::compile(out.hardware, network, o.hw.lowering(), static_cast<size_t>(o.hw.refine),
                   o.hw.cycle_tolerance, false, given ? &*given : nullptr);
  o.mapping.save(out.compiled.plan, frontend::hw_display_name(out.hardware));
  const isa::Program& p = out.compiled.program;
  out.summary = {{"network", p.info.network},
                 {"hardware", frontend::hw_display_name(out.hardware)},
                 {"instructions", p.code.size()},
                 {"operations", p.info.ops.size()},
                 {"onchip_intermediates", out.compiled.plan.fused_pairs}};
  return out;
}

}  // namespace palsim::cli
