#include "kernels/conv.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "common/error.h"

namespace palsim::kernels {

namespace {

void require(bool condition, const char* what) {
  if (!condition) throw ArgumentError(what);
}

int64_t max_abs(const IntTensor& t) {
  int64_t m = 0;
  for (int32_t v : t.values()) m = std::max<int64_t>(m, v < 0 ? -int64_t{v} : int64_t{v});
  return m;
}

// The accumulators are 64-bit; signed overflow would be undefined behaviour and
// a silently wrong reference, so a layer whose worst case does not fit is
// refused. Every partial sum is bounded by the same worst case.
void check_accumulator_fits(int64_t max_abs_input, int64_t max_abs_weight, int64_t reduction,
                            const char* who) {
  const __int128 bound = static_cast<__int128>(max_abs_input) * max_abs_weight * reduction;
  if (bound > std::numeric_limits<int64_t>::max()) {
    throw std::overflow_error(std::string(who) + ": worst-case sum exceeds the 64-bit accumulator");
  }
}

// Output positions o in [0, out) whose input coordinate o*stride + offset lies
// in [0, size): the interior where no padding is read.
void valid_range(int out, int stride, int offset, int size, int* lo, int* hi) {
  // Smallest o with o*stride + offset >= 0.
  int first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  // Largest o with o*stride + offset <= size - 1, plus one.
  int last = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  *lo = std::min(first, out);
  *hi = std::max(*lo, std::min(last, out));
}

void check_pool_args(const IntTensor& input, int kernel, int stride, int pad, const char* who) {
  const std::string w(who);
  if (kernel < 1) throw ArgumentError(w + ": kernel must be positive");
  if (stride < 1) throw ArgumentError(w + ": stride must be positive");
  // PyTorch's rule; it also guarantees every window holds a real element.
  if (pad < 0 || pad > kernel / 2) throw ArgumentError(w + ": pad must be in 0..kernel/2");
  if (input.h() + 2 * pad < kernel || input.w() + 2 * pad < kernel) {
    throw ArgumentError(w + ": window larger than the padded input");
  }
}

}  // namespace

int dilated_extent(int kernel, int dilation) {
  require(kernel >= 1 && dilation >= 1, "dilated_extent: kernel and dilation must be positive");
  return (kernel - 1) * dilation + 1;
}

int conv_output_size(int input, int kernel, int stride, int pad, int dilation) {
  require(input >= 0 && kernel >= 1 && stride >= 1 && pad >= 0 && dilation >= 1,
          "conv_output_size: bad argument");
  const int extent = dilated_extent(kernel, dilation);
  require(input + 2 * pad >= extent, "conv_output_size: kernel larger than the padded input");
  return (input + 2 * pad - extent) / stride + 1;
}

AccTensor conv2d(const IntTensor& input, const IntTensor& weight, const Conv2dParams& p) {
  require(p.groups >= 1, "conv2d: groups must be positive");
  require(p.stride_h >= 1 && p.stride_w >= 1, "conv2d: stride must be positive");
  require(p.pad_h >= 0 && p.pad_w >= 0, "conv2d: padding must be non-negative");
  require(p.dilation_h >= 1 && p.dilation_w >= 1, "conv2d: dilation must be positive");
  require(weight.n() >= 1 && weight.c() >= 1 && weight.h() >= 1 && weight.w() >= 1,
          "conv2d: empty weight");
  require(input.c() == p.groups * weight.c(),
          "conv2d: input channels != groups * weight in-channels");
  require(weight.n() % p.groups == 0, "conv2d: output channels not a multiple of groups");

  const int kh = weight.h(), kw = weight.w();
  const int out_h = conv_output_size(input.h(), kh, p.stride_h, p.pad_h, p.dilation_h);
  const int out_w = conv_output_size(input.w(), kw, p.stride_w, p.pad_w, p.dilation_w);
  const int cin_g = weight.c();
  const int cout_g = weight.n() / p.groups;
  const int64_t reduction = static_cast<int64_t>(cin_g) * kh * kw;

  int64_t in_abs = max_abs(input);
  const bool has_padding = p.pad_h > 0 || p.pad_w > 0;
  if (has_padding)
    in_abs = std::max<int64_t>(in_abs, p.pad_value < 0 ? -int64_t{p.pad_value} : p.pad_value);
  check_accumulator_fits(in_abs, max_abs(weight), reduction, "conv2d");

  AccTensor out(input.n(), weight.n(), out_h, out_w);
  const int in_h = input.h(), in_w = input.w();
  const int64_t pad_value = p.pad_value;

  // Weight-stationary order: each weight is loaded once per image and swept
  // over whole output rows, so the innermost loop runs over contiguous input
  // and output elements (vectorizable at stride 1).
  for (int n = 0; n < input.n(); ++n) {
    for (int o = 0; o < weight.n(); ++o) {
      const int g = o / cout_g;
      for (int c = 0; c < cin_g; ++c) {
        const int32_t* in_plane = input.data() + input.index(n, g * cin_g + c, 0, 0);
        for (int ky = 0; ky < kh; ++ky) {
          int oy_lo, oy_hi;
          const int y0 = ky * p.dilation_h - p.pad_h;
          valid_range(out_h, p.stride_h, y0, in_h, &oy_lo, &oy_hi);
          for (int kx = 0; kx < kw; ++kx) {
            const int64_t wv = weight.at(o, c, ky, kx);
            if (wv == 0) continue;
            int ox_lo, ox_hi;
            const int x0 = kx * p.dilation_w - p.pad_w;
            valid_range(out_w, p.stride_w, x0, in_w, &ox_lo, &ox_hi);
            const int64_t pad_product = pad_value * wv;
            for (int oy = 0; oy < out_h; ++oy) {
              int64_t* out_row = out.data() + out.index(n, o, oy, 0);
              if (oy < oy_lo || oy >= oy_hi) {
                if (pad_product != 0) {
                  for (int ox = 0; ox < out_w; ++ox) out_row[ox] += pad_product;
                }
                continue;
              }
              const int iy = oy * p.stride_h + y0;
              const int32_t* in_row = in_plane + static_cast<size_t>(iy) * in_w;
              if (pad_product != 0) {
                for (int ox = 0; ox < ox_lo; ++ox) out_row[ox] += pad_product;
                for (int ox = ox_hi; ox < out_w; ++ox) out_row[ox] += pad_product;
              }
              if (p.stride_w == 1) {
                for (int ox = ox_lo; ox < ox_hi; ++ox) out_row[ox] += wv * in_row[ox + x0];
              } else {
                for (int ox = ox_lo; ox < ox_hi; ++ox) {
                  out_row[ox] += wv * in_row[ox * p.stride_w + x0];
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

AccTensor linear(const IntTensor& input, const IntTensor& weight) {
  const int64_t features = static_cast<int64_t>(input.c()) * input.h() * input.w();
  require(weight.h() == 1 && weight.w() == 1, "linear: weight must be (OUT, IN, 1, 1)");
  require(weight.c() == features, "linear: weight in-features != input C*H*W");
  check_accumulator_fits(max_abs(input), max_abs(weight), features, "linear");

  AccTensor out(input.n(), weight.n(), 1, 1);
  for (int n = 0; n < input.n(); ++n) {
    const int32_t* x = input.data() + static_cast<size_t>(n) * features;
    for (int o = 0; o < weight.n(); ++o) {
      const int32_t* w = weight.data() + static_cast<size_t>(o) * features;
      int64_t sum = 0;
      for (int64_t k = 0; k < features; ++k) sum += static_cast<int64_t>(x[k]) * w[k];
      out.at(n, o, 0, 0) = sum;
    }
  }
  return out;
}

namespace {

// Calls reduce(n, c, y0, y1, x0, x1) for every output position of a pool and
// stores what it returns there. The window is clipped to the input: padding
// never contributes (so it never wins a max and adds nothing to a sum).
template <typename OutTensor, typename Reduce>
OutTensor pool2d(const IntTensor& input, int kernel, int stride, int pad, const char* who,
                 Reduce reduce) {
  check_pool_args(input, kernel, stride, pad, who);
  const int out_h = conv_output_size(input.h(), kernel, stride, pad);
  const int out_w = conv_output_size(input.w(), kernel, stride, pad);
  OutTensor out(input.n(), input.c(), out_h, out_w);
  for (int n = 0; n < input.n(); ++n) {
    for (int c = 0; c < input.c(); ++c) {
      for (int oy = 0; oy < out_h; ++oy) {
        const int y0 = std::max(oy * stride - pad, 0);
        const int y1 = std::min(oy * stride - pad + kernel, input.h());
        for (int ox = 0; ox < out_w; ++ox) {
          const int x0 = std::max(ox * stride - pad, 0);
          const int x1 = std::min(ox * stride - pad + kernel, input.w());
          out.at(n, c, oy, ox) = reduce(n, c, y0, y1, x0, x1);
        }
      }
    }
  }
  return out;
}

}  // namespace

IntTensor max_pool2d(const IntTensor& input, int kernel, int stride, int pad) {
  return pool2d<IntTensor>(input, kernel, stride, pad, "max_pool2d",
                           [&](int n, int c, int y0, int y1, int x0, int x1) {
                             int32_t best = input.at(n, c, y0, x0);
                             for (int y = y0; y < y1; ++y) {
                               for (int x = x0; x < x1; ++x)
                                 best = std::max(best, input.at(n, c, y, x));
                             }
                             return best;
                           });
}

AccTensor sum_pool2d(const IntTensor& input, int kernel, int stride, int pad) {
  return pool2d<AccTensor>(input, kernel, stride, pad, "sum_pool2d",
                           [&](int n, int c, int y0, int y1, int x0, int x1) {
                             int64_t sum = 0;
                             for (int y = y0; y < y1; ++y) {
                               for (int x = x0; x < x1; ++x) sum += input.at(n, c, y, x);
                             }
                             return sum;
                           });
}

AccTensor global_sum_pool(const IntTensor& input) {
  AccTensor out(input.n(), input.c(), 1, 1);
  const size_t plane = static_cast<size_t>(input.h()) * input.w();
  for (int n = 0; n < input.n(); ++n) {
    for (int c = 0; c < input.c(); ++c) {
      const int32_t* x = input.data() + input.index(n, c, 0, 0);
      int64_t sum = 0;
      for (size_t i = 0; i < plane; ++i) sum += x[i];
      out.at(n, c, 0, 0) = sum;
    }
  }
  return out;
}

int channel_shuffle_source(int out_c, int channels, int groups) {
  require(groups >= 1 && channels >= 0 && channels % groups == 0,
          "channel_shuffle: channels must be a multiple of groups");
  require(out_c >= 0 && out_c < channels, "channel_shuffle: channel out of range");
  const int per_group = channels / groups;
  // View the input as (groups, per_group) and transpose: output position
  // j*groups + i holds element (i, j).
  const int j = out_c / groups;
  const int i = out_c % groups;
  return i * per_group + j;
}

int cyclic_permute_source(int out_c, int channels, int groups, int direction) {
  require(groups >= 1 && channels >= 0 && channels % groups == 0,
          "cyclic_group_permute: channels must be a multiple of groups");
  require(out_c >= 0 && out_c < channels, "cyclic_group_permute: channel out of range");
  require(direction == 1 || direction == -1, "cyclic_group_permute: direction must be +1 or -1");
  const int per_group = channels / groups;
  const int out_group = out_c / per_group;
  // +1: output group i holds input group i-1; -1: output group i holds input group i+1.
  const int in_group = ((out_group - direction) % groups + groups) % groups;
  return in_group * per_group + out_c % per_group;
}

namespace {

template <typename SourceFn>
IntTensor permute_channels(const IntTensor& input, SourceFn source) {
  IntTensor out(input.n(), input.c(), input.h(), input.w());
  const size_t plane = static_cast<size_t>(input.h()) * input.w();
  for (int n = 0; n < input.n(); ++n) {
    for (int c = 0; c < input.c(); ++c) {
      const int32_t* from = input.data() + input.index(n, source(c), 0, 0);
      std::copy(from, from + plane, out.data() + out.index(n, c, 0, 0));
    }
  }
  return out;
}

}  // namespace

IntTensor channel_shuffle(const IntTensor& input, int groups) {
  require(groups >= 1 && input.c() % groups == 0,
          "channel_shuffle: channels must be a multiple of groups");
  return permute_channels(input,
                          [&](int c) { return channel_shuffle_source(c, input.c(), groups); });
}

IntTensor cyclic_group_permute(const IntTensor& input, int groups, int direction) {
  require(groups >= 1 && input.c() % groups == 0,
          "cyclic_group_permute: channels must be a multiple of groups");
  require(direction == 1 || direction == -1, "cyclic_group_permute: direction must be +1 or -1");
  return permute_channels(
      input, [&](int c) { return cyclic_permute_source(c, input.c(), groups, direction); });
}

int accumulator_bits(int a_bits, bool a_signed, int w_bits, bool w_signed, int64_t reduction) {
  require(a_bits >= 1 && a_bits <= 31 && w_bits >= 1 && w_bits <= 31,
          "accumulator_bits: operand widths must be in 1..31");
  require(reduction >= 0, "accumulator_bits: negative reduction");
  auto lo = [](int bits, bool s) -> int64_t { return s ? -(int64_t{1} << (bits - 1)) : 0; };
  auto hi = [](int bits, bool s) -> int64_t {
    return s ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
  };
  // A product is bilinear, so its extremes are at corners of the operand box;
  // a sum of `reduction` products reaches reduction times either extreme.
  const int64_t corners[4] = {
      lo(a_bits, a_signed) * lo(w_bits, w_signed), lo(a_bits, a_signed) * hi(w_bits, w_signed),
      hi(a_bits, a_signed) * lo(w_bits, w_signed), hi(a_bits, a_signed) * hi(w_bits, w_signed)};
  const __int128 max_sum =
      static_cast<__int128>(*std::max_element(corners, corners + 4)) * reduction;
  const __int128 min_sum =
      static_cast<__int128>(*std::min_element(corners, corners + 4)) * reduction;
  // Smallest n with -2^(n-1) <= min_sum and max_sum <= 2^(n-1) - 1.
  int n = 1;
  while (n < 127) {
    const __int128 limit = static_cast<__int128>(1) << (n - 1);
    if (min_sum >= -limit && max_sum <= limit - 1) break;
    ++n;
  }
  return n;
}

}  // namespace palsim::kernels
