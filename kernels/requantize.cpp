#include "kernels/requantize.h"

#include <limits>
#include <stdexcept>

#include "common/error.h"
#include "kernels/rounding.h"

namespace palsim::kernels {

namespace {

void check_params(const RequantParams& p) {
  if (p.scale.size() != p.offset.size()) {
    throw ArgumentError("requantize: scale and offset sizes differ");
  }
  if (p.frac_bits < 0 || p.frac_bits > 62)
    throw ArgumentError("requantize: frac_bits must be in 0..62");
  if (p.out_min > p.out_max) throw ArgumentError("requantize: out_min > out_max");
}

// Assumes check_params has run. |acc * scale| <= 2^126 and the other terms
// add less than 2^96, so nothing here can overflow 128 bits.
int32_t requantize_unchecked(int64_t acc, int32_t residual, int channel, const RequantParams& p) {
  __int128 t = static_cast<__int128>(acc) * p.scale[channel] + p.offset[channel];
  if (p.relu_before_residual && t < 0) t = 0;
  if (p.has_residual) t += static_cast<__int128>(residual) * p.residual_scale + p.residual_offset;
  if (p.relu_after_residual && t < 0) t = 0;
  // Rounded at full width and clamped before narrowing, so a huge t saturates
  // instead of overflowing.
  const __int128 q = rounding_shift_right_wide(t, p.frac_bits);
  if (q < p.out_min) return p.out_min;
  if (q > p.out_max) return p.out_max;
  return static_cast<int32_t>(q);
}

}  // namespace

int32_t requantize_element(int64_t acc, int32_t residual, int channel, const RequantParams& p) {
  check_params(p);
  if (channel < 0 || static_cast<size_t>(channel) >= p.scale.size()) {
    throw ArgumentError("requantize: channel out of range");
  }
  return requantize_unchecked(acc, residual, channel, p);
}

IntTensor requantize(const AccTensor& acc, const RequantParams& p, const IntTensor* residual) {
  check_params(p);
  if (p.scale.size() != static_cast<size_t>(acc.c())) {
    throw ArgumentError("requantize: need one scale/offset per channel");
  }
  // Tensor<int32_t>::same_shape does not take an AccTensor; compare by hand.
  if (p.has_residual) {
    if (residual == nullptr || residual->n() != acc.n() || residual->c() != acc.c() ||
        residual->h() != acc.h() || residual->w() != acc.w()) {
      throw ArgumentError("requantize: residual missing or of a different shape");
    }
  }
  IntTensor out(acc.n(), acc.c(), acc.h(), acc.w());
  const size_t plane = static_cast<size_t>(acc.h()) * acc.w();
  size_t i = 0;
  for (int n = 0; n < acc.n(); ++n) {
    for (int c = 0; c < acc.c(); ++c) {
      for (size_t k = 0; k < plane; ++k, ++i) {
        const int32_t r = p.has_residual ? residual->data()[i] : 0;
        out.data()[i] = requantize_unchecked(acc.data()[i], r, c, p);
      }
    }
  }
  return out;
}

int64_t palquant_correction(int64_t unsigned_product_sum, int64_t activation_sum, int w_bits) {
  if (w_bits < 1 || w_bits > 31)
    throw ArgumentError("palquant_correction: w_bits must be in 1..31");
  const __int128 r = 2 * static_cast<__int128>(unsigned_product_sum) -
                     static_cast<__int128>((int64_t{1} << w_bits) - 1) * activation_sum;
  if (r > std::numeric_limits<int64_t>::max() || r < std::numeric_limits<int64_t>::min()) {
    throw std::overflow_error("palquant_correction: result exceeds 64 bits");
  }
  return static_cast<int64_t>(r);
}

}  // namespace palsim::kernels
