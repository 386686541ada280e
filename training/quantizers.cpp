#include "training/quantizers.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace palsim::training {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Round half to even by the 1.5 * 2^(mantissa bits) trick: exact for
// |v| < 2^22 (float) / 2^51 (double) in the default rounding mode; the
// quantizers' arguments lie in [-128, 255]. Compiled without -ffast-math, the
// addition and subtraction are not folded.
template <typename T>
inline T rint_small(T v) {
  constexpr T kMagic = sizeof(T) == 4 ? T(12582912.0) : T(6755399441055744.0);
  return (v + kMagic) - kMagic;
}

template <typename T>
inline T clamp01(T v) {
  return std::min(std::max(v, T(0)), T(1));
}

// Reductions over fixed blocks, summed in order: the result does not depend on
// the number of threads.
constexpr int64_t kBlock = 1 << 15;

template <typename Fn>
void parallel_elements(int64_t n, Fn fn) {
  at::parallel_for(0, n, 1 << 14, [&](int64_t b, int64_t e) { fn(b, e); });
}

template <typename BlockFn>
std::vector<double> block_partials(int64_t n, int width, BlockFn fn) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks * width), 0.0);
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      fn(b * kBlock, std::min(n, (b + 1) * kBlock), partial.data() + b * width);
    }
  });
  return partial;
}

double sum_column(const std::vector<double>& partial, int width, int column) {
  double s = 0;
  for (size_t i = static_cast<size_t>(column); i < partial.size(); i += static_cast<size_t>(width))
    s += partial[i];
  return s;
}

torch::Tensor scalar_like(double v, const torch::Tensor& like) {
  return torch::full({}, v, like.options());
}

// ---------------------------------------------------------------------------
// Uniform quantizer.
// ---------------------------------------------------------------------------

struct UniformQuantFn : public torch::autograd::Function<UniformQuantFn> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor lower,
                               torch::Tensor upper, int64_t bits, double delta) {
    x = x.contiguous();
    torch::Tensor out = torch::empty_like(x);
    const int64_t n = x.numel();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "uniform_quantize", [&] {
      const scalar_t l = lower.item<scalar_t>();
      const scalar_t u = upper.item<scalar_t>();
      const scalar_t range = u - l;
      const scalar_t levels = static_cast<scalar_t>((int64_t{1} << bits) - 1);
      const scalar_t* xp = x.data_ptr<scalar_t>();
      scalar_t* op = out.data_ptr<scalar_t>();
      parallel_elements(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const scalar_t xn = clamp01((xp[i] - l) / range);
          op[i] = rint_small(xn * levels) / levels;
        }
      });
    });
    ctx->save_for_backward({x, lower, upper});
    ctx->saved_data["bits"] = bits;
    ctx->saved_data["delta"] = delta;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& lower = saved[1];
    const torch::Tensor& upper = saved[2];
    const int64_t bits = ctx->saved_data["bits"].toInt();
    const double delta = ctx->saved_data["delta"].toDouble();
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor gx = torch::empty_like(x);
    torch::Tensor gl, gu;
    const int64_t n = x.numel();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "uniform_quantize_backward", [&] {
      const scalar_t l = lower.item<scalar_t>();
      const scalar_t u = upper.item<scalar_t>();
      const scalar_t range = u - l;
      const scalar_t levels = static_cast<scalar_t>((int64_t{1} << bits) - 1);
      const scalar_t d = static_cast<scalar_t>(delta);
      const scalar_t* xp = x.data_ptr<scalar_t>();
      const scalar_t* gp = g.data_ptr<scalar_t>();
      scalar_t* gxp = gx.data_ptr<scalar_t>();
      const std::vector<double> partial =
          block_partials(n, 2, [&](int64_t b, int64_t e, double* acc) {
            double al = 0, au = 0;
            for (int64_t i = b; i < e; ++i) {
              const scalar_t xn = (xp[i] - l) / range;
              if (!(xn >= scalar_t(0) && xn <= scalar_t(1))) {
                gxp[i] = 0;
                continue;
              }
              scalar_t gi = gp[i];
              if (d != scalar_t(0)) {
                const scalar_t a = rint_small(xn * levels) / levels;
                const scalar_t sign = gi > 0 ? scalar_t(1) : (gi < 0 ? scalar_t(-1) : scalar_t(0));
                gi = gi * (scalar_t(1) + d * sign * (xn - a));
              }
              gxp[i] = gi / range;
              al += static_cast<double>(gi) * static_cast<double>(xp[i] - u);
              au -= static_cast<double>(gi) * static_cast<double>(xp[i] - l);
            }
            acc[0] = al;
            acc[1] = au;
          });
      const double r2 = static_cast<double>(range) * static_cast<double>(range);
      gl = scalar_like(sum_column(partial, 2, 0) / r2, lower);
      gu = scalar_like(sum_column(partial, 2, 1) / r2, upper);
    });
    return {gx, gl, gu, torch::Tensor(), torch::Tensor()};
  }
};

// ---------------------------------------------------------------------------
// LSQ.
// ---------------------------------------------------------------------------

struct LsqQuantFn : public torch::autograd::Function<LsqQuantFn> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor step,
                               int64_t qmin, int64_t qmax, double grad_scale) {
    x = x.contiguous();
    torch::Tensor out = torch::empty_like(x);
    const int64_t n = x.numel();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lsq_quantize", [&] {
      const scalar_t s = step.item<scalar_t>();
      const scalar_t lo = static_cast<scalar_t>(qmin), hi = static_cast<scalar_t>(qmax);
      const scalar_t* xp = x.data_ptr<scalar_t>();
      scalar_t* op = out.data_ptr<scalar_t>();
      parallel_elements(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const scalar_t z = std::min(std::max(xp[i] / s, lo), hi);
          op[i] = rint_small(z) * s;
        }
      });
    });
    ctx->save_for_backward({x, step});
    ctx->saved_data["qmin"] = qmin;
    ctx->saved_data["qmax"] = qmax;
    ctx->saved_data["grad_scale"] = grad_scale;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& step = saved[1];
    const int64_t qmin = ctx->saved_data["qmin"].toInt();
    const int64_t qmax = ctx->saved_data["qmax"].toInt();
    const double grad_scale = ctx->saved_data["grad_scale"].toDouble();
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor gx = torch::empty_like(x);
    torch::Tensor gs;
    const int64_t n = x.numel();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lsq_quantize_backward", [&] {
      const scalar_t s = step.item<scalar_t>();
      const scalar_t lo = static_cast<scalar_t>(qmin), hi = static_cast<scalar_t>(qmax);
      const scalar_t* xp = x.data_ptr<scalar_t>();
      const scalar_t* gp = g.data_ptr<scalar_t>();
      scalar_t* gxp = gx.data_ptr<scalar_t>();
      const std::vector<double> partial =
          block_partials(n, 1, [&](int64_t b, int64_t e, double* acc) {
            double as = 0;
            for (int64_t i = b; i < e; ++i) {
              const scalar_t z = xp[i] / s;
              const bool inside = z >= lo && z <= hi;
              const scalar_t q = rint_small(std::min(std::max(z, lo), hi));
              gxp[i] = inside ? gp[i] : scalar_t(0);
              as += static_cast<double>(gp[i]) * static_cast<double>(inside ? q - z : q);
            }
            acc[0] = as;
          });
      gs = scalar_like(sum_column(partial, 1, 0) * grad_scale, step);
    });
    return {gx, gs, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

float round_levels(float v) {
  return rint_small(v);
}

torch::Tensor uniform_quantize(const torch::Tensor& x, const torch::Tensor& lower,
                               const torch::Tensor& upper, int bits, double ewgs_delta) {
  return UniformQuantFn::apply(x, lower, upper, static_cast<int64_t>(bits), ewgs_delta);
}

torch::Tensor lsq_quantize(const torch::Tensor& x, const torch::Tensor& step, int qmin, int qmax,
                           double grad_scale) {
  return LsqQuantFn::apply(x, step, static_cast<int64_t>(qmin), static_cast<int64_t>(qmax),
                           grad_scale);
}

torch::Tensor uniform_levels(const torch::Tensor& x, float lower, float upper, int bits) {
  const torch::Tensor xf = x.to(torch::kFloat).contiguous();
  torch::Tensor q = torch::empty(xf.sizes(), torch::TensorOptions().dtype(torch::kInt));
  const float range = upper - lower;
  const float levels = static_cast<float>((1 << bits) - 1);
  const float* xp = xf.data_ptr<float>();
  int32_t* qp = q.data_ptr<int32_t>();
  for (int64_t i = 0; i < xf.numel(); ++i) {
    qp[i] = static_cast<int32_t>(rint_small(clamp01((xp[i] - lower) / range) * levels));
  }
  return q;
}

torch::Tensor lsq_levels(const torch::Tensor& x, float step, int qmin, int qmax) {
  const torch::Tensor xf = x.to(torch::kFloat).contiguous();
  torch::Tensor q = torch::empty(xf.sizes(), torch::TensorOptions().dtype(torch::kInt));
  const float lo = static_cast<float>(qmin), hi = static_cast<float>(qmax);
  const float* xp = xf.data_ptr<float>();
  int32_t* qp = q.data_ptr<int32_t>();
  for (int64_t i = 0; i < xf.numel(); ++i) {
    qp[i] = static_cast<int32_t>(rint_small(std::min(std::max(xp[i] / step, lo), hi)));
  }
  return q;
}

}  // namespace palsim::training
