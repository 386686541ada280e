#include "cli/command.h"

namespace palsim::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"bitops", "BitOps of a network in a given form (docs/method.md section 4)", run_bitops},
      {"network", "write a built-in network, in a given form, as a YAML network file", run_network},
      {"import", "read an ONNX or QONNX model: show its layers' precision, write it as YAML",
       run_import},
      {"compile", "map a network onto an accelerator and write its instruction stream",
       run_compile},
      {"disasm", "print the readable listing of a compiled program", run_disasm},
      {"simulate", "cycles, energy and per-layer statistics of one inference", run_simulate},
      {"table2", "reproduce the paper's Table 2 (speedup, energy efficiency) on both accelerators",
       run_table2},
      {"sweep", "run a parameter sweep from YAML (parallel, resumable, Slurm)", run_sweep},
      {"results", "export sweep results (JSON, CSV, Markdown) or merge shard databases",
       run_results},
      {"plot", "plot sweep results (speedup and energy efficiency vs G, energy breakdowns)",
       run_plot},
#ifdef PALSIM_WITH_TORCH
      {"train", "train a network in a given form on an image dataset (libtorch)", run_train},
      {"export",
       "write a trained run as an integer model file, with the trained model's test predictions "
       "(libtorch)",
       run_export},
#endif
      {"validate",
       "check a model file's integer kernels (and the SystemC model) against the trained model",
       run_validate},
      {"evaluate", "accuracy, BitOps, cycles and energy of a trained model on an accelerator",
       run_evaluate},
  };
  return all;
}

}  // namespace palsim::cli
