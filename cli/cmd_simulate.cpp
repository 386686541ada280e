// palsim simulate: cycles, energy and statistics of one inference.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "cli/provenance.h"
#include "cli/simulate_run.h"
#include "common/atomic_file.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace palsim::cli {

int run_simulate(const std::vector<std::string>& args) {
  SimulateOptions options;
  std::string csv, json_file;
  bool json = false, per_layer = false;
  po::options_description desc("palsim simulate options");
  options.add_to(desc);
  desc.add_options()("json", po::bool_switch(&json),
                     "print one JSON object (cycles, energy_pj, energy_breakdown_pj, layers, ...)")(
      "json-file", po::value(&json_file), "write the JSON object to this file")(
      "csv", po::value(&csv), "write the per-layer table as CSV to this file")(
      "per-layer", po::bool_switch(&per_layer), "print the per-layer table");
  po::positional_options_description pos;
  pos.add("network", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm,
          "usage: palsim simulate NETWORK [form options] --hw CONFIG [--mode fast|detailed]",
          "  palsim simulate resnet18 --method palquant --B 2 --G 2 --hw configs/bitfusion.yaml "
          "--json\n"
          "  palsim simulate resnet18 --method lsq --abits 4 --wbits 4 --hw bpvec "
          "--per-layer\n"
          "  palsim simulate resnet18 --method palquant --G 4 --no-onchip --csv layers.csv\n"
          "  palsim simulate workloads/examples/tiny_palquant.yaml --timeline tiny.json   # "
          "open in ui.perfetto.dev")) {
    return kExitOk;
  }
  if (!csv.empty()) check_output_path(csv, "--csv");
  if (!json_file.empty()) check_output_path(json_file, "--json-file");
  const SimulateOutcome out = simulate_run(options, vm);
  const nlohmann::json& j = out.record;
  // A failed check is a failed run: its report is printed, but no result file
  // is written (an earlier good result is not replaced by a failed one).
  if (!out.failed_check && !csv.empty())
    write_file_atomically(csv,
                          provenance_header(j["provenance"], "# ") + sim::layers_csv(out.stats));
  if (!out.failed_check && !json_file.empty()) write_file_atomically(json_file, j.dump(2) + "\n");
  if (json) {
    std::cout << j.dump(2) << "\n";
  } else {
    fmt::print("network       {} on {} (fp layers: {}, batch {})\n",
               j["network"].get<std::string>(), j["hardware"].get<std::string>(),
               j["fp_layers"].get<std::string>(), j["batch"].get<int>());
    std::cout << sim::run_text(out.stats, per_layer);
  }
  std::cout.flush();
  sim::require_bit_exact(out.stats);
  return kExitOk;
}

}  // namespace palsim::cli
