// The quantizers' torch functions: forward levels equal the kernels' integer
// quantizers bit for bit (rounding half to even, single precision, the
// reference code's operation order), and the custom backward passes agree
// with finite differences of the straight-through surrogate (rounding residual
// frozen) for x, the bounds l / u, the LSQ step (times its gradient scale),
// the output scale alpha, and with the EWGS scaling formula.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "kernels/quantize.h"
#include "kernels/rounding.h"
#include "training/quantizers.h"

namespace palsim::training {
namespace {

torch::Tensor scalar(double v, bool grad = true, torch::Dtype dt = torch::kDouble) {
  torch::Tensor t = torch::full({}, v, torch::TensorOptions().dtype(dt));
  t.set_requires_grad(grad);
  return t;
}

TEST(Rounding, MagicConstantRoundingEqualsKernelsHalfToEven) {
  for (int k = -300; k <= 300; ++k) {
    for (float d : {0.0f, 0.25f, 0.5f, 0.75f}) {
      const float v = static_cast<float>(k) + d;
      for (float x : {v, std::nextafter(v, -1e9f), std::nextafter(v, 1e9f)}) {
        EXPECT_EQ(round_levels(x), kernels::round_half_even(x)) << x;
      }
    }
  }
  EXPECT_EQ(round_levels(0.5f), 0.0f);
  EXPECT_EQ(round_levels(1.5f), 2.0f);
  EXPECT_EQ(round_levels(2.5f), 2.0f);
  EXPECT_EQ(round_levels(-0.5f), 0.0f);
  EXPECT_EQ(round_levels(-1.5f), -2.0f);
}

TEST(UniformQuantize, LevelsEqualKernelsBitForBit) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> dist(-3.0f, 4.0f);
  for (int bits = 2; bits <= 8; ++bits) {
    const float l = -0.75f + 0.1f * static_cast<float>(bits), u = 2.5f;
    std::vector<float> xs;
    for (int i = 0; i < 4000; ++i) xs.push_back(dist(rng));
    // Values whose scaled form lies near every level boundary.
    const int L = (1 << bits) - 1;
    for (int q = 0; q <= L; ++q) {
      const float b = l + (u - l) * (static_cast<float>(q) + 0.5f) / static_cast<float>(L);
      for (int s = -3; s <= 3; ++s)
        xs.push_back(b + static_cast<float>(s) * 1e-7f * std::fabs(b + 1.0f));
    }
    const torch::Tensor x = torch::tensor(xs);
    const torch::Tensor a = uniform_quantize(x, scalar(l, false, torch::kFloat),
                                             scalar(u, false, torch::kFloat), bits, 0.0);
    const torch::Tensor q = uniform_levels(x, l, u, bits);
    const kernels::UniformQuantizer kq{bits, l, u};
    for (size_t i = 0; i < xs.size(); ++i) {
      const int32_t level = kq.quantize(xs[i]);
      ASSERT_EQ(q[static_cast<int64_t>(i)].item<int32_t>(), level) << xs[i];
      ASSERT_EQ(a[static_cast<int64_t>(i)].item<float>(), kq.activation_value(level)) << xs[i];
    }
  }
  // An exact tie: 0.5 * 3 = 1.5 rounds to 2 (even).
  const torch::Tensor a = uniform_quantize(torch::tensor({0.5f}), scalar(0, false, torch::kFloat),
                                           scalar(1, false, torch::kFloat), 2, 0.0);
  EXPECT_EQ(a[0].item<float>(), 2.0f / 3.0f);
}

TEST(LsqQuantize, LevelsEqualKernelsBitForBit) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> dist(-40.0f, 40.0f);
  for (int bits = 2; bits <= 8; ++bits) {
    for (bool is_signed : {true, false}) {
      const kernels::LsqQuantizer kq{bits, is_signed, 0.37f / static_cast<float>(bits)};
      std::vector<float> xs;
      for (int i = 0; i < 3000; ++i) xs.push_back(dist(rng) * kq.step / 4);
      for (int k = kq.qmin(); k <= kq.qmax(); ++k)
        xs.push_back((static_cast<float>(k) + 0.5f) * kq.step);
      const torch::Tensor x = torch::tensor(xs);
      const torch::Tensor y =
          lsq_quantize(x, scalar(kq.step, false, torch::kFloat), kq.qmin(), kq.qmax(), 1.0);
      const torch::Tensor q = lsq_levels(x, kq.step, kq.qmin(), kq.qmax());
      for (size_t i = 0; i < xs.size(); ++i) {
        const int32_t level = kq.quantize(xs[i]);
        ASSERT_EQ(q[static_cast<int64_t>(i)].item<int32_t>(), level) << xs[i];
        ASSERT_EQ(y[static_cast<int64_t>(i)].item<float>(), kq.dequantize(level)) << xs[i];
      }
    }
  }
  // Exact ties round to even: 0.25 / 0.5 = 0.5 -> 0, 0.75 / 0.5 = 1.5 -> 2.
  const torch::Tensor y = lsq_quantize(torch::tensor({0.25f, 0.75f, -0.25f}),
                                       scalar(0.5, false, torch::kFloat), -8, 7, 1.0);
  EXPECT_EQ(y[0].item<float>(), 0.0f);
  EXPECT_EQ(y[1].item<float>(), 1.0f);
  EXPECT_EQ(y[2].item<float>(), 0.0f);
}

// ---------------------------------------------------------------------------
// Gradients (double precision).
// ---------------------------------------------------------------------------

double rint_d(double v) {
  return std::nearbyint(v);
}

// Central difference of f at `at` (one coordinate).
double central(const std::function<double(double)>& f, double at, double h = 1e-6) {
  return (f(at + h) - f(at - h)) / (2 * h);
}

struct UniformCase {
  std::vector<double> x, r;  // inputs and the upstream gradient (loss = sum r * a_hat)
  double l, u;
  int bits;
};

UniformCase uniform_case(int bits, uint64_t seed) {
  UniformCase c;
  c.l = -0.4;
  c.u = 1.7;
  c.bits = bits;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> xd(-1.0, 2.3), rd(-1.0, 1.0);
  while (c.x.size() < 300) {
    const double v = xd(rng);
    const double xn = (v - c.l) / (c.u - c.l);
    // Away from the clip edges and the rounding boundaries (finite differences).
    const double z = xn * ((1 << bits) - 1);
    if (std::fabs(xn) < 1e-3 || std::fabs(xn - 1) < 1e-3 ||
        std::fabs(z - std::floor(z) - 0.5) < 1e-3)
      continue;
    c.x.push_back(v);
    c.r.push_back(rd(rng));
  }
  return c;
}

// The straight-through surrogate: round(z) replaced by z + c with the residual
// c frozen at (x0, l0, u0).
double uniform_surrogate(const UniformCase& c, const std::vector<double>& frozen,
                         const std::vector<double>& x, double l, double u) {
  const double L = (1 << c.bits) - 1;
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double xn = std::min(std::max((x[i] - l) / (u - l), 0.0), 1.0);
    sum += c.r[i] * (xn * L + frozen[i]) / L;
  }
  return sum;
}

TEST(UniformQuantizeGradient, MatchesFiniteDifferencesOfTheSurrogate) {
  for (int bits : {2, 4}) {
    const UniformCase c = uniform_case(bits, 3 + static_cast<uint64_t>(bits));
    const double L = (1 << bits) - 1;
    std::vector<double> frozen;
    for (double v : c.x) {
      const double z = std::min(std::max((v - c.l) / (c.u - c.l), 0.0), 1.0) * L;
      frozen.push_back(rint_d(z) - z);
    }
    torch::Tensor x =
        torch::tensor(c.x, torch::TensorOptions().dtype(torch::kDouble)).requires_grad_(true);
    torch::Tensor l = scalar(c.l), u = scalar(c.u);
    const torch::Tensor r = torch::tensor(c.r, torch::TensorOptions().dtype(torch::kDouble));
    (uniform_quantize(x, l, u, bits, 0.0) * r).sum().backward();

    const double gl =
        central([&](double v) { return uniform_surrogate(c, frozen, c.x, v, c.u); }, c.l);
    const double gu =
        central([&](double v) { return uniform_surrogate(c, frozen, c.x, c.l, v); }, c.u);
    EXPECT_NEAR(l.grad().item<double>(), gl, 1e-6 * (1 + std::fabs(gl)));
    EXPECT_NEAR(u.grad().item<double>(), gu, 1e-6 * (1 + std::fabs(gu)));
    for (size_t i = 0; i < c.x.size(); i += 7) {
      std::vector<double> xs = c.x;
      const double gx = central(
          [&](double v) {
            xs[i] = v;
            return uniform_surrogate(c, frozen, xs, c.l, c.u);
          },
          c.x[i]);
      EXPECT_NEAR(x.grad()[static_cast<int64_t>(i)].item<double>(), gx, 1e-6) << "x[" << i << "]";
    }
  }
}

TEST(UniformQuantizeGradient, EwgsScalesTheStraightThroughGradientElementwise) {
  const UniformCase c = uniform_case(2, 99);
  const double delta = 0.3, L = 3;
  torch::Tensor x =
      torch::tensor(c.x, torch::TensorOptions().dtype(torch::kDouble)).requires_grad_(true);
  torch::Tensor l = scalar(c.l), u = scalar(c.u);
  const torch::Tensor r = torch::tensor(c.r, torch::TensorOptions().dtype(torch::kDouble));
  (uniform_quantize(x, l, u, 2, delta) * r).sum().backward();
  double el = 0, eu = 0;
  const double range = c.u - c.l;
  int scaled = 0;
  for (size_t i = 0; i < c.x.size(); ++i) {
    const double xn = (c.x[i] - c.l) / range;
    double expect = 0;
    if (xn >= 0 && xn <= 1) {
      const double a = rint_d(xn * L) / L;
      const double g = c.r[i] * (1 + delta * (c.r[i] > 0 ? 1 : -1) * (xn - a));
      expect = g / range;
      el += g * (c.x[i] - c.u) / (range * range);
      eu += -g * (c.x[i] - c.l) / (range * range);
      if (std::fabs(xn - a) > 1e-3) ++scaled;
    }
    EXPECT_NEAR(x.grad()[static_cast<int64_t>(i)].item<double>(), expect, 1e-12) << i;
  }
  EXPECT_GT(scaled, 50);  // the scaling is visible
  EXPECT_NEAR(l.grad().item<double>(), el, 1e-9);
  EXPECT_NEAR(u.grad().item<double>(), eu, 1e-9);
  // delta = 0 is the straight-through estimator of the reference code.
  torch::Tensor x0 =
      torch::tensor(c.x, torch::TensorOptions().dtype(torch::kDouble)).requires_grad_(true);
  (uniform_quantize(x0, scalar(c.l, false), scalar(c.u, false), 2, 0.0) * r).sum().backward();
  for (size_t i = 0; i < c.x.size(); ++i) {
    const double xn = (c.x[i] - c.l) / range;
    const double expect = (xn >= 0 && xn <= 1) ? c.r[i] / range : 0.0;
    EXPECT_NEAR(x0.grad()[static_cast<int64_t>(i)].item<double>(), expect, 1e-12);
  }
}

TEST(LsqQuantizeGradient, MatchesFiniteDifferencesOfTheSurrogateTimesTheGradScale) {
  for (bool is_signed : {true, false}) {
    const int bits = 3;
    const int qmin = is_signed ? -4 : 0, qmax = is_signed ? 3 : 7;
    const double s0 = 0.21, grad_scale = 0.37;
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> xd(-1.3, 1.9), rd(-1, 1);
    std::vector<double> xs, rs, frozen;
    while (xs.size() < 300) {
      const double v = xd(rng);
      const double z = v / s0;
      if (std::fabs(z - qmin) < 1e-3 || std::fabs(z - qmax) < 1e-3 ||
          std::fabs(z - std::floor(z) - 0.5) < 1e-3) {
        continue;
      }
      xs.push_back(v);
      rs.push_back(rd(rng));
      const double zc = std::min(std::max(z, double(qmin)), double(qmax));
      frozen.push_back(rint_d(zc) - zc);
    }
    auto surrogate = [&](const std::vector<double>& x, double s) {
      double sum = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const double zc = std::min(std::max(x[i] / s, double(qmin)), double(qmax));
        sum += rs[i] * (zc + frozen[i]) * s;
      }
      return sum;
    };
    torch::Tensor x =
        torch::tensor(xs, torch::TensorOptions().dtype(torch::kDouble)).requires_grad_(true);
    torch::Tensor s = scalar(s0);
    const torch::Tensor r = torch::tensor(rs, torch::TensorOptions().dtype(torch::kDouble));
    (lsq_quantize(x, s, qmin, qmax, grad_scale) * r).sum().backward();
    const double gs = central([&](double v) { return surrogate(xs, v); }, s0);
    EXPECT_NEAR(s.grad().item<double>(), grad_scale * gs, 1e-6 * (1 + std::fabs(gs))) << bits;
    for (size_t i = 0; i < xs.size(); i += 5) {
      std::vector<double> xv = xs;
      const double gx = central(
          [&](double v) {
            xv[i] = v;
            return surrogate(xv, s0);
          },
          xs[i]);
      EXPECT_NEAR(x.grad()[static_cast<int64_t>(i)].item<double>(), gx, 1e-6) << i;
    }
  }
}

TEST(OutputScaleGradient, AlphaOfAUniformConvMatchesFiniteDifferences) {
  // y = |alpha| conv2d(a_hat, w_hat): alpha, l_w, u_w and the activation
  // bounds against the surrogate's finite differences.
  torch::manual_seed(3);
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const torch::Tensor xin = torch::rand({2, 4, 5, 5}, opts) * 2 - 0.3;
  const torch::Tensor w0 = torch::randn({6, 2, 3, 3}, opts) * 0.5;
  const torch::Tensor r = torch::randn({2, 6, 5, 5}, opts);
  auto loss = [&](double alpha, double wl, double wu, bool track, torch::Tensor* ga,
                  torch::Tensor* gwl, torch::Tensor* gwu) {
    torch::Tensor a_t = scalar(alpha, track), wl_t = scalar(wl, track), wu_t = scalar(wu, track);
    const torch::Tensor a_hat =
        uniform_quantize(xin, scalar(-0.1, false), scalar(1.5, false), 2, 0.0);
    const torch::Tensor w_hat = (uniform_quantize(w0, wl_t, wu_t, 2, 0.0) - 0.5) * 2.0;
    const torch::Tensor y = torch::conv2d(a_hat, w_hat, {}, 1, 1, 1, 2) * a_t.abs();
    const torch::Tensor l = (y * r).sum();
    if (track) {
      l.backward();
      *ga = a_t.grad();
      *gwl = wl_t.grad();
      *gwu = wu_t.grad();
    }
    return l.item<double>();
  };
  torch::Tensor ga, gwl, gwu;
  const double alpha = -0.8, wl = -0.9, wu = 1.1;  // a negative alpha: the op uses |alpha|
  loss(alpha, wl, wu, true, &ga, &gwl, &gwu);
  const double fd_alpha =
      central([&](double v) { return loss(v, wl, wu, false, nullptr, nullptr, nullptr); }, alpha);
  EXPECT_NEAR(ga.item<double>(), fd_alpha, 1e-6 * (1 + std::fabs(fd_alpha)));
  EXPECT_NE(ga.item<double>(), 0.0);
  // The weight bounds: rounding is piecewise constant, so compare with the
  // surrogate written out for this case (STE through round, weights inside
  // the bounds move with them).
  const double range = wu - wl;
  const torch::Tensor wn = (w0 - wl) / range;
  const torch::Tensor inside = (wn >= 0).logical_and(wn <= 1).to(torch::kDouble);
  const torch::Tensor a_hat =
      uniform_quantize(xin, scalar(-0.1, false), scalar(1.5, false), 2, 0.0);
  torch::Tensor wv = torch::zeros_like(w0).requires_grad_(true);
  const torch::Tensor y = torch::conv2d(a_hat, wv, {}, 1, 1, 1, 2) * std::fabs(alpha);
  (y * r).sum().backward();
  const torch::Tensor dw_hat = wv.grad();  // d loss / d w_hat
  const double expect_wl = (dw_hat * 2 * inside * (w0 - wu) / (range * range)).sum().item<double>();
  const double expect_wu =
      (dw_hat * 2 * inside * -(w0 - wl) / (range * range)).sum().item<double>();
  EXPECT_NEAR(gwl.item<double>(), expect_wl, 1e-9 * (1 + std::fabs(expect_wl)));
  EXPECT_NEAR(gwu.item<double>(), expect_wu, 1e-9 * (1 + std::fabs(expect_wu)));
}

TEST(Quantizers, ReductionsDoNotDependOnTheThreadCount) {
  const torch::Tensor x = torch::randn({300000}, torch::TensorOptions().dtype(torch::kFloat));
  const torch::Tensor r = torch::randn({300000}, torch::TensorOptions().dtype(torch::kFloat));
  std::vector<float> grads;
  for (int threads : {1, 2, 3}) {
    torch::set_num_threads(threads);
    torch::Tensor l = scalar(-0.5, true, torch::kFloat), u = scalar(1.0, true, torch::kFloat);
    torch::Tensor s = scalar(0.1, true, torch::kFloat);
    (uniform_quantize(x, l, u, 3, 0.01) * r).sum().backward();
    (lsq_quantize(x, s, -8, 7, 0.5) * r).sum().backward();
    grads.push_back(l.grad().item<float>());
    grads.push_back(u.grad().item<float>());
    grads.push_back(s.grad().item<float>());
  }
  torch::set_num_threads(2);
  for (size_t i = 3; i < grads.size(); ++i) EXPECT_EQ(grads[i], grads[i % 3]);
}

}  // namespace
}  // namespace palsim::training
