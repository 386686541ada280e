#pragma once
// Quantizers of docs/method.md §2 in integer form, for b in 2..8.
//
// The float arithmetic follows the reference code operation by operation in
// single precision (subtract, divide, clamp, scale, round half to even), so
// that the integer levels produced here equal those of the fake-quantized
// training path bit for bit.
#include <cstdint>

namespace palsim::kernels {

constexpr int kMinQuantBits = 2;
constexpr int kMaxQuantBits = 8;

// PalQuant / EWGS uniform quantizer with learnable bounds [lower, upper]:
//   x_n = clip((x - l) / (u - l), 0, 1),  q = round((2^b - 1) x_n) in {0..2^b-1}.
struct UniformQuantizer {
  int bits = 2;
  float lower = 0.0f;
  float upper = 1.0f;

  int32_t levels() const { return 1 << bits; }
  int32_t quantize(float x) const;
  // Activation value of a level: q / (2^b - 1), in [0, 1].
  float activation_value(int32_t q) const;
  // Weight value of a level: 2 (q / (2^b - 1) - 0.5), in [-1, 1].
  float weight_value(int32_t q) const;
};

// The signed odd integer a PalQuant weight level stands for:
// w_hat * (L_w - 1) = 2 q - (L_w - 1), with L_w = 2^bits.
int32_t palquant_weight_integer(int32_t q, int bits);

// LSQ (Esser et al.): v_bar = round(clip(v / s, -Q_N, Q_P)).
// Signed (weights): Q_N = 2^(b-1), Q_P = 2^(b-1) - 1. Unsigned (activations):
// Q_N = 0, Q_P = 2^b - 1.
struct LsqQuantizer {
  int bits = 4;
  bool is_signed = true;
  float step = 1.0f;

  int32_t qmin() const;  // -Q_N
  int32_t qmax() const;  //  Q_P
  int32_t quantize(float v) const;
  float dequantize(int32_t q) const { return static_cast<float>(q) * step; }
};

// Range of a b-bit integer operand.
int32_t operand_min(int bits, bool is_signed);
int32_t operand_max(int bits, bool is_signed);

}  // namespace palsim::kernels
