#include "frontend/lowering/int_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "kernels/conv.h"
#include "kernels/quantize.h"

namespace palsim::frontend {

namespace {

using kernels::AccTensor;
using kernels::IntTensor;
using kernels::RequantParams;

// Tensor widths the model accepts (the kernels' operand helpers take 1..31;
// 30 keeps 2^bits - 1 well inside int32).
constexpr int kMaxTensorBits = 30;

int32_t tensor_max(int bits) {
  return kernels::operand_max(bits, /*is_signed=*/false);
}

// ---------------------------------------------------------------------------
// Validation.
// ---------------------------------------------------------------------------

std::string describe(const HwOp& op) {
  return fmt::format("op '{}' ({})", op.name, to_string(op.kind));
}

[[noreturn]] void op_error(const HwOp& op, const std::string& why) {
  throw InputError(fmt::format("integer model: {}: {}", describe(op), why));
}

std::string dims(const IntTensor& t) {
  return fmt::format("({}, {}, {}, {})", t.n(), t.c(), t.h(), t.w());
}
std::string dims(int n, const Shape& s) {
  return fmt::format("({}, {}, {}, {})", n, s.c, s.h, s.w);
}

bool has_dims(const IntTensor& t, int n, const Shape& s) {
  return t.n() == n && t.c() == s.c && t.h() == s.h && t.w() == s.w;
}

const HwTensor& tensor_of(const HwGraph& g, const HwOp& op, int id, const char* what) {
  if (id < 0 || static_cast<size_t>(id) >= g.tensors.size()) {
    op_error(op, fmt::format("{} tensor id {} does not exist", what, id));
  }
  return g.tensors[static_cast<size_t>(id)];
}

// First element outside [lo, hi], or -1.
long long first_outside(const IntTensor& t, int32_t lo, int32_t hi) {
  const auto& v = t.values();
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < lo || v[i] > hi) return static_cast<long long>(i);
  }
  return -1;
}

void check_graph_op(const HwGraph& g, const HwOp& op) {
  const HwTensor& in_t = tensor_of(g, op, op.input, "input");
  const HwTensor& out_t = tensor_of(g, op, op.output, "output");
  for (const HwTensor* t : {&in_t, &out_t}) {
    if (t->bits < 1 || t->bits > kMaxTensorBits) {
      op_error(op,
               fmt::format("tensor '{}' has {} bits (1..{})", t->name, t->bits, kMaxTensorBits));
    }
  }
  if (in_t.shape != op.in) {
    op_error(op, fmt::format("input shape {} differs from its tensor '{}' {}", to_string(op.in),
                             in_t.name, to_string(in_t.shape)));
  }
  if (out_t.shape != op.out) {
    op_error(op, fmt::format("output shape {} differs from its tensor '{}' {}", to_string(op.out),
                             out_t.name, to_string(out_t.shape)));
  }
  if (op.residual >= 0) {
    if (op.kind != HwOpKind::kConv) op_error(op, "only a convolution can add a residual");
    const HwTensor& r = tensor_of(g, op, op.residual, "residual");
    if (r.shape != op.out) {
      op_error(op, fmt::format("residual '{}' {} differs from the output {}", r.name,
                               to_string(r.shape), to_string(op.out)));
    }
    if (r.bits < 1 || r.bits > kMaxTensorBits)
      op_error(op, fmt::format("residual has {} bits", r.bits));
  }
  if (op.kh < 1 || op.kw < 1 || op.sh < 1 || op.sw < 1 || op.ph < 0 || op.pw < 0 || op.groups < 1 ||
      op.dh < 1 || op.dw < 1) {
    op_error(op, "bad window geometry");
  }
  if (op.kind != HwOpKind::kConv && (op.dh != 1 || op.dw != 1))
    op_error(op, "a pool is not dilated");
  auto out_size = [&](int in, int k, int s, int p, int d) {
    const int extent = (k - 1) * d + 1;
    return in + 2 * p < extent ? -1 : (in + 2 * p - extent) / s + 1;
  };
  const bool global = op.kind == HwOpKind::kGlobalAvgPool;
  const int oh = global ? 1 : out_size(op.in.h, op.kh, op.sh, op.ph, op.dh);
  const int ow = global ? 1 : out_size(op.in.w, op.kw, op.sw, op.pw, op.dw);
  if (oh != op.out.h || ow != op.out.w) {
    op_error(op, fmt::format("output {}x{} does not follow from input {}x{} and the window",
                             op.out.h, op.out.w, op.in.h, op.in.w));
  }
  if (op.kind == HwOpKind::kConv) {
    if (op.in.c % op.groups != 0 || op.out.c % op.groups != 0) {
      op_error(op, fmt::format("{} groups do not divide {} -> {} channels", op.groups, op.in.c,
                               op.out.c));
    }
    if (op.w_bits < 1 || op.w_bits > 16 ||
        (op.uniform_quantizer && (op.w_bits < 2 || op.w_bits > 8))) {
      op_error(op, fmt::format("unsupported weight width {}", op.w_bits));
    }
    if (op.in_group_rotate < 0 || op.in_group_rotate >= op.groups) {
      op_error(op, fmt::format("input group rotation {} outside 0..{}", op.in_group_rotate,
                               op.groups - 1));
    }
    if (op.out_shuffle_groups > 1 && op.out.c % op.out_shuffle_groups != 0) {
      op_error(op, fmt::format("shuffle over {} groups does not divide {} channels",
                               op.out_shuffle_groups, op.out.c));
    }
  } else {
    if (op.kind == HwOpKind::kCopy) {
      if (op.kh != 1 || op.kw != 1 || op.sh != 1 || op.sw != 1 || op.ph != 0 || op.pw != 0) {
        op_error(op, "a copy has a 1x1 window, stride 1, no padding");
      }
      if (op.out_shuffle_groups > 1 && op.out.c % op.out_shuffle_groups != 0) {
        op_error(op, fmt::format("shuffle over {} groups does not divide {} channels",
                                 op.out_shuffle_groups, op.out.c));
      }
    }
    if (op.kind != HwOpKind::kGlobalAvgPool &&
        (op.kh != op.kw || op.sh != op.sw || op.ph != op.pw)) {
      op_error(op, "pools need square windows, strides and padding");
    }
    if (op.kind != HwOpKind::kGlobalAvgPool && op.ph > op.kh / 2) {
      op_error(op, "pool padding exceeds half the window");
    }
    if (op.in.c != op.out.c) op_error(op, "a pool keeps the channel count");
    if ((op.kind == HwOpKind::kMaxPool || op.kind == HwOpKind::kCopy) && in_t.bits != out_t.bits) {
      op_error(
          op, fmt::format("a {} keeps the encoding, but reads {} bits and writes {}",
                          op.kind == HwOpKind::kCopy ? "copy" : "max pool", in_t.bits, out_t.bits));
    }
  }
}

// Every channel view lies inside a tensor that owns its space, with its
// owner's encoding and spatial shape.
void check_views(const HwGraph& g) {
  for (const HwTensor& t : g.tensors) {
    if (!t.is_view()) continue;
    auto fail = [&](const std::string& why) {
      throw InputError(
          fmt::format("integer model: tensor '{}' is a bad channel view: {}", t.name, why));
    };
    if (static_cast<size_t>(t.view_of) >= g.tensors.size()) fail("its owner does not exist");
    const HwTensor& o = g.tensors[static_cast<size_t>(t.view_of)];
    if (o.is_view()) fail("its owner is itself a view");
    if (t.view_offset < 0 || t.view_stride < 1 ||
        t.view_offset + static_cast<int64_t>(t.view_stride) * (t.shape.c - 1) >= o.shape.c) {
      fail(fmt::format("channels {} + {} c (c < {}) outside the {} channels of '{}'", t.view_offset,
                       t.view_stride, t.shape.c, o.shape.c, o.name));
    }
    if (t.shape.h != o.shape.h || t.shape.w != o.shape.w || t.batch != o.batch ||
        t.bits != o.bits) {
      fail(fmt::format("its shape or encoding differs from its owner '{}'", o.name));
    }
  }
}

void check_requant(const HwGraph& g, const HwOp& op, const kernels::RequantParams& rq,
                   int channels) {
  const HwTensor& out_t = g.tensors[static_cast<size_t>(op.output)];
  if (rq.scale.size() != static_cast<size_t>(channels) ||
      rq.offset.size() != static_cast<size_t>(channels)) {
    op_error(op, fmt::format("requantization has {} scales and {} offsets for {} channels",
                             rq.scale.size(), rq.offset.size(), channels));
  }
  if (rq.frac_bits < 0 || rq.frac_bits > 62) {
    op_error(op, fmt::format("requantization frac_bits {} outside 0..62", rq.frac_bits));
  }
  if (rq.out_min < 0 || rq.out_min > rq.out_max || rq.out_max > tensor_max(out_t.bits)) {
    op_error(op, fmt::format("requantization clamps to [{}, {}], outside the {}-bit output [0, {}]",
                             rq.out_min, rq.out_max, out_t.bits, tensor_max(out_t.bits)));
  }
  const bool conv = op.kind == HwOpKind::kConv;
  if (rq.has_residual != (op.residual >= 0)) {
    op_error(op, rq.has_residual ? "requantization adds a residual the op does not have"
                                 : "the op adds a residual its requantization ignores");
  }
  if (rq.relu_before_residual != (conv && op.relu_before_residual) ||
      rq.relu_after_residual != (conv && op.relu_after_residual)) {
    op_error(op, "requantization ReLU flags differ from the op's");
  }
}

// ---------------------------------------------------------------------------
// Execution (shared by reference_execute and the calibration in synthetic_model).
// ---------------------------------------------------------------------------

IntTensor rotate_groups(const IntTensor& x, int groups, int rotate) {
  // cyclic_group_permute with direction +1 makes output group g hold input
  // group g - 1; `rotate` of them make conv group g read input group g - rotate.
  IntTensor out = kernels::cyclic_group_permute(x, groups, +1);
  for (int i = 1; i < rotate; ++i) out = kernels::cyclic_group_permute(out, groups, +1);
  return out;
}

// acc = conv2d(X rotated, W signed), channels in conv order (before the shuffle).
AccTensor conv_accumulators(const HwOp& op, const IntTensor& weights, const IntTensor& x) {
  IntTensor w_signed = weights;
  if (op.uniform_quantizer) {
    for (auto& v : w_signed.values()) v = kernels::palquant_weight_integer(v, op.w_bits);
  }
  kernels::Conv2dParams cp;
  cp.stride_h = op.sh;
  cp.stride_w = op.sw;
  cp.pad_h = op.ph;
  cp.pad_w = op.pw;
  cp.dilation_h = op.dh;
  cp.dilation_w = op.dw;
  cp.groups = op.groups;
  AccTensor acc =
      op.in_group_rotate != 0
          ? kernels::conv2d(rotate_groups(x, op.groups, op.in_group_rotate), w_signed, cp)
          : kernels::conv2d(x, w_signed, cp);
  if (acc.c() != op.out.c || acc.h() != op.out.h || acc.w() != op.out.w) {
    throw InternalError(fmt::format("integer model: {} produced ({}, {}, {}), expected {}",
                                    describe(op), acc.c(), acc.h(), acc.w(), to_string(op.out)));
  }
  return acc;
}

// out[p] = requantize_element(acc[src(p)], residual[p], src(p), requant).
IntTensor conv_output(const HwOp& op, const AccTensor& acc, const IntTensor* residual,
                      const RequantParams& rq) {
  IntTensor out(acc.n(), op.out.c, op.out.h, op.out.w);
  const size_t plane = static_cast<size_t>(op.out.h) * op.out.w;
  const bool shuffle = op.out_shuffle_groups > 1;
  for (int n = 0; n < acc.n(); ++n) {
    for (int p = 0; p < op.out.c; ++p) {
      const int c =
          shuffle ? kernels::channel_shuffle_source(p, op.out.c, op.out_shuffle_groups) : p;
      const int64_t* a = acc.data() + acc.index(n, c, 0, 0);
      const int32_t* r = residual ? residual->data() + residual->index(n, p, 0, 0) : nullptr;
      int32_t* o = out.data() + out.index(n, p, 0, 0);
      for (size_t k = 0; k < plane; ++k)
        o[k] = kernels::requantize_element(a[k], r ? r[k] : 0, c, rq);
    }
  }
  return out;
}

IntTensor pool_output(const HwOp& op, const RequantParams& rq, const IntTensor& x) {
  switch (op.kind) {
    case HwOpKind::kMaxPool:
      return kernels::max_pool2d(x, op.kh, op.sh, op.ph);
    case HwOpKind::kAvgPool:
      return kernels::requantize(kernels::sum_pool2d(x, op.kh, op.sh, op.ph), rq);
    case HwOpKind::kGlobalAvgPool:
      return kernels::requantize(kernels::global_sum_pool(x), rq);
    case HwOpKind::kCopy: {
      // out[p] = x[src(p)]: channel c lands at its shuffled position, as a
      // convolution's outputs do.
      IntTensor out(x.n(), x.c(), x.h(), x.w());
      const size_t plane = static_cast<size_t>(x.h()) * x.w();
      for (int n = 0; n < x.n(); ++n) {
        for (int p = 0; p < x.c(); ++p) {
          const int c = op.out_shuffle_groups > 1
                            ? kernels::channel_shuffle_source(p, x.c(), op.out_shuffle_groups)
                            : p;
          std::copy_n(x.data() + x.index(n, c, 0, 0), plane, out.data() + out.index(n, p, 0, 0));
        }
      }
      return out;
    }
    case HwOpKind::kConv:
      break;
  }
  throw InternalError(fmt::format("integer model: {} is not a pool", describe(op)));
}

// Tensor values by id. A view reads and writes its channels of the tensor
// that owns its space (a concatenation's inputs are written into it; a
// split reads a range of it), as DRAM holds them.
class TensorStore {
 public:
  explicit TensorStore(const HwGraph& g) : g_(g) {}

  void write(int id, IntTensor v) {
    const HwTensor& t = g_.tensors[static_cast<size_t>(id)];
    if (!t.is_view()) {
      owners_[id] = std::move(v);
      return;
    }
    const HwTensor& o = g_.tensors[static_cast<size_t>(t.view_of)];
    auto it = owners_.find(t.view_of);
    if (it == owners_.end())
      it = owners_.emplace(t.view_of, IntTensor(v.n(), o.shape.c, o.shape.h, o.shape.w)).first;
    IntTensor& owner = it->second;
    const size_t plane = static_cast<size_t>(v.h()) * v.w();
    for (int n = 0; n < v.n(); ++n) {
      for (int c = 0; c < v.c(); ++c) {
        std::copy_n(v.data() + v.index(n, c, 0, 0), plane,
                    owner.data() + owner.index(n, t.view_offset + t.view_stride * c, 0, 0));
      }
    }
  }

  bool has(int id) const { return owners_.count(g_.storage_of(id)) != 0; }

  const IntTensor& read(const HwOp& op, int id, const char* what) {
    if (!has(id)) op_error(op, fmt::format("reads a {} tensor that no earlier op writes", what));
    const HwTensor& t = g_.tensors[static_cast<size_t>(id)];
    if (!t.is_view()) return owners_.at(id);
    IntTensor& v = extracted_[id];
    v = extract(t, owners_.at(t.view_of));
    return v;
  }

  // Every tensor whose values exist, views included.
  std::map<int, IntTensor> all() const {
    std::map<int, IntTensor> out;
    for (const HwTensor& t : g_.tensors) {
      auto it = owners_.find(g_.storage_of(t.id));
      if (it == owners_.end()) continue;
      out[t.id] = t.is_view() ? extract(t, it->second) : it->second;
    }
    return out;
  }

 private:
  static IntTensor extract(const HwTensor& t, const IntTensor& owner) {
    IntTensor v(owner.n(), t.shape.c, owner.h(), owner.w());
    const size_t plane = static_cast<size_t>(v.h()) * v.w();
    for (int n = 0; n < v.n(); ++n) {
      for (int c = 0; c < v.c(); ++c) {
        std::copy_n(owner.data() + owner.index(n, t.view_offset + t.view_stride * c, 0, 0), plane,
                    v.data() + v.index(n, c, 0, 0));
      }
    }
    return v;
  }

  const HwGraph& g_;
  std::map<int, IntTensor> owners_;
  std::map<int, IntTensor> extracted_;
};

// ---------------------------------------------------------------------------
// Synthetic parameters.
//
// The requantization of a conv is calibrated on the synthetic input, the way a
// batch norm is: the graph runs op by op, and each conv's parameters are set
// from the per-channel mean m_c and standard deviation s_c of its actual
// accumulators, so that its output has mean mid = (2^bits - 1) / 2 and standard
// deviation (2^bits - 1) / 4 over the output range (about 2.3% of a wide output
// saturates at either end; a 2-bit output uses all four levels). A closed-form
// estimate from the operand ranges is not enough: LSQ weights have mean -1/2,
// so every output channel carries a common component (the sum of the inputs)
// that the next layer amplifies by sum(w) ~ N/2 against sqrt(N) for the rest;
// after a few layers it dominates and the outputs saturate.
//
// With a residual, the conv part (standardized per channel, after the ReLU
// that precedes the addition) and the residual (standardized over the tensor)
// are mixed half and half; the mix's actual mean and deviation then set one
// common factor and the residual offset. A factor k > 0 commutes with the ReLU,
// so the shape is kept.
// ---------------------------------------------------------------------------

// Uniform integers over [lo, lo + 2^bits - 1]: exactly uniform and portable
// (the generator's top bits, not a library distribution).
int32_t draw(std::mt19937_64& rng, int bits, int32_t lo) {
  return lo + static_cast<int32_t>(rng() >> (64 - bits));
}

int64_t to_fixed(double v, int frac_bits) {
  const double scaled = std::ldexp(v, frac_bits);
  if (!(std::fabs(scaled) < 9.0e18)) {
    throw InternalError(fmt::format("synthetic_model: fixed-point value {} out of range", v));
  }
  return std::llround(scaled);
}

// Running mean and standard deviation (Welford: no cancellation for a large mean).
struct Moments {
  double m = 0, m2 = 0;
  int64_t count = 0;
  void add(double v) {
    ++count;
    const double d = v - m;
    m += d / static_cast<double>(count);
    m2 += d * (v - m);
  }
  double mean() const { return m; }
  double sd() const { return count ? std::sqrt(m2 / static_cast<double>(count)) : 0.0; }
};

// An accumulator or residual that (almost) does not vary still gets a finite scale.
constexpr double kMinSd = 0.5;
// Fewer accumulators per channel than this: pooled statistics (see design_conv).
constexpr int64_t kMinSamples = 32;

RequantParams design_conv(const HwOp& op, const HwTensor& out_t, const IntTensor& x,
                          const IntTensor& weights, const AccTensor& acc,
                          const IntTensor* residual) {
  const double range = static_cast<double>(tensor_max(out_t.bits));
  const double mid = range / 2, target_sd = range / 4;
  const int cout = op.out.c;
  const size_t plane = static_cast<size_t>(acc.h()) * acc.w();

  // Per-channel centre and spread of the accumulators. With few samples per
  // channel (an FC layer has one per batch element) a channel's own statistics
  // say nothing; then its centre is the input mean times its weight sum and the
  // spread is pooled over all channels.
  std::vector<double> centre(static_cast<size_t>(cout)), spread(static_cast<size_t>(cout));
  if (static_cast<int64_t>(plane) * acc.n() >= kMinSamples) {
    std::vector<Moments> ch(static_cast<size_t>(cout));
    for (int n = 0; n < acc.n(); ++n) {
      for (int c = 0; c < cout; ++c) {
        const int64_t* a = acc.data() + acc.index(n, c, 0, 0);
        for (size_t k = 0; k < plane; ++k)
          ch[static_cast<size_t>(c)].add(static_cast<double>(a[k]));
      }
    }
    for (size_t c = 0; c < centre.size(); ++c) {
      centre[c] = ch[c].mean();
      spread[c] = std::max(ch[c].sd(), kMinSd);
    }
  } else {
    Moments in;
    for (int32_t v : x.values()) in.add(v);
    const size_t per_channel = static_cast<size_t>(weights.c()) * weights.h() * weights.w();
    for (size_t c = 0; c < centre.size(); ++c) {
      double sum = 0;
      for (size_t k = 0; k < per_channel; ++k) {
        const int32_t w = weights.data()[c * per_channel + k];
        sum += op.uniform_quantizer ? kernels::palquant_weight_integer(w, op.w_bits) : w;
      }
      centre[c] = in.mean() * sum;
    }
    double sq = 0;
    for (int n = 0; n < acc.n(); ++n) {
      for (int c = 0; c < cout; ++c) {
        const int64_t* a = acc.data() + acc.index(n, c, 0, 0);
        for (size_t k = 0; k < plane; ++k) {
          const double d = static_cast<double>(a[k]) - centre[static_cast<size_t>(c)];
          sq += d * d;
        }
      }
    }
    const double pooled = std::sqrt(sq / static_cast<double>(acc.size()));
    std::fill(spread.begin(), spread.end(), std::max(pooled, kMinSd));
  }
  // Real-valued parameters: t = acc * scale_c + offset_c (+ r * rs + ro).
  std::vector<double> scale(static_cast<size_t>(cout)), offset(static_cast<size_t>(cout));
  double rs = 0, ro = 0;
  if (!residual) {
    for (size_t c = 0; c < scale.size(); ++c) {
      scale[c] = target_sd / spread[c];
      offset[c] = mid - scale[c] * centre[c];
    }
  } else {
    // max(N(0, 1), 0) has variance 1/2 - 1/(2 pi): the conv part is widened so
    // that it still carries half the variance after the ReLU.
    constexpr double kPi = 3.14159265358979323846;
    const double alpha =
        op.relu_before_residual ? 1 / std::sqrt(2 * (0.5 - 1 / (2 * kPi))) : 1 / std::sqrt(2.0);
    const double beta = 1 / std::sqrt(2.0);
    for (size_t c = 0; c < scale.size(); ++c) {
      scale[c] = alpha / spread[c];
      offset[c] = -scale[c] * centre[c];
    }
    Moments r;
    for (int32_t v : residual->values()) r.add(v);
    rs = beta / std::max(r.sd(), kMinSd);
    ro = -rs * r.mean();
    Moments mix;
    for (int n = 0; n < acc.n(); ++n) {
      for (int p = 0; p < cout; ++p) {
        const int c = op.out_shuffle_groups > 1
                          ? kernels::channel_shuffle_source(p, cout, op.out_shuffle_groups)
                          : p;
        const int64_t* a = acc.data() + acc.index(n, c, 0, 0);
        const int32_t* rv = residual->data() + residual->index(n, p, 0, 0);
        for (size_t k = 0; k < plane; ++k) {
          double t = static_cast<double>(a[k]) * scale[static_cast<size_t>(c)] +
                     offset[static_cast<size_t>(c)];
          if (op.relu_before_residual) t = std::max(t, 0.0);
          mix.add(t + rv[k] * rs + ro);
        }
      }
    }
    const double k = target_sd / std::max(mix.sd(), 1e-6);
    for (size_t c = 0; c < scale.size(); ++c) {
      scale[c] *= k;
      offset[c] *= k;
    }
    rs *= k;
    ro = k * ro + (mid - k * mix.mean());
  }

  // About 20 significant bits in the smallest scale.
  const double min_scale = *std::min_element(scale.begin(), scale.end());
  const int frac_bits = std::clamp(20 - static_cast<int>(std::floor(std::log2(min_scale))), 8, 40);
  RequantParams rq;
  rq.frac_bits = frac_bits;
  for (size_t c = 0; c < scale.size(); ++c) {
    rq.scale.push_back(std::max<int64_t>(1, to_fixed(scale[c], frac_bits)));
    rq.offset.push_back(to_fixed(offset[c], frac_bits));
  }
  rq.relu_before_residual = op.relu_before_residual;
  rq.relu_after_residual = op.relu_after_residual;
  rq.has_residual = residual != nullptr;
  if (residual) {
    rq.residual_scale = std::max<int64_t>(1, to_fixed(rs, frac_bits));
    rq.residual_offset = to_fixed(ro, frac_bits);
    if (rq.residual_offset == 0) rq.residual_offset = 1;  // nonzero, as documented
  }
  rq.out_min = 0;
  rq.out_max = tensor_max(out_t.bits);
  return rq;
}

// Average pools: out = round(sum / window) (count_include_pad), offset 0.
RequantParams design_avg_pool(const HwOp& op, const HwTensor& out_t) {
  const int window = op.kind == HwOpKind::kAvgPool ? op.kh * op.kw : op.in.h * op.in.w;
  RequantParams rq;
  rq.frac_bits = 32;
  rq.scale.assign(static_cast<size_t>(op.out.c), to_fixed(1.0 / window, rq.frac_bits));
  rq.offset.assign(static_cast<size_t>(op.out.c), 0);
  rq.out_min = 0;
  rq.out_max = tensor_max(out_t.bits);
  return rq;
}

}  // namespace

IntegerModel synthetic_model(const HwGraph& graph, uint64_t seed) {
  if (graph.input_tensor < 0 || static_cast<size_t>(graph.input_tensor) >= graph.tensors.size()) {
    throw InputError("integer model: the graph has no input tensor");
  }
  std::mt19937_64 rng(seed);
  IntegerModel model;
  const HwTensor& in_t = graph.tensors[static_cast<size_t>(graph.input_tensor)];
  if (in_t.bits < 1 || in_t.bits > kMaxTensorBits) {
    throw InputError(
        fmt::format("integer model: input tensor '{}' has {} bits", in_t.name, in_t.bits));
  }
  model.input = IntTensor(in_t.batch, in_t.shape.c, in_t.shape.h, in_t.shape.w);
  for (auto& v : model.input.values()) v = draw(rng, in_t.bits, 0);

  // Calibration run: every tensor as the finished model computes it.
  check_views(graph);
  TensorStore tensors(graph);
  tensors.write(graph.input_tensor, model.input);
  model.ops.resize(graph.ops.size());
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const HwOp& op = graph.ops[i];
    check_graph_op(graph, op);
    const HwTensor& out_t = graph.tensors[static_cast<size_t>(op.output)];
    const IntTensor& x = tensors.read(op, op.input, "input");
    OpParameters& params = model.ops[i];
    IntTensor out;
    if (op.kind == HwOpKind::kConv) {
      params.weights = IntTensor(op.out.c, op.in.c / op.groups, op.kh, op.kw);
      const bool signed_levels = op.w_signed && !op.uniform_quantizer;
      const int32_t lo = kernels::operand_min(op.w_bits, signed_levels);
      for (auto& v : params.weights.values()) v = draw(rng, op.w_bits, lo);
      const IntTensor* residual =
          op.residual >= 0 ? &tensors.read(op, op.residual, "residual") : nullptr;
      const AccTensor acc = conv_accumulators(op, params.weights, x);
      params.requant = design_conv(op, out_t, x, params.weights, acc, residual);
      out = conv_output(op, acc, residual, params.requant);
    } else {
      if (op.kind == HwOpKind::kMaxPool || op.kind == HwOpKind::kCopy) {
        params.requant.out_min = 0;  // unused: a max pool or copy keeps the encoding
        params.requant.out_max = tensor_max(out_t.bits);
        params.requant.scale.clear();
        params.requant.offset.clear();
      } else {
        params.requant = design_avg_pool(op, out_t);
      }
      out = pool_output(op, params.requant, x);
    }
    tensors.write(op.output, std::move(out));
  }
  return model;
}

void validate_model(const HwGraph& graph, const IntegerModel& model) {
  if (model.ops.size() != graph.ops.size()) {
    throw InputError(fmt::format("integer model: {} op parameter sets for a graph of {} ops",
                                 model.ops.size(), graph.ops.size()));
  }
  if (graph.input_tensor < 0 || static_cast<size_t>(graph.input_tensor) >= graph.tensors.size()) {
    throw InputError("integer model: the graph has no input tensor");
  }
  const HwTensor& in_t = graph.tensors[static_cast<size_t>(graph.input_tensor)];
  if (in_t.bits < 1 || in_t.bits > kMaxTensorBits) {
    throw InputError(
        fmt::format("integer model: input tensor '{}' has {} bits", in_t.name, in_t.bits));
  }
  if (!has_dims(model.input, in_t.batch, in_t.shape)) {
    throw InputError(fmt::format("integer model: input is {}, the graph's input tensor '{}' is {}",
                                 dims(model.input), in_t.name, dims(in_t.batch, in_t.shape)));
  }
  if (const long long at = first_outside(model.input, 0, tensor_max(in_t.bits)); at >= 0) {
    throw InputError(fmt::format(
        "integer model: input element {} = {} outside the {}-bit range [0, {}]", at,
        model.input.values()[static_cast<size_t>(at)], in_t.bits, tensor_max(in_t.bits)));
  }
  check_views(graph);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const HwOp& op = graph.ops[i];
    const OpParameters& params = model.ops[i];
    check_graph_op(graph, op);
    if (op.kind == HwOpKind::kConv) {
      const Shape wshape{op.in.c / op.groups, op.kh, op.kw};
      if (!has_dims(params.weights, op.out.c, wshape)) {
        op_error(op, fmt::format("weights are {}, expected {}", dims(params.weights),
                                 dims(op.out.c, wshape)));
      }
      const bool signed_levels = op.w_signed && !op.uniform_quantizer;
      const int32_t lo = kernels::operand_min(op.w_bits, signed_levels);
      const int32_t hi = kernels::operand_max(op.w_bits, signed_levels);
      if (const long long at = first_outside(params.weights, lo, hi); at >= 0) {
        op_error(op, fmt::format("weight element {} = {} outside the {}-bit {} range [{}, {}]", at,
                                 params.weights.values()[static_cast<size_t>(at)], op.w_bits,
                                 op.uniform_quantizer ? "uniform-level"
                                                      : (signed_levels ? "signed" : "unsigned"),
                                 lo, hi));
      }
      check_requant(graph, op, params.requant, op.out.c);
    } else {
      if (!params.weights.empty()) {
        op_error(op,
                 op.kind == HwOpKind::kCopy ? "a copy has no weights" : "a pool has no weights");
      }
      if (op.kind != HwOpKind::kMaxPool && op.kind != HwOpKind::kCopy) {
        check_requant(graph, op, params.requant, op.out.c);
      }
    }
  }
}

std::map<int, IntTensor> reference_execute(const HwGraph& graph, const IntegerModel& model) {
  validate_model(graph, model);
  TensorStore tensors(graph);
  tensors.write(graph.input_tensor, model.input);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const HwOp& op = graph.ops[i];
    const OpParameters& params = model.ops[i];
    const IntTensor& x = tensors.read(op, op.input, "input");
    IntTensor out;
    if (op.kind == HwOpKind::kConv) {
      const IntTensor* residual =
          op.residual >= 0 ? &tensors.read(op, op.residual, "residual") : nullptr;
      out = conv_output(op, conv_accumulators(op, params.weights, x), residual, params.requant);
    } else {
      out = pool_output(op, params.requant, x);
    }
    if (!has_dims(out, x.n(), op.out)) {
      throw InternalError(fmt::format("reference_execute: {} produced {}, expected {}",
                                      describe(op), dims(out), dims(x.n(), op.out)));
    }
    tensors.write(op.output, std::move(out));
  }
  return tensors.all();
}

}  // namespace palsim::frontend
