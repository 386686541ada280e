// palsim train: trains a network (fp, lsq, ewgs, palquant) as the accelerator
// executes it, on Fashion-MNIST or an image folder; resumable.
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/options.h"
#include "training/config.h"
#include "training/trainer.h"

namespace palsim::cli {

int run_train(const std::vector<std::string>& args) {
  std::string config_path, output;
  int stop_after = 0;
  int64_t seed = -1, trace_steps = 200, stop_after_steps = 0;
  std::string trace;
  bool quiet = false;
  po::options_description desc("palsim train options");
  po::options_description_easy_init add = desc.add_options();
  add("config", po::value(&config_path), "CONFIG: training configuration (palsim-train-1 YAML)");
  add("output,o", po::value(&output),
      "RUN_DIR: receives the resolved configuration, a checkpoint per epoch and metrics.json; "
      "a RUN_DIR holding a checkpoint of the same configuration is resumed");
  add("stop-after", po::value(&stop_after)->default_value(0),
      "train at most this many epochs in this run (0: all); run again to resume");
  add("seed", po::value(&seed),
      "SEED: override training.seed (weights' initialization and the order of the images), "
      "e.g. to repeat one configuration over several seeds");
  add("trace", po::value(&trace),
      "FILE: one JSON line per training step (loss, gradient norms, every quantizer parameter "
      "and its gradient) for the first --trace-steps steps; a diagnostic of diverging runs");
  add("trace-steps", po::value(&trace_steps)->default_value(200), "steps --trace records");
  add("stop-after-steps", po::value(&stop_after_steps)->default_value(0),
      "stop after this many training steps, mid-epoch and without a checkpoint (0: no limit); "
      "with --trace, a look at the first steps of a long recipe");
  add("quiet,q", po::bool_switch(&quiet), "no progress on stderr");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm, "usage: palsim train CONFIG.yaml -o RUN_DIR [options]",
          "  palsim train workloads/fmnist/smoke.yaml -o /tmp/smoke\n"
          "  palsim train workloads/fmnist/palquant_b2g2.yaml -o runs/b2g2 --stop-after 1\n"
          "  palsim train workloads/fmnist/palquant_b2g2.yaml -o runs/b2g2   # resumes\n"
          "  palsim train workloads/fmnist/palquant_b2g2.yaml -o runs/b2g2-s2 --seed 2")) {
    return kExitOk;
  }
  if (config_path.empty()) throw UsageError("missing CONFIG");
  if (output.empty()) throw UsageError("missing -o RUN_DIR");
  if (stop_after < 0) throw UsageError("--stop-after: must not be negative");
  if (trace_steps < 0) throw UsageError("--trace-steps: must not be negative");
  if (stop_after_steps < 0) throw UsageError("--stop-after-steps: must not be negative");
  training::TrainConfig config = training::load_train_config(config_path);
  if (vm.count("seed")) {
    if (seed < 0) throw UsageError("--seed: must not be negative");
    config.training.seed = seed;
  }
  training::TrainOptions options;
  options.progress = !quiet;
  options.stop_after_epochs = stop_after;
  options.trace_path = trace;
  options.trace_steps = trace_steps;
  options.stop_after_steps = stop_after_steps;
  const training::TrainResult r = training::train(config, output, options);
  if (r.complete) {
    fmt::print("{}: {} epochs, test accuracy {:.2f}%{}\n", output, r.epochs_done,
               r.final_test_accuracy_percent, r.exportable ? "" : " (not exportable)");
  } else {
    fmt::print("{}: stopped after epoch {}/{}; run the same command to resume\n", output,
               r.epochs_done, config.training.epochs);
  }
  return kExitOk;
}

}  // namespace palsim::cli
