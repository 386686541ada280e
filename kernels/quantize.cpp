#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "kernels/rounding.h"

namespace palsim::kernels {

namespace {

void check_quant_bits(int bits) {
  if (bits < kMinQuantBits || bits > kMaxQuantBits) {
    throw ArgumentError("quantizer: bits must be in 2..8");
  }
}

// The last step of both quantizers; NaN would make the integer conversion
// undefined, so it is rejected here rather than producing an arbitrary level.
int32_t to_level(float scaled) {
  if (std::isnan(scaled)) throw ArgumentError("quantizer: NaN input");
  return static_cast<int32_t>(round_half_even(scaled));
}

}  // namespace

int32_t UniformQuantizer::quantize(float x) const {
  check_quant_bits(bits);
  if (!(upper > lower)) throw ArgumentError("UniformQuantizer: upper must exceed lower");
  // Every step is a single-precision operation in the reference code's order
  // (torch tensors are float32); reordering or widening would change which
  // inputs land on a tie.
  const float range = upper - lower;
  float xn = (x - lower) / range;
  xn = std::min(std::max(xn, 0.0f), 1.0f);
  return to_level(xn * static_cast<float>(levels() - 1));
}

float UniformQuantizer::activation_value(int32_t q) const {
  check_quant_bits(bits);
  return static_cast<float>(q) / static_cast<float>(levels() - 1);
}

float UniformQuantizer::weight_value(int32_t q) const {
  return (activation_value(q) - 0.5f) * 2.0f;
}

int32_t palquant_weight_integer(int32_t q, int bits) {
  check_quant_bits(bits);
  return 2 * q - ((int32_t{1} << bits) - 1);
}

int32_t LsqQuantizer::qmin() const {
  check_quant_bits(bits);
  return is_signed ? -(int32_t{1} << (bits - 1)) : 0;
}

int32_t LsqQuantizer::qmax() const {
  check_quant_bits(bits);
  return is_signed ? (int32_t{1} << (bits - 1)) - 1 : (int32_t{1} << bits) - 1;
}

int32_t LsqQuantizer::quantize(float v) const {
  if (!(step > 0.0f)) throw ArgumentError("LsqQuantizer: step must be positive");
  float x = v / step;
  x = std::min(std::max(x, static_cast<float>(qmin())), static_cast<float>(qmax()));
  return to_level(x);
}

int32_t operand_min(int bits, bool is_signed) {
  if (bits < 1 || bits > 31) throw ArgumentError("operand_min: bits must be in 1..31");
  return is_signed ? -(int32_t{1} << (bits - 1)) : 0;
}

int32_t operand_max(int bits, bool is_signed) {
  if (bits < 1 || bits > 31) throw ArgumentError("operand_max: bits must be in 1..31");
  return is_signed ? (int32_t{1} << (bits - 1)) - 1
                   : static_cast<int32_t>((int64_t{1} << bits) - 1);
}

}  // namespace palsim::kernels
