// palsim simulate: cycles, energy and statistics of one inference.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "cli/provenance.h"
#include "frontend/arch/hw_config_json.h"
#include "frontend/lowering/compile.h"
#include "frontend/util/atomic_file.h"
#include "frontend/util/memory_budget.h"
#include "frontend/util/progress.h"
#include "sim/compile.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace palsim::cli {

int run_simulate(const std::vector<std::string>& args) {
  NetworkOptions net;
  HardwareOptions hw;
  std::string mode = "fast", csv, json_file, program_file, trace;
  bool json = false, per_layer = false, quiet = false, exact = false;
  uint64_t seed = 1;
  po::options_description desc("palsim simulate options");
  net.add_to(desc);
  hw.add_to(desc);
  desc.add_options()(
      "mode", po::value(&mode)->default_value("fast"),
      "fast (job-level timing) or detailed (SystemC, every unit stepped, real values)")(
      "program", po::value(&program_file),
      "simulate this compiled program instead of compiling NETWORK")(
      "json", po::bool_switch(&json),
      "print one JSON object (cycles, energy_pj, energy_breakdown_pj, layers, ...)")(
      "json-file", po::value(&json_file), "write the JSON object to this file")(
      "csv", po::value(&csv), "write the per-layer table as CSV to this file")(
      "per-layer", po::bool_switch(&per_layer), "print the per-layer table")(
      "trace", po::value(&trace), "detailed mode: write a VCD trace (small runs)")(
      "seed", po::value(&seed)->default_value(1),
      "detailed mode: seed of the synthetic weights and input")(
      "exact-arithmetic", po::bool_switch(&exact),
      "detailed mode: units compute through BitBrick / NBVE arithmetic (slower, same results)")(
      "quiet,q", po::bool_switch(&quiet), "no progress on stderr");
  po::positional_options_description pos;
  pos.add("network", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm,
          "usage: palsim simulate NETWORK [form options] --hw CONFIG [--mode fast|detailed]",
          "  palsim simulate resnet18 --method palquant --B 2 --G 2 --hw configs/bitfusion.yaml "
          "--json\n"
          "  palsim simulate resnet18 --method lsq --abits 4 --wbits 4 --hw configs/bpvec.yaml "
          "--per-layer\n"
          "  palsim simulate resnet18 --method palquant --G 4 --no-onchip --csv layers.csv")) {
    return kExitOk;
  }
  if (!csv.empty()) check_output_path(csv, "--csv");
  if (!json_file.empty()) check_output_path(json_file, "--json-file");
  if (!trace.empty() && mode != "detailed") throw UsageError("--trace needs --mode detailed");
  if (!trace.empty()) check_output_path(trace, "--trace");
  sim::SimOptions so;
  so.mode = sim::parse_sim_mode(mode);
  so.progress = !quiet;
  so.vcd_trace = trace;
  const frontend::HwConfig cfg = hw.load();
  isa::Program program;
  frontend::Compiled compiled;
  nlohmann::json network_record;
  if (!program_file.empty()) {
    if (!net.network.empty()) throw UsageError("give NETWORK or --program, not both");
    program = isa::load_program(program_file);
    network_record = {{"name", program.info.network}, {"program_file", program_file}};
  } else {
    const frontend::NetworkRequest request = net.request(vm);
    const frontend::Network network = frontend::resolve_network(request);
    if (so.mode == sim::SimMode::kDetailed) {
      // Detailed mode holds every tensor of the batch twice (the simulated
      // values and the kernels' reference, 32-bit elements at least): refuse
      // what cannot fit before the mapping search starts.
      uint64_t elements = 0;
      for (int i = 0; i < network.size(); ++i)
        elements += static_cast<uint64_t>(network.layer(i).out.elements());
      check_memory_budget(elements * static_cast<uint64_t>(hw.batch) * 2 * sizeof(int32_t),
                          fmt::format("--mode detailed ({}, batch {})", network.name(), hw.batch));
    }
    compiled = sim::compile(cfg, network, hw.lowering(), static_cast<size_t>(hw.refine),
                            hw.cycle_tolerance, !quiet);
    program = compiled.program;
    so.graph = &compiled.plan.graph;
    network_record = network_provenance(request, network);
  }
  so.seed = seed;
  so.exact_arithmetic = exact;
  const sim::RunStats r = sim::simulate(cfg, program, so);
  nlohmann::json run_record =
      lowering_json(hw.lowering(), static_cast<size_t>(hw.refine), hw.cycle_tolerance);
  run_record["mode"] = mode;
  if (so.mode == sim::SimMode::kDetailed) {
    run_record["seed"] = seed;
    run_record["exact_arithmetic"] = exact;
  }
  const nlohmann::json provenance = provenance_json(&cfg, network_record, run_record);
  nlohmann::json j = sim::run_to_json(r);
  j["network"] = program.info.network;
  j["hardware"] = frontend::hw_display_name(cfg);
  j["fp_layers"] = program.info.fp_layers;
  j["batch"] = program.info.batch;
  j["onchip_intermediates"] = program.info.onchip_intermediates;
  j["excluded_layers"] = program.info.excluded_layers;
  j["provenance"] = provenance;
  const bool failed = r.values_checked && !r.bit_exact;
  // A failed check is a failed run: its report is printed, but no result file
  // is written (an earlier good result is not replaced by a failed one).
  if (!failed && !csv.empty())
    write_file_atomically(csv, provenance_header(provenance, "# ") + sim::layers_csv(r));
  if (!failed && !json_file.empty()) write_file_atomically(json_file, j.dump(2) + "\n");
  if (json) {
    std::cout << j.dump(2) << "\n";
  } else {
    fmt::print("network       {} on {} (fp layers: {}, batch {})\n", program.info.network,
               frontend::hw_display_name(cfg), program.info.fp_layers, program.info.batch);
    std::cout << sim::run_text(r, per_layer);
  }
  std::cout.flush();
  sim::require_bit_exact(r);
  return kExitOk;
}

}  // namespace palsim::cli
