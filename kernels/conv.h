#pragma once
// Integer convolution, linear layers and pooling: the reference every hardware
// model is compared with, bit for bit.
#include <cstdint>

#include "kernels/tensor.h"

namespace palsim::kernels {

struct Conv2dParams {
  int stride_h = 1;
  int stride_w = 1;
  int pad_h = 0;
  int pad_w = 0;
  int groups = 1;
  // Spacing of the kernel taps over the input (atrous convolution); 1: dense.
  int dilation_h = 1;
  int dilation_w = 1;
  // Value of padded input positions (the zero point of the input encoding;
  // 0 for every encoding palsim uses today).
  int32_t pad_value = 0;
};

// A kernel of `kernel` taps `dilation` apart spans (kernel - 1) * dilation + 1
// input positions.
int dilated_extent(int kernel, int dilation);
int conv_output_size(int input, int kernel, int stride, int pad, int dilation = 1);

// out[n][o][y][x] = sum over c in o's group, ky, kx of
//   in[n][g*Cg + c][y*s - p + ky*d][x*s - p + kx*d] * w[o][c][ky][kx]
// with in channels = groups * w.c(), out channels = w.n() (a multiple of groups).
// Throws palsim::ArgumentError (common/error.h) on inconsistent shapes, and
// std::overflow_error if max|in| * max|w| * (w.c() * kh * kw) could exceed the
// 64-bit accumulator (linear likewise): an overflow is not a bad argument but
// a computation the 64-bit accumulator cannot hold, so it keeps its own type.
AccTensor conv2d(const IntTensor& input, const IntTensor& weight, const Conv2dParams& params);

// FC: input (N, C, 1, 1) or (N, C, H, W) flattened in C,H,W order; weight
// (OUT, C*H*W, 1, 1). Result (N, OUT, 1, 1).
AccTensor linear(const IntTensor& input, const IntTensor& weight);

// Max pooling over a k x k window; padded positions never win (PyTorch semantics).
// As in PyTorch, pad must be in 0..kernel/2 (palsim::ArgumentError otherwise).
IntTensor max_pool2d(const IntTensor& input, int kernel, int stride, int pad);
// Sum over a k x k window (the division of average pooling is folded into the
// following requantization); padded positions count as zero (count_include_pad:
// the divisor is always k*k). Same pad limit as max_pool2d.
AccTensor sum_pool2d(const IntTensor& input, int kernel, int stride, int pad);
// Sum over the whole spatial extent: (N, C, H, W) -> (N, C, 1, 1).
AccTensor global_sum_pool(const IntTensor& input);

// Channel permutations (pure data movement).
// ShuffleNet channel shuffle over `groups`: out channel j*groups + i takes in
// channel i*(C/groups) + j.
IntTensor channel_shuffle(const IntTensor& input, int groups);
// Cyclic permutation of channel groups. direction +1 is the paper's Eq. 8
// (group i moves to position (i+1) mod G); -1 is the reference code
// (output group i is input group (i+1) mod G).
IntTensor cyclic_group_permute(const IntTensor& input, int groups, int direction);
// The channel index of the input that lands at output channel `out_c`.
int channel_shuffle_source(int out_c, int channels, int groups);
int cyclic_permute_source(int out_c, int channels, int groups, int direction);

// Bits a signed accumulator needs so that a dot product of `reduction` pairs
// of such operands never overflows (sign bit included).
int accumulator_bits(int a_bits, bool a_signed, int w_bits, bool w_signed, int64_t reduction);

}  // namespace palsim::kernels
