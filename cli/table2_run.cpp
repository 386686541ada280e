#include "cli/table2_run.h"

#include <algorithm>
#include <thread>

#include "cli/provenance.h"
#include "common/data_dir.h"
#include "frontend/arch/hw_config_json.h"
#include "sim/report.h"

namespace palsim::cli {

Table2RunOptions::Table2RunOptions() {
  table.hw_bitfusion = data_path("configs/bitfusion.yaml");
  table.hw_bpvec = data_path("configs/bpvec.yaml");
  table.paper_file = data_path("configs/paper/table2.yaml");
  table.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void Table2RunOptions::add_to(po::options_description& desc) {
  Table2Options& o = table;
  desc.add_options()("hw-bitfusion", po::value(&o.hw_bitfusion)->default_value(o.hw_bitfusion),
                     "Bit Fusion configuration")(
      "hw-bpvec", po::value(&o.hw_bpvec)->default_value(o.hw_bpvec), "BPVeC configuration")(
      "fp-layers", po::value(&fp_layers)->default_value(fp_layers),
      "stem and classifier: exclude or int8")(
      "batch", po::value(&o.lowering.batch)->default_value(1), "images per inference")(
      "no-onchip", po::bool_switch(&no_onchip), "never keep block intermediates on chip")(
      "no-onchip-effect", po::bool_switch(&no_onchip_effect),
      "skip the extra PalQuant runs without on-chip intermediates")(
      "paper", po::value(&o.paper_file)->default_value(o.paper_file), "the paper's figures (YAML)")(
      "jobs,j", po::value(&o.jobs)->default_value(o.jobs), "parallel runs")(
      "refine", po::value(&refine)->default_value(refine),
      "simulate the mapper's best K mappings of every layer and keep the best (1: estimate alone)")(
      "offchip", po::value(&o.offchip),
      "off-chip memory of both machines: bandwidth, ddr4 (the bank/row/burst model), or "
      "ddr4-ideal (a channel of DDR4's sustained bandwidth and latency that costs nothing for "
      "banks, rows or bursts); default: as configured")(
      "cycle-tolerance", po::value(&o.cycle_tolerance)->default_value(o.cycle_tolerance),
      "objective: among mappings within this fraction of the fewest cycles, the least energy (0: "
      "strict)")("quiet,q", po::bool_switch(&quiet), "no progress on stderr");
}

Table2Options Table2RunOptions::resolved() const {
  Table2Options o = table;
  if (o.jobs < 1 || o.jobs > 256) throw UsageError("--jobs: must be between 1 and 256");
  check_search_options(refine, o.cycle_tolerance);
  o.refine = static_cast<size_t>(refine);
  check_batch(o.lowering.batch);
  o.lowering.fp_layers = frontend::parse_fp_layer_treatment(fp_layers);
  o.lowering.onchip_intermediates = !no_onchip;
  o.onchip_effect = !no_onchip_effect && !no_onchip;
  o.progress = !quiet;
  return o;
}

namespace {

nlohmann::json side_json(const Table2Side& s) {
  return {{"method", s.method},
          {"cycles", s.cycles},
          {"energy_pj", s.energy_pj},
          {"dram_efficiency", sim::dram_efficiency(s.stats.counts)},
          {"energy_breakdown_pj", sim::energy_to_json(s.stats.energy)}};
}

}  // namespace

nlohmann::json table_provenance(const Table2Result& r) {
  nlohmann::json hardware = nlohmann::json::object();
  for (const auto& [acc, hw] : r.hardware) hardware[acc] = frontend::hw_config_json(hw);
  nlohmann::json run =
      lowering_json(r.options.lowering, r.options.refine, r.options.cycle_tolerance);
  run["mode"] = "fast";
  run["networks"] = r.options.networks;
  run["bits"] = r.options.bits;
  run["offchip"] = r.options.offchip.empty() ? "as configured" : r.options.offchip;
  run["onchip_effect"] = r.options.onchip_effect;
  run["paper_file"] = r.options.paper_file;
  nlohmann::json networks = nlohmann::json::object();
  for (const auto& row : r.rows) {
    for (const Table2Side* side : {&row.baseline, &row.palquant}) {
      networks[row.network + "/" + side->method] = side->layers_hash;
    }
  }
  run["layers_hash"] = networks;
  nlohmann::json origin = nlohmann::json::object();
  for (const auto& [acc, hw] : r.hardware) origin[acc] = hardware_origin(hw);
  nlohmann::json j = provenance_json(nullptr, nullptr, run);
  j["hardware"] = hardware;
  j["hardware_origin"] = origin;
  return j;
}

nlohmann::json table_json(const Table2Result& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.rows) {
    nlohmann::json j = {{"accelerator", row.accelerator},
                        {"hardware", row.hardware},
                        {"network", row.network},
                        {"M", row.M},
                        {"G", row.G},
                        {"speedup", row.speedup},
                        {"energy_efficiency", row.energy_efficiency},
                        {"baseline", side_json(row.baseline)},
                        {"palquant", side_json(row.palquant)},
                        {"baseline_cycles", row.baseline.cycles},
                        {"baseline_energy_pj", row.baseline.energy_pj},
                        {"palquant_cycles", row.palquant.cycles},
                        {"palquant_energy_pj", row.palquant.energy_pj},
                        {"fp_layers", frontend::to_string(r.options.lowering.fp_layers)},
                        {"batch", r.options.lowering.batch}};
    if (r.options.onchip_effect) {
      j["palquant_without_onchip"] = side_json(row.palquant_offchip);
      j["onchip_speedup"] = row.onchip_speedup;
      j["onchip_energy_efficiency"] = row.onchip_energy;
    }
    j["paper_speedup"] =
        row.paper_speedup ? nlohmann::json(*row.paper_speedup) : nlohmann::json(nullptr);
    j["paper_energy_efficiency"] = row.paper_energy_efficiency
                                       ? nlohmann::json(*row.paper_energy_efficiency)
                                       : nlohmann::json(nullptr);
    rows.push_back(j);
  }
  return {{"provenance", table_provenance(r)}, {"rows", rows}};
}

}  // namespace palsim::cli
