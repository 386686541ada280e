#include "frontend/bitops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace palsim::frontend {

int64_t layer_macs(const Network& net, int index) {
  const Layer& l = net.layer(index);
  const auto in = [&](size_t k) { return net.layer(l.inputs[k]).out; };
  if (l.is<ConvAttrs>()) {
    const auto& a = l.as<ConvAttrs>();
    // docs/method.md §4: C_out x H_out x W_out x (C_in / groups) x k^2, no bias term.
    const int64_t per_output = static_cast<int64_t>(in(0).c / a.groups) * a.kernel_h * a.kernel_w;
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
  // The decimal value of a double is its shortest round-trip representation
  // (116.415, not 116.41499999999999). Rounding that digit string half away
  // from zero avoids both binary artefacts and double rounding (printing with
  // a fixed number of extra digits first would turn 1.0049999996 into 1.01).
  if (!std::isfinite(value) || decimals < 0 || decimals > 15 || std::fabs(value) >= 1e15)
    return value;
  char buf[512];  // "%.*f" of the smallest doubles needs ~340 fraction digits
  int digits = 1;
  for (; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  // The same significant digits in fixed notation (|value| < 1e15, so this fits).
  const int exponent = std::atoi(std::strchr(buf, 'e') + 1);
  const int fraction = std::max(0, digits - 1 - exponent);
  if (fraction <= decimals) return value;
  std::snprintf(buf, sizeof buf, "%.*f", fraction, value);
  std::string s(buf);
  const bool negative = s[0] == '-';
  if (negative) s.erase(0, 1);
  const size_t point = s.find('.');
  const bool round_up = s[point + 1 + static_cast<size_t>(decimals)] >= '5';
  s.erase(point + 1 + static_cast<size_t>(decimals));  // keep `decimals` fraction digits
  if (decimals == 0) s.erase(point);
  if (round_up) {
    // Add one unit in the last kept place to the digit string.
    int i = static_cast<int>(s.size()) - 1;
    for (; i >= 0; --i) {
      if (s[static_cast<size_t>(i)] == '.') continue;
      if (s[static_cast<size_t>(i)] == '9') {
        s[static_cast<size_t>(i)] = '0';
        continue;
      }
      ++s[static_cast<size_t>(i)];
      break;
    }
    if (i < 0) s.insert(0, "1");
  }
  const double rounded = std::strtod(s.c_str(), nullptr);
  return negative ? -rounded : rounded;
}

double LayerMacs::bitops_g(int network_w_bits, int network_a_bits) const {
  const int w = quant.quantized() ? quant.w_bits : network_w_bits;
  const int a = quant.quantized() ? quant.a_bits : network_a_bits;
  return static_cast<double>(macs) * w * a / 1e9;
}

bool BitOpsReport::mixed_precision() const {
  const QuantSpec* first = nullptr;
  for (const auto& l : layers) {
    if (!l.quant.quantized()) continue;
    if (first && (first->w_bits != l.quant.w_bits || first->a_bits != l.quant.a_bits)) return true;
    if (!first) first = &l.quant;
  }
  return false;
}

double BitOpsReport::layer_bitops_g() const {
  double sum = 0;
  for (const auto& l : layers) sum += l.bitops_g(w_bits, a_bits);
  return sum;
}

BitOpsReport count_bitops(const Network& net, int w_bits, int a_bits) {
  BitOpsReport r;
  r.w_bits = w_bits;
  r.a_bits = a_bits;
  for (int i = 0; i < net.size(); ++i) {
    const int64_t m = layer_macs(net, i);
    if (m == 0) continue;
    const Layer& l = net.layer(i);
    LayerMacs lm{l.name, l.op(), m, m, QuantSpec{}};
    const QuantSpec* q = l.is<ConvAttrs>() ? &l.as<ConvAttrs>().quant
                         : l.is<FcAttrs>() ? &l.as<FcAttrs>().quant
                                           : nullptr;
    if (q) lm.quant = *q;
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
