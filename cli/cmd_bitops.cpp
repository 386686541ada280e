// palsim bitops: BitOps with the paper's counting rule.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/options.h"
#include "frontend/bitops.h"

namespace palsim::cli {

int run_bitops(const std::vector<std::string>& args) {
  NetworkOptions net;
  bool per_layer = false, json = false;
  int wbits_override = 0, abits_override = 0;
  po::options_description desc("palsim bitops options");
  net.add_to(desc);
  desc.add_options()("per-layer", po::bool_switch(&per_layer),
                     "also print a table of every counted layer")(
      "json", po::bool_switch(&json),
      "print one JSON object (bitops in units of 1e9, macs exact, layers)")(
      "count-wbits", po::value(&wbits_override),
      "YAML networks: b_w of the rule (default: the first quantized conv)")(
      "count-abits", po::value(&abits_override), "YAML networks: b_a of the rule");
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
  for (const char* o : {"count-wbits", "count-abits"}) {
    if (vm.count(o) && (vm[o].as<int>() < 1 || vm[o].as<int>() > 32)) {
      throw UsageError(fmt::format("--{}: must be between 1 and 32, got {}", o, vm[o].as<int>()));
    }
  }
  const frontend::NetworkRequest req = net.request(vm);
  const frontend::Network network = frontend::resolve_network(req);

  int wb = req.method.bitops_w_bits(), ab = req.method.bitops_a_bits();
  if (!frontend::is_builtin_network(req.network)) {
    // A YAML network: use the widths of its first quantized convolution.
    wb = ab = 32;
    for (const auto& l : network.layers()) {
      if (l.is<frontend::ConvAttrs>() && l.as<frontend::ConvAttrs>().quant.quantized()) {
        wb = l.as<frontend::ConvAttrs>().quant.w_bits;
        ab = l.as<frontend::ConvAttrs>().quant.a_bits;
        break;
      }
    }
  }
  if (vm.count("count-wbits")) wb = wbits_override;
  if (vm.count("count-abits")) ab = abits_override;
  const frontend::BitOpsReport r = frontend::count_bitops(network, wb, ab);

  if (json) {
    nlohmann::json j;
    j["network"] = network.name();
    j["w_bits"] = r.w_bits;
    j["a_bits"] = r.a_bits;
    j["macs"] = r.macs;
    j["macs_g"] = r.macs_g_rounded;
    j["bitops"] = r.bitops_g;
    j["layers"] = nlohmann::json::array();
    for (const auto& l : r.layers) {
      j["layers"].push_back({{"name", l.name},
                             {"op", l.op},
                             {"macs", l.macs},
                             {"slice_products", l.slice_products},
                             {"w_bits", l.quant.quantized() ? l.quant.w_bits : r.w_bits},
                             {"a_bits", l.quant.quantized() ? l.quant.a_bits : r.a_bits},
                             {"bitops", l.bitops_g(r.w_bits, r.a_bits)}});
    }
    if (r.mixed_precision()) j["layer_bitops"] = r.layer_bitops_g();
    std::cout << j.dump(2) << "\n";
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
  fmt::print("network  {}\n", network.name());
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
