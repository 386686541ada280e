#include "cli/simulate_run.h"

#include <fmt/format.h>

#include "cli/provenance.h"
#include "common/atomic_file.h"
#include "common/memory_budget.h"
#include "frontend/arch/hw_config_json.h"
#include "frontend/lowering/compile.h"
#include "sim/compile.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace palsim::cli {

void SimulateOptions::add_to(po::options_description& desc) {
  net.add_to(desc);
  hw.add_to(desc);
  mapping.add_to(desc);
  desc.add_options()(
      "mode", po::value(&mode)->default_value("fast"),
      "fast (job-level timing) or detailed (SystemC, every unit stepped, real values)")(
      "program", po::value(&program_file),
      "simulate this compiled program instead of compiling NETWORK")(
      "trace", po::value(&trace), "detailed mode: write a VCD trace (small runs)")(
      "timeline", po::value(&timeline),
      "write a timeline of every job (Chrome trace event JSON: open it in ui.perfetto.dev or "
      "chrome://tracing)")("seed", po::value(&seed)->default_value(1),
                           "detailed mode: seed of the synthetic weights and input")(
      "exact-arithmetic", po::bool_switch(&exact),
      "detailed mode: units compute through BitBrick / NBVE arithmetic (slower, same results)")(
      "quiet,q", po::bool_switch(&quiet), "no progress on stderr");
}

SimulateOutcome simulate_run(const SimulateOptions& o, const po::variables_map& vm) {
  const sim::SimMode mode = sim::parse_sim_mode(o.mode);
  if (!o.trace.empty() && mode != sim::SimMode::kDetailed)
    throw UsageError("--trace needs --mode detailed");
  if (!o.trace.empty()) check_output_path(o.trace, "--trace");
  if (!o.timeline.empty()) check_output_path(o.timeline, "--timeline");
  sim::SimOptions so;
  so.mode = mode;
  so.progress = !o.quiet;
  so.vcd_trace = o.trace;
  so.timeline = o.timeline;
  SimulateOutcome out;
  out.hardware = o.hw.load();
  const frontend::HwConfig& cfg = out.hardware;
  isa::Program program;
  frontend::Compiled compiled;
  nlohmann::json network_record;
  if (!o.program_file.empty()) {
    if (!o.net.network.empty()) throw UsageError("give NETWORK or --program, not both");
    if (!o.mapping.read.empty() || !o.mapping.write.empty())
      throw UsageError(
          "--mapping and --write-mapping need NETWORK (a --program is already mapped)");
    program = isa::load_program(o.program_file);
    network_record = {{"name", program.info.network}, {"program_file", o.program_file}};
  } else {
    const std::optional<frontend::MappingFile> given = o.mapping.load();
    const frontend::NetworkRequest request = o.net.request(vm);
    const frontend::Network network = frontend::resolve_network(request);
    if (so.mode == sim::SimMode::kDetailed) {
      // Detailed mode holds every tensor of the batch twice (the simulated
      // values and the kernels' reference, 32-bit elements at least): refuse
      // what cannot fit before the mapping search starts.
      uint64_t elements = 0;
      for (int i = 0; i < network.size(); ++i)
        elements += static_cast<uint64_t>(network.layer(i).out.elements());
      check_memory_budget(
          elements * static_cast<uint64_t>(o.hw.batch) * 2 * sizeof(int32_t),
          fmt::format("--mode detailed ({}, batch {})", network.name(), o.hw.batch));
    }
    compiled = sim::compile(cfg, network, o.hw.lowering(), static_cast<size_t>(o.hw.refine),
                            o.hw.cycle_tolerance, !o.quiet, given ? &*given : nullptr);
    o.mapping.save(compiled.plan, frontend::hw_display_name(cfg));
    program = compiled.program;
    so.graph = &compiled.plan.graph;
    network_record = network_provenance(request, network);
  }
  so.seed = o.seed;
  so.exact_arithmetic = o.exact;
  out.stats = sim::simulate(cfg, program, so);
  nlohmann::json run_record =
      lowering_json(o.hw.lowering(), static_cast<size_t>(o.hw.refine), o.hw.cycle_tolerance);
  run_record["mode"] = o.mode;
  if (!o.mapping.read.empty()) run_record["mapping_file"] = o.mapping.read;
  if (so.mode == sim::SimMode::kDetailed) {
    run_record["seed"] = o.seed;
    run_record["exact_arithmetic"] = o.exact;
  }
  nlohmann::json& j = out.record;
  j = sim::run_to_json(out.stats);
  j["network"] = program.info.network;
  j["hardware"] = frontend::hw_display_name(cfg);
  j["fp_layers"] = program.info.fp_layers;
  j["batch"] = program.info.batch;
  j["onchip_intermediates"] = program.info.onchip_intermediates;
  j["excluded_layers"] = program.info.excluded_layers;
  j["provenance"] = provenance_json(&cfg, network_record, run_record);
  out.failed_check = out.stats.values_checked && !out.stats.bit_exact;
  return out;
}

}  // namespace palsim::cli
