#pragma once
// A trained model (trained_model.h) in integer form (model_file.h), and the
// check that the integer form computes the trained model's levels. Torch-free:
// the trained float values to compare with come from trained_tensor_values.
//
// Each op's float computation (trained_model.h) is affine in its integer
// accumulator up to ReLU, clipping and rounding, so it becomes one
// kernels::RequantParams per op. For a conv with input levels q_a and signed
// weight integers W' (acc = sum W' q_a):
//   - the input value the conv reads is r_a q_a + r_b (a_hat: 1/L, 0; the
//     image: 1/255, 0; LSQ: s, 0; a uniform tensor read dequantized: (u-l)/L,
//     l — only without padding, where l sum W' is a per-channel constant);
//   - the weight value is w_f W' (uniform: |alpha| / L_w, the bias times
//     |alpha|; LSQ: s_w);
//   - y_c = a_c acc + b_c with a_c = g_c w_f r_a, b_c = g_c (w_f r_b sum_c W'
//     + bias_c) + h_c, (g_c, h_c) the folded batch norm
//     g = weight / sqrt(running_var + eps), h = bias - g running_mean;
//   - the output quantizer maps x to levels as round(k (x - z0)) clamped to
//     0..L (uniform: k = L / (u - l), z0 = l; LSQ: k = 1/s, z0 = 0).
// Without a residual: t = k a_c acc + k (b_c - z0). With one: t = k a_c acc +
// k b_c (the ReLU before the residual then sits at y = 0 exactly), and the
// residual level r adds k r_r r + k (r_b' - z0). A ReLU at the end (after the
// residual, or the only one) is max(x, 0) before the quantizer; since the
// quantizer is monotone it equals clamping the level from below at the level
// of 0: out_min = quantizer(0) (0 unless l < 0), and the kernel's ReLU on
// k (x - z0) is then harmless. Average pools: t = k r_a / n sum q + k (r_b - z0).
// The parameters are computed in long double from the trained single-precision
// values and rounded to fixed point with as many fraction bits as keep every
// parameter below 2^61, so the integer path evaluates the affine maps almost
// exactly; the trained path in single precision rounds at every step, so
// their levels differ where a value lies within float rounding of a level
// boundary. The reference they are compared with is therefore the trained
// model evaluated in double (Arithmetic::kFloat64), whose rounding error
// (~1e-16 relative) is far below the fixed point's; compare_levels counts the
// elements that still differ.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "training/integer_inference.h"
#include "training/model_file.h"
#include "training/trained_model.h"

namespace palsim::training {

// The integer model of `m` (no reference predictions). The FC's 8-bit output
// tensor encodes logits over [logit_min, logit_max]. Throws InputError for a
// model that is not exportable or a computation the integer form cannot
// express (named).
IntegerModelFile integer_model_of(const TrainedModel& m, double logit_min, double logit_max);

struct LevelComparison {
  int64_t levels = 0;      // quantized tensor elements compared
  int64_t mismatches = 0;  // of which the levels differ
  // Differing levels whose trained float value lies within 1e-3 of a level
  // boundary (a rounding tie between the two paths); the others follow from
  // a differing level upstream.
  int64_t near_ties = 0;
  std::map<std::string, int64_t> mismatches_by_tensor, near_ties_by_tensor;
  double max_logit_error = 0;  // |integer logit - trained logit|, largest
};

// Compares the integer path's tensors of one image with the trained values
// of image `index` of a batch (`values`: trained_tensor_values of that batch,
// evaluated in `arithmetic`, whose quantizers then give the trained levels).
// Adds to `into`.
void compare_levels(const TrainedModel& m, const IntegerPrediction& p,
                    const std::vector<std::vector<double>>& values, int index,
                    LevelComparison& into, Arithmetic arithmetic = Arithmetic::kFloat64);

}  // namespace palsim::training
