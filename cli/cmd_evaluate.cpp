// palsim evaluate: one report for a trained model — the integer path's
// accuracy on the test set, BitOps, and the accelerator's cycles and energy
// for the same network and the same integer weights.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/model_data.h"
#include "cli/options.h"
#include "cli/provenance.h"
#include "common/error.h"
#include "frontend/arch/hw_config_json.h"
#include "frontend/bitops.h"
#include "sim/report.h"
#include "sim/simulator.h"
#include "training/config.h"
#include "training/model_file.h"

namespace palsim::cli {

namespace {

// The BitOps rule's widths: the trained form's (as `palsim bitops` counts a
// built-in network); a network file: its first quantized convolution's.
std::pair<int, int> bitops_widths(const training::IntegerModelFile& model,
                                  const std::string& where) {
  const training::TrainConfig config = training::parse_train_config(model.config_yaml, where, "/");
  if (config.network.builtin) {
    const frontend::NetworkRequest req = config.network_request();
    return {req.method.bitops_w_bits(), req.method.bitops_a_bits()};
  }
  for (const auto& l : model.network.layers()) {
    if (l.is<frontend::ConvAttrs>() && l.as<frontend::ConvAttrs>().quant.quantized()) {
      return {l.as<frontend::ConvAttrs>().quant.w_bits, l.as<frontend::ConvAttrs>().quant.a_bits};
    }
  }
  return {32, 32};
}

}  // namespace

int run_evaluate(const std::vector<std::string>& args) {
  std::string model_path, data_dir;
  HardwareOptions hw;
  int64_t limit = 0;
  bool json = false, quiet = false;
  po::options_description desc("palsim evaluate options");
  po::options_description_easy_init add = desc.add_options();
  add("model", po::value(&model_path), "MODEL: an integer model file (palsim export)");
  add("json", po::bool_switch(&json),
      "print one JSON object (accuracy, bitops, cycles, energy_pj, energy_breakdown_pj, "
      "simulation)");
  add("data", po::value(&data_dir),
      "DIR: read the test set from here instead of the configured path");
  add("limit", po::value(&limit)->default_value(0),
      "accuracy over the first N test images (0: all)");
  add("quiet,q", po::bool_switch(&quiet), "no progress on stderr");
  // The trained model's stem and classifier are 8-bit layers: they run as such.
  hw.fp_layers = "int8";
  hw.add_to(desc);
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm, "usage: palsim evaluate MODEL --hw CONFIG [options]",
          "  palsim evaluate b2g2.pim --hw configs/bitfusion.yaml\n"
          "  palsim evaluate b2g2.pim --hw configs/bpvec.yaml --json\n"
          "  palsim evaluate b2g2.pim --hw configs/bitfusion.yaml --limit 1000 --refine 1")) {
    return kExitOk;
  }
  if (model_path.empty()) throw UsageError("missing MODEL");
  if (limit < 0) throw UsageError("--limit: must not be negative");
  if (hw.fp_layers != "int8") {
    throw UsageError(
        "--fp-layers: a trained model's stem and classifier are 8-bit layers; only int8 applies");
  }
  if (hw.batch != 1) throw UsageError("--batch: a trained model is evaluated at batch 1");
  const frontend::LoweringOptions lowering = hw.lowering();  // checks --refine, --cycle-tolerance

  const training::IntegerModelFile model = training::read_integer_model(model_path);
  const std::string where = model_path + " (meta/config)";
  const auto test = open_test_split(model.config_yaml, where, data_dir, limit);
  const int64_t count = test->size();
  const int64_t correct =
      run_integer_path(model, *test, count, !quiet, "evaluate (integer kernels)", {});
  const double accuracy = count ? static_cast<double>(correct) / static_cast<double>(count) : 0.0;

  const auto [wb, ab] = bitops_widths(model, where);
  const frontend::BitOpsReport bitops = frontend::count_bitops(model.network, wb, ab);

  const frontend::HwConfig cfg = hw.load();
  const frontend::Compiled compiled =
      compile_model(cfg, model, lowering.onchip_intermediates, static_cast<size_t>(hw.refine),
                    hw.cycle_tolerance, !quiet);
  sim::SimOptions so;
  so.mode = sim::SimMode::kFast;
  so.progress = !quiet;
  so.graph = &compiled.plan.graph;
  const sim::RunStats r = sim::simulate(cfg, compiled.program, so);

  if (json) {
    nlohmann::json j;
    j["model"] = model_path;
    j["network"] = model.network.name();
    j["dataset"] = test->name();
    j["images"] = count;
    j["correct"] = correct;
    j["accuracy"] = accuracy;
    j["bitops"] = bitops.bitops_g;
    j["bitops_w_bits"] = bitops.w_bits;
    j["bitops_a_bits"] = bitops.a_bits;
    j["macs"] = bitops.macs;
    j["hardware"] = frontend::hw_display_name(cfg);
    j["fp_layers"] = "int8";
    j["batch"] = 1;
    j["cycles"] = r.cycles;
    j["energy_pj"] = r.energy.total();
    j["simulation"] = sim::run_to_json(r);
    j["energy_breakdown_pj"] = j["simulation"]["energy_breakdown_pj"];
    frontend::LoweringOptions lowered = lowering;
    lowered.fp_layers = frontend::FpLayerTreatment::kInt8;
    nlohmann::json run = lowering_json(lowered, static_cast<size_t>(hw.refine), hw.cycle_tolerance);
    run["mode"] = "fast";
    j["provenance"] = provenance_json(&cfg, model_provenance(model_path, model.network), run);
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  fmt::print("model        {} ({}, trained from {})\n", model_path, model.network.name(),
             model.source);
  fmt::print("accuracy     {:.2f}% top-1, integer kernels, {} test images of {}\n", 100 * accuracy,
             count, test->name());
  fmt::print("BitOps       {} x {} x {:.3f}G MACs = {:.2f}G\n", bitops.w_bits, bitops.a_bits,
             bitops.macs_g_rounded, bitops.bitops_g);
  fmt::print(
      "accelerator  {} (fp layers: int8 — the trained model's stem and classifier are 8-bit "
      "layers, bit-decomposed; batch 1)\n",
      cfg.name);
  std::cout << sim::run_text(r, false);
  return kExitOk;
}

}  // namespace palsim::cli
