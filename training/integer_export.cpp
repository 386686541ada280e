#include "training/integer_export.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "kernels/quantize.h"

namespace palsim::training {

using frontend::HwOp;
using frontend::HwOpKind;
using Real = long double;

namespace {

[[noreturn]] void cannot(const HwOp& op, const std::string& why) {
  throw InputError(fmt::format("export: op '{}': {}", op.name, why));
}

// value = scale * q + offset: what a reader of tensor `t` sees for level q.
struct LevelValue {
  Real scale = 1, offset = 0;
};

// The value a conv with uniform weights reads (a_hat), or any other reader
// (the dequantized value), exactly (the float64 reference computes u - l
// without rounding it to single precision).
LevelValue read_value(const TrainedTensor& t, bool normalized) {
  switch (t.kind) {
    case ActQuant::kImage:
      return {Real{1} / 255, 0};
    case ActQuant::kUniform:
      if (normalized) return {Real{1} / t.max_level(), 0};
      return {(static_cast<Real>(t.upper) - t.lower) / t.max_level(), t.lower};
    case ActQuant::kLsq:
      return {t.step, 0};
    case ActQuant::kFloat:
      break;
  }
  throw InputError(fmt::format("export: tensor '{}' is read but not quantized", t.name));
}

// The output quantizer as level = round(k (x - z0)), clamped to 0..L.
struct OutputMap {
  Real k = 1, z0 = 0;
};

OutputMap output_map(const TrainedTensor& t) {
  if (t.kind == ActQuant::kUniform) {
    // (x - l) / (u - l) * L, exactly (as the float64 reference).
    return {static_cast<Real>(t.max_level()) / (static_cast<Real>(t.upper) - t.lower), t.lower};
  }
  if (t.kind == ActQuant::kLsq) return {Real{1} / t.step, 0};
  throw InputError(fmt::format("export: tensor '{}' has no quantizer an op can write", t.name));
}

// Real-valued requantization of one op, before rounding to fixed point.
struct RealRequant {
  std::vector<Real> scale, offset;
  Real residual_scale = 0, residual_offset = 0;
};

int64_t to_fixed(Real v, int frac_bits) {
  return std::llround(std::ldexp(v, frac_bits));
}

// Fixed point with the most fraction bits that keep every parameter below
// 2^61 (the kernel's 128-bit arithmetic has room for it).
void to_fixed(const HwOp& op, const RealRequant& r, kernels::RequantParams& rq) {
  Real largest = std::max(std::fabs(r.residual_scale), std::fabs(r.residual_offset));
  for (size_t c = 0; c < r.scale.size(); ++c) {
    largest = std::max({largest, std::fabs(r.scale[c]), std::fabs(r.offset[c])});
  }
  if (!std::isfinite(static_cast<double>(largest)))
    cannot(op, "a requantization parameter is not finite");
  int frac_bits = 62;
  if (largest > 0) {
    int exponent = 0;
    std::frexp(largest, &exponent);  // largest < 2^exponent
    frac_bits = std::min(62, 61 - exponent);
  }
  if (frac_bits < 0)
    cannot(op, fmt::format("a requantization parameter ({}) is too large",
                           static_cast<double>(largest)));
  rq.frac_bits = frac_bits;
  rq.scale.clear();
  rq.offset.clear();
  for (size_t c = 0; c < r.scale.size(); ++c) {
    rq.scale.push_back(to_fixed(r.scale[c], frac_bits));
    rq.offset.push_back(to_fixed(r.offset[c], frac_bits));
  }
  rq.residual_scale = to_fixed(r.residual_scale, frac_bits);
  rq.residual_offset = to_fixed(r.residual_offset, frac_bits);
}

// y_c = a_c acc + b_c: the conv, its bias and folded batch norm (before the
// ReLU, shuffle and residual).
struct ConvAffine {
  std::vector<Real> a, b;
};

ConvAffine conv_affine(const HwOp& op, const TrainedOp& o, const TrainedTensor& in,
                       const kernels::IntTensor& weights) {
  const bool uniform = o.weight_quant == WeightQuant::kUniform;
  if (op.uniform_quantizer != uniform) {
    cannot(op, "the hardware graph's weight encoding differs from the trained quantizer");
  }
  if (o.weight_quant == WeightQuant::kNone) cannot(op, "its weights are not quantized");
  const LevelValue read = read_value(in, uniform);
  if (read.offset != 0 && (op.ph != 0 || op.pw != 0)) {
    cannot(op, fmt::format("it reads the uniform tensor '{}' dequantized (lower bound {}) with "
                           "padding: zero padding is not a level",
                           in.name, in.lower));
  }
  const Real alpha = std::fabs(static_cast<Real>(o.alpha));
  const Real w_factor = uniform ? alpha / ((int32_t{1} << o.w_bits) - 1) : Real{o.w_step};
  const int channels = op.out.c;
  const size_t per_channel = weights.size() / static_cast<size_t>(channels);
  ConvAffine r;
  for (int c = 0; c < channels; ++c) {
    Real a = w_factor * read.scale;
    Real b = o.bias.empty() ? 0 : (uniform ? alpha : Real{1}) * o.bias[static_cast<size_t>(c)];
    if (read.offset != 0) {
      int64_t sum = 0;
      for (size_t k = 0; k < per_channel; ++k) {
        const int32_t q = weights.values()[static_cast<size_t>(c) * per_channel + k];
        sum += uniform ? kernels::palquant_weight_integer(q, o.w_bits) : q;
      }
      b += w_factor * read.offset * static_cast<Real>(sum);
    }
    if (!o.bn.empty()) {
      const size_t i = static_cast<size_t>(c);
      const Real g =
          static_cast<Real>(o.bn_weight[i]) /
          std::sqrt(static_cast<Real>(o.bn_running_var[i]) + static_cast<Real>(o.bn_eps));
      a *= g;
      b = g * (b - o.bn_running_mean[i]) + o.bn_bias[i];
    }
    r.a.push_back(a);
    r.b.push_back(b);
  }
  return r;
}

int32_t tensor_max(const frontend::HwTensor& t) {
  return kernels::operand_max(t.bits, false);
}

void check_bits(const HwOp& op, const frontend::HwTensor& hw, const TrainedTensor& t) {
  if (t.kind != ActQuant::kFloat && t.bits != hw.bits) {
    cannot(op, fmt::format("tensor '{}' is {}-bit in the hardware graph but quantized to {} bits",
                           t.name, hw.bits, t.bits));
  }
}

}  // namespace

IntegerModelFile integer_model_of(const TrainedModel& m, double logit_min, double logit_max) {
  if (!m.exportable()) {
    throw InputError(
        fmt::format("export: the model is not exportable: {}", m.not_exportable_reason()));
  }
  IntegerModelFile f;
  f.network = m.network();
  f.graph = integer_model_graph(f.network);
  if (f.graph.ops.size() != m.graph().ops.size() ||
      f.graph.tensors.size() != m.graph().tensors.size()) {
    throw InternalError("export: the trained model's graph differs from the model file's");
  }
  const auto& g = f.graph;
  const TrainedTensor& input = m.tensors()[static_cast<size_t>(g.input_tensor)];
  if (input.kind != ActQuant::kImage) throw InputError("export: the network input is not an image");
  f.input_scale = 1.0 / 255.0;
  f.config_yaml = m.config_yaml();
  f.model.ops.resize(g.ops.size());
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const HwOp& op = g.ops[i];
    const TrainedOp& o = m.ops()[i];
    if (o.name != op.name) throw InternalError("export: ops out of order");
    const TrainedTensor& in = m.tensors()[static_cast<size_t>(op.input)];
    const TrainedTensor& out = m.tensors()[static_cast<size_t>(op.output)];
    const frontend::HwTensor& out_hw = g.tensors[static_cast<size_t>(op.output)];
    check_bits(op, g.tensors[static_cast<size_t>(op.input)], in);
    check_bits(op, out_hw, out);
    frontend::OpParameters& p = f.model.ops[i];
    kernels::RequantParams& rq = p.requant;
    rq.out_min = 0;
    rq.out_max = tensor_max(out_hw);
    if (op.kind == HwOpKind::kMaxPool || op.kind == HwOpKind::kCopy) {
      // Both move levels: the two tensors must share one quantizer.
      if (out.quantizer != in.quantizer)
        cannot(op, fmt::format("a {} must keep its input's quantizer", to_string(op.kind)));
      continue;
    }
    RealRequant r;
    if (op.kind == HwOpKind::kConv) {
      const std::vector<int32_t> levels = o.weight_levels();
      p.weights = kernels::IntTensor(
          static_cast<int>(o.weight_shape[0]), static_cast<int>(o.weight_shape[1]),
          static_cast<int>(o.weight_shape[2]), static_cast<int>(o.weight_shape[3]));
      if (levels.size() != p.weights.size()) cannot(op, "weight shape differs from the graph's");
      std::copy(levels.begin(), levels.end(), p.weights.values().begin());
      const ConvAffine y = conv_affine(op, o, in, p.weights);
      if (out.kind == ActQuant::kFloat) {
        // The logits: read from the accumulators; the 8-bit output tensor
        // holds them over [logit_min, logit_max].
        if (op.output != g.output_tensor || op.residual >= 0 || op.relu_before_residual ||
            op.relu_after_residual || op.out_shuffle_groups > 1) {
          cannot(op,
                 "only the final FC may write float values, and without residual, ReLU or shuffle");
        }
        for (size_t c = 0; c < y.a.size(); ++c) {
          f.logit_scale.push_back(static_cast<double>(y.a[c]));
          f.logit_offset.push_back(static_cast<double>(y.b[c]));
        }
        const Real lo = logit_min,
                   hi = logit_max > logit_min ? Real{logit_max} : Real{logit_min} + 1;
        const Real k = static_cast<Real>(rq.out_max) / (hi - lo);
        for (size_t c = 0; c < y.a.size(); ++c) {
          r.scale.push_back(k * y.a[c]);
          r.offset.push_back(k * (y.b[c] - lo));
        }
        to_fixed(op, r, rq);
        continue;
      }
      const OutputMap q = output_map(out);
      const bool residual = op.residual >= 0;
      for (size_t c = 0; c < y.a.size(); ++c) {
        r.scale.push_back(q.k * y.a[c]);
        r.offset.push_back(q.k * (residual ? y.b[c] : y.b[c] - q.z0));
      }
      if (residual) {
        const TrainedTensor& res = m.tensors()[static_cast<size_t>(op.residual)];
        check_bits(op, g.tensors[static_cast<size_t>(op.residual)], res);
        const LevelValue v = read_value(res, false);
        r.residual_scale = q.k * v.scale;
        r.residual_offset = q.k * (v.offset - q.z0);
      }
      rq.relu_before_residual = op.relu_before_residual;
      rq.relu_after_residual = op.relu_after_residual;
      rq.has_residual = residual;
      // A ReLU on the op's final value: the level of 0 bounds the level from below.
      if (op.relu_after_residual || (op.relu_before_residual && !residual))
        rq.out_min = out.level(0.0f);
      to_fixed(op, r, rq);
    } else if (op.kind == HwOpKind::kAvgPool || op.kind == HwOpKind::kGlobalAvgPool) {
      // Average pools: the mean of the values in the window (count_include_pad).
      const LevelValue v = read_value(in, false);
      if (v.offset != 0 && (op.ph != 0 || op.pw != 0)) {
        cannot(op, "it averages a uniform tensor with padding: zero padding is not a level");
      }
      const int window = op.kind == HwOpKind::kAvgPool ? op.kh * op.kw : op.in.h * op.in.w;
      const OutputMap q = output_map(out);
      r.scale.assign(static_cast<size_t>(op.out.c), q.k * v.scale / window);
      r.offset.assign(static_cast<size_t>(op.out.c), q.k * (v.offset - q.z0));
      to_fixed(op, r, rq);
    } else {
      cannot(op, fmt::format("a {} op has no integer form in the model file", to_string(op.kind)));
    }
  }
  if (f.logit_scale.empty())
    throw InputError("export: the network does not end in an FC writing logits");
  return f;
}

void compare_levels(const TrainedModel& m, const IntegerPrediction& p,
                    const std::vector<std::vector<double>>& values, int index,
                    LevelComparison& into, Arithmetic arithmetic) {
  const auto& g = m.graph();
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const TrainedTensor& tt = m.tensors()[t];
    const std::vector<double>& v = values[t];
    // A view's levels are its owner's (compared there, once).
    if (v.empty() || g.tensors[t].is_view()) continue;
    const size_t per_image = static_cast<size_t>(g.tensors[t].shape.elements());
    const double* x = v.data() + static_cast<size_t>(index) * per_image;
    if (static_cast<int>(t) == g.output_tensor) {
      for (size_t c = 0; c < p.logits.size(); ++c) {
        into.max_logit_error =
            std::max(into.max_logit_error, std::fabs(p.logits[c] - static_cast<double>(x[c])));
      }
      continue;
    }
    if (tt.kind == ActQuant::kFloat) continue;
    const kernels::IntTensor& q = p.tensors.at(static_cast<int>(t));
    if (q.size() != per_image) throw InternalError("compare_levels: tensor sizes differ");
    int64_t bad = 0;
    for (size_t e = 0; e < per_image; ++e) {
      const int32_t trained = arithmetic == Arithmetic::kFloat32
                                  ? tt.level(static_cast<float>(x[e]))
                                  : tt.level_exact(x[e]);
      if (q.values()[e] == trained) continue;
      ++bad;
      // The float value in level units (before rounding).
      const double scaled = tt.kind == ActQuant::kUniform
                                ? (static_cast<double>(x[e]) - tt.lower) * tt.max_level() /
                                      (static_cast<double>(tt.upper) - tt.lower)
                            : tt.kind == ActQuant::kLsq ? static_cast<double>(x[e]) / tt.step
                                                        : static_cast<double>(x[e]) * 255;
      if (std::fabs(scaled - std::floor(scaled) - 0.5) < 1e-3) {
        ++into.near_ties;
        ++into.near_ties_by_tensor[tt.name];
      }
    }
    into.levels += static_cast<int64_t>(per_image);
    if (bad) {
      into.mismatches += bad;
      into.mismatches_by_tensor[tt.name] += bad;
    }
  }
}

}  // namespace palsim::training
