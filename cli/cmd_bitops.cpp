// palsim bitops: BitOps with the paper's counting rule.
#include <fmt/format.h>

#include <iostream>

#include "cli/bitops_run.h"
#include "cli/command.h"
#include "cli/options.h"

namespace palsim::cli {

int run_bitops(const std::vector<std::string>& args) {
  BitopsOptions options;
  bool per_layer = false, json = false;
  po::options_description desc("palsim bitops options");
  options.add_to(desc);
  desc.add_options()("per-layer", po::bool_switch(&per_layer),
                     "also print a table of every counted layer")(
      "json", po::bool_switch(&json),
      "print one JSON object (bitops in units of 1e9, macs exact, layers)");
  po::positional_options_description pos;
  pos.add("network", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm, "usage: palsim bitops NETWORK [options]",
          "  palsim bitops resnet18 --method palquant --B 2 --G 2        # 14.87\n"
          "  palsim bitops resnet18 --method lsq --abits 4 --wbits 4     # 29.10\n"
          "  palsim bitops resnet34 --method palquant --B 2 --G 4 --per-layer\n"
          "  palsim bitops plain18 --method lsq --projections drop     # 28.78 (keep: 29.10)\n"
          "  palsim bitops shufflenetv2 --method lsq --width 1.0 --cyclic-groups 2\n"
          "  palsim bitops workloads/examples/tiny.yaml --json")) {
    return kExitOk;
  }
  const BitopsOutcome out = bitops_run(options, vm);
  const frontend::BitOpsReport& r = out.report;
  if (json) {
    std::cout << out.record.dump(2) << "\n";
    return kExitOk;
  }
  if (per_layer) {
    fmt::print("{:<28} {:<15} {:>15} {:>9} {:>12}\n", "layer", "op", "MACs", "w x a", "BitOps (G)");
    for (const auto& l : r.layers) {
      // The layer's own widths, or the network's (full-precision ends and
      // layers without weights count at the network's, as the rule does).
      const std::string widths =
          l.quant.quantized() ? fmt::format("{}{} x {}", l.quant.w_bits,
                                            l.quant.weights_signed() ? "s" : "u", l.quant.a_bits)
                              : fmt::format("({} x {})", r.w_bits, r.a_bits);
      fmt::print("{:<28} {:<15} {:>15} {:>9} {:>12.4f}\n", l.name, l.op, l.macs, widths,
                 l.bitops_g(r.w_bits, r.a_bits));
    }
    fmt::print("\n");
  }
  fmt::print("network  {}\n", out.network);
  fmt::print("MACs     {} ({:.3f}G, thop rule: conv, BN 2/element, FC, global pool)\n", r.macs,
             r.macs_g_rounded);
  fmt::print("BitOps   {} x {} x {:.3f}G = {:.2f}G\n", r.w_bits, r.a_bits, r.macs_g_rounded,
             r.bitops_g);
  if (r.mixed_precision()) {
    fmt::print("mixed    {:.2f}G with each quantized layer at its own widths (--per-layer)\n",
               r.layer_bitops_g());
  }
  return kExitOk;
}

}  // namespace palsim::cli
