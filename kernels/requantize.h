#pragma once
// Post-processing between layers in integer arithmetic: the operation the
// accelerators' post-processing unit performs on each accumulator.
//
// For output channel c, with acc the layer's accumulator and r an optional
// residual operand (an already quantized tensor of the same shape):
//   t = acc * scale[c] + offset[c]                (fixed point, 2^-frac_bits units)
//   if relu_before_residual: t = max(t, 0)
//   if residual:             t = t + r * residual_scale + residual_offset
//   if relu_after_residual:  t = max(t, 0)
//   q = clamp(round_half_even(t / 2^frac_bits), out_min, out_max)
// All arithmetic is exact (128-bit intermediates); the only rounding is the
// final shift. This covers folded batch norm, the PalQuant correction term
// (folded into offset via the activation sum, see palquant_correction), ReLU,
// residual additions (ReLU after, as at the end of a ResNet block, or before,
// as in the cyclic shuffle module) and the quantizer of the next tensor.
#include <cstdint>
#include <vector>

#include "kernels/tensor.h"

namespace palsim::kernels {

struct RequantParams {
  std::vector<int64_t> scale;   // per output channel
  std::vector<int64_t> offset;  // per output channel
  int frac_bits = 16;           // 0..62
  bool relu_before_residual = false;
  bool has_residual = false;
  int64_t residual_scale = 0;
  int64_t residual_offset = 0;
  bool relu_after_residual = false;
  int32_t out_min = 0;
  int32_t out_max = 255;
};

// One element; `channel` selects scale/offset. `residual` ignored unless has_residual.
int32_t requantize_element(int64_t acc, int32_t residual, int channel, const RequantParams& p);

// Whole tensor (residual may be null when !has_residual; else same shape as acc).
IntTensor requantize(const AccTensor& acc, const RequantParams& p,
                     const IntTensor* residual = nullptr);

// The PalQuant identity (docs/method.md §2.1): with unsigned weight levels
// q_w in {0..L_w-1} and activations q_a,
//   sum (2 q_w - (L_w - 1)) q_a = 2 sum(q_w q_a) - (L_w - 1) sum(q_a).
// Given the unsigned product sum and the activation sum, returns the signed sum.
int64_t palquant_correction(int64_t unsigned_product_sum, int64_t activation_sum, int w_bits);

}  // namespace palsim::kernels
