#include "frontend/bitops.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace palsim::frontend {

int64_t layer_macs(const Network& net, int index) {
  const Layer& l = net.layer(index);
  const auto in = [&](size_t k) { return net.layer(l.inputs[k]).out; };
  if (l.is<ConvAttrs>()) {
    const auto& a = l.as<ConvAttrs>();
    const int64_t per_output = static_cast<int64_t>(in(0).c / a.groups) * a.kernel_h * a.kernel_w + (a.bias ? 1 : 0);
    return l.out.elements() * per_output;
  }
  if (l.is<BatchNormAttrs>()) return 2 * l.out.elements();
  if (l.is<FcAttrs>()) return static_cast<int64_t>(in(0).elements()) * l.out.elements();
  if (l.is<GlobalAvgPoolAttrs>()) {
    const Shape s = in(0);
    return (static_cast<int64_t>(s.h) * s.w + 1) * l.out.elements();
  }
  if (l.is<AvgPoolAttrs>()) return l.out.elements();
  return 0;
}

double round_decimal(double value, int decimals) {
  // Printing with many digits then rounding the decimal string avoids binary
  // artefacts such as 116.415 being stored as 116.41499999.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals + 6, value);
  const double scaled = std::strtod(buf, nullptr) * std::pow(10.0, decimals);
  const double rounded = std::floor(std::fabs(scaled) + 0.5 + 1e-9) * (scaled < 0 ? -1 : 1);
  return rounded / std::pow(10.0, decimals);
}

BitOpsReport count_bitops(const Network& net, int w_bits, int a_bits) {
  BitOpsReport r;
  r.w_bits = w_bits;
  r.a_bits = a_bits;
  for (int i = 0; i < net.size(); ++i) {
    const int64_t m = layer_macs(net, i);
    if (m == 0) continue;
    const Layer& l = net.layer(i);
    LayerMacs lm{l.name, l.op(), m, m};
    const QuantSpec* q = l.is<ConvAttrs>() ? &l.as<ConvAttrs>().quant : l.is<FcAttrs>() ? &l.as<FcAttrs>().quant : nullptr;
    if (q && q->quantized() && q->slice_bits > 0) {
      const int sa = (q->a_bits + q->slice_bits - 1) / q->slice_bits;
      const int sw = (q->w_bits + q->slice_bits - 1) / q->slice_bits;
      lm.slice_products = m * sa * sw;
    }
    r.layers.push_back(lm);
    r.macs += m;
  }
  r.macs_g_rounded = round_decimal(static_cast<double>(r.macs) / 1e9, 3);
  r.bitops_g = round_decimal(r.macs_g_rounded * w_bits * a_bits, 2);
  return r;
}

}  // namespace palsim::frontend
