#pragma once
// The quantizers of docs/method.md §2 as torch functions with custom backward
// passes (internal to the training module: includes torch).
//
// Forward (float32) performs the single-precision operations of
// kernels/quantize.cpp in the same order, rounding half to even, so the
// integer levels of the fake-quantized training path are exactly the levels
// kernels::UniformQuantizer / kernels::LsqQuantizer compute.
#include <torch/torch.h>

namespace palsim::training {

// a_hat = round((2^b - 1) clip((x - l) / (u - l), 0, 1)) / (2^b - 1).
// Backward: straight-through rounding; with ewgs_delta > 0 the gradient is
// scaled element-wise (EWGS, Lee et al. 2021): g' = g (1 + delta sign(g)
// (x_n - a_hat)) with x_n = clip((x - l) / (u - l), 0, 1). Where x_n is
// inside [0, 1] (inclusive, as torch's clamp):
//   dx = g' / (u - l),  dl = g' (x - u) / (u - l)^2,  du = -g' (x - l) / (u - l)^2;
// outside, all three are 0.
torch::Tensor uniform_quantize(const torch::Tensor& x, const torch::Tensor& lower,
                               const torch::Tensor& upper, int bits, double ewgs_delta);

// LSQ: x_hat = round(clip(x / s, qmin, qmax)) s.
// Backward (Esser et al. 2020): dx = g where qmin <= x/s <= qmax, else 0;
// ds = grad_scale * sum g (round(x/s) - x/s) inside, g qmin below, g qmax above.
torch::Tensor lsq_quantize(const torch::Tensor& x, const torch::Tensor& step, int qmin, int qmax,
                           double grad_scale);

// The integer levels (int32), no gradient.
torch::Tensor uniform_levels(const torch::Tensor& x, float lower, float upper, int bits);
torch::Tensor lsq_levels(const torch::Tensor& x, float step, int qmin, int qmax);

// Half-to-even rounding as the quantizers do it (for |v| < 2^22).
float round_levels(float v);

}  // namespace palsim::training
