#include "cli/bitops_run.h"

#include <fmt/format.h>

namespace palsim::cli {

void BitopsOptions::add_to(po::options_description& desc) {
  net.add_to(desc);
  desc.add_options()("count-wbits", po::value(&wbits_override),
                     "YAML networks: b_w of the rule (default: the first quantized conv)")(
      "count-abits", po::value(&abits_override), "YAML networks: b_a of the rule");
}

BitopsOutcome bitops_run(const BitopsOptions& o, const po::variables_map& vm) {
  for (const char* opt : {"count-wbits", "count-abits"}) {
    if (vm.count(opt) && (vm[opt].as<int>() < 1 || vm[opt].as<int>() > 32)) {
      throw UsageError(
          fmt::format("--{}: must be between 1 and 32, got {}", opt, vm[opt].as<int>()));
    }
  }
  const frontend::NetworkRequest req = o.net.request(vm);
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
  if (vm.count("count-wbits")) wb = o.wbits_override;
  if (vm.count("count-abits")) ab = o.abits_override;
  BitopsOutcome out;
  out.network = network.name();
  out.report = frontend::count_bitops(network, wb, ab);
  const frontend::BitOpsReport& r = out.report;
  nlohmann::json& j = out.record;
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
  return out;
}

}  // namespace palsim::cli
