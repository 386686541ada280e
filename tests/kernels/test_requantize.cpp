#include "kernels/requantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "common/error.h"
#include "kernels/conv.h"
#include "kernels/quantize.h"

namespace palsim::kernels {
namespace {

RequantParams identity_params(int frac_bits, int32_t out_min = -1000000,
                              int32_t out_max = 1000000) {
  RequantParams p;
  p.scale = {1};
  p.offset = {0};
  p.frac_bits = frac_bits;
  p.out_min = out_min;
  p.out_max = out_max;
  return p;
}

// Straightforward model on values small enough that every intermediate is an
// exact int64 and t / 2^f is an exact long double; nearbyintl rounds half to
// even in the default mode.
int32_t reference(int64_t acc, int32_t r, int c, const RequantParams& p) {
  int64_t t = acc * p.scale[c] + p.offset[c];
  if (p.relu_before_residual) t = std::max<int64_t>(t, 0);
  if (p.has_residual) t += r * p.residual_scale + p.residual_offset;
  if (p.relu_after_residual) t = std::max<int64_t>(t, 0);
  const long double q = std::nearbyint(static_cast<long double>(t) / std::ldexp(1.0L, p.frac_bits));
  return static_cast<int32_t>(std::clamp<long double>(q, p.out_min, p.out_max));
}

TEST(Requantize, TiesRoundHalfToEven) {
  const RequantParams p = identity_params(1);
  const int64_t acc[] = {1, 3, 5, 7, -1, -3, -5, -7, 2, -2};
  const int32_t want[] = {0, 2, 2, 4, 0, -2, -2, -4, 1, -1};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(requantize_element(acc[i], 0, 0, p), want[i]) << acc[i];
  const RequantParams p4 = identity_params(4);
  EXPECT_EQ(requantize_element(8, 0, 0, p4), 0);     // 0.5
  EXPECT_EQ(requantize_element(24, 0, 0, p4), 2);    // 1.5
  EXPECT_EQ(requantize_element(40, 0, 0, p4), 2);    // 2.5
  EXPECT_EQ(requantize_element(41, 0, 0, p4), 3);    // 2.5625
  EXPECT_EQ(requantize_element(-24, 0, 0, p4), -2);  // -1.5
  EXPECT_EQ(requantize_element(-40, 0, 0, p4), -2);  // -2.5
  EXPECT_EQ(requantize_element(-41, 0, 0, p4), -3);
  EXPECT_EQ(requantize_element(-39, 0, 0, p4), -2);
}

TEST(Requantize, ScaleOffsetAndFracBitsZero) {
  RequantParams p = identity_params(0);
  p.scale = {3, -2};
  p.offset = {10, 7};
  EXPECT_EQ(requantize_element(5, 0, 0, p), 25);
  EXPECT_EQ(requantize_element(5, 0, 1, p), -3);
  EXPECT_EQ(requantize_element(-5, 0, 1, p), 17);
  // 16 fractional bits: 0.75 in fixed point, 100 * 0.75 + 0.5 = 75.5 -> 76.
  RequantParams q = identity_params(16);
  q.scale = {49152};
  q.offset = {32768};
  EXPECT_EQ(requantize_element(100, 0, 0, q), 76);
  EXPECT_EQ(requantize_element(98, 0, 0, q), 74);     // 73.5 + 0.5 = 74 exactly
  EXPECT_EQ(requantize_element(-98, 0, 0, q), -73);   // -73.5 + 0.5 = -73
  EXPECT_EQ(requantize_element(-100, 0, 0, q), -74);  // -74.5 -> -74
}

TEST(Requantize, Clamps) {
  RequantParams p = identity_params(2, 0, 15);
  EXPECT_EQ(requantize_element(-100, 0, 0, p), 0);
  EXPECT_EQ(requantize_element(61, 0, 0, p), 15);  // 15.25
  EXPECT_EQ(requantize_element(62, 0, 0, p), 15);  // 15.5 -> 16 -> clamp
  EXPECT_EQ(requantize_element(1000, 0, 0, p), 15);
  p.out_min = -8;
  p.out_max = 7;
  EXPECT_EQ(requantize_element(-34, 0, 0, p), -8);  // -8.5 -> -8
  EXPECT_EQ(requantize_element(-38, 0, 0, p), -8);  // -9.5 -> -10 -> clamp
  // Intermediates beyond 64 bits saturate instead of wrapping.
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  RequantParams w =
      identity_params(0, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  w.scale = {kMin};
  w.offset = {kMax};
  EXPECT_EQ(requantize_element(kMin, 0, 0, w), std::numeric_limits<int32_t>::max());  // +2^126
  EXPECT_EQ(requantize_element(kMax, 0, 0, w), std::numeric_limits<int32_t>::min());
  w.frac_bits = 62;
  EXPECT_EQ(requantize_element(kMin, 0, 0, w), std::numeric_limits<int32_t>::max());  // 2^64
  w.scale = {int64_t{1} << 40};
  w.offset = {0};
  // 2^40 * 2^40 / 2^62 = 2^18, computed without losing a bit.
  EXPECT_EQ(requantize_element(int64_t{1} << 40, 0, 0, w), 1 << 18);
  EXPECT_EQ(requantize_element((int64_t{1} << 40) + (int64_t{1} << 21), 0, 0, w), (1 << 18) + 0);
  EXPECT_EQ(requantize_element((int64_t{1} << 40) + 3 * (int64_t{1} << 21), 0, 0, w),
            (1 << 18) + 2);
}

TEST(Requantize, ReluBeforeAndAfterResidual) {
  RequantParams p = identity_params(0, -128, 127);
  p.has_residual = true;
  p.residual_scale = 1;
  EXPECT_EQ(requantize_element(-5, 3, 0, p), -2);
  p.relu_before_residual = true;  // cyclic shuffle module: Z = X + ReLU(BN(conv))
  EXPECT_EQ(requantize_element(-5, 3, 0, p), 3);
  EXPECT_EQ(requantize_element(5, -7, 0, p), -2);
  p.relu_before_residual = false;
  p.relu_after_residual = true;  // end of a ResNet block
  EXPECT_EQ(requantize_element(-5, 3, 0, p), 0);
  EXPECT_EQ(requantize_element(5, -7, 0, p), 0);
  EXPECT_EQ(requantize_element(5, 7, 0, p), 12);
  p.relu_before_residual = true;
  EXPECT_EQ(requantize_element(-5, -7, 0, p), 0);
  // Residual scale and offset, in the same fixed point as t.
  RequantParams q = identity_params(4, -1000, 1000);
  q.scale = {16};
  q.has_residual = true;
  q.residual_scale = 8;                            // 0.5
  q.residual_offset = -24;                         // -1.5
  EXPECT_EQ(requantize_element(10, 5, 0, q), 11);  // 10 + 2.5 - 1.5
  EXPECT_EQ(requantize_element(10, 4, 0, q), 10);  // 10 + 2 - 1.5 = 10.5 -> 10
  // Without has_residual the residual argument is ignored.
  q.has_residual = false;
  EXPECT_EQ(requantize_element(10, 5, 0, q), 10);
}

TEST(Requantize, MatchesExactReferenceOnRandomValues) {
  std::mt19937_64 rng(42);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int32_t ranges[][2] = {{0, 255}, {-128, 127}, {0, 3}, {-8, 7}, {-2000000000, 2000000000}};
  for (int i = 0; i < 300000; ++i) {
    RequantParams p;
    const int channels = 3;
    for (int c = 0; c < channels; ++c) {
      p.scale.push_back(uniform(-(1 << 16), 1 << 16));
      p.offset.push_back(uniform(-(int64_t{1} << 30), int64_t{1} << 30));
    }
    p.frac_bits = static_cast<int>(uniform(0, 24));
    p.relu_before_residual = uniform(0, 1) != 0;
    p.has_residual = uniform(0, 1) != 0;
    p.residual_scale = uniform(-(1 << 16), 1 << 16);
    p.residual_offset = uniform(-(int64_t{1} << 30), int64_t{1} << 30);
    p.relu_after_residual = uniform(0, 1) != 0;
    const auto& range = ranges[uniform(0, 4)];
    p.out_min = range[0];
    p.out_max = range[1];
    int64_t acc = uniform(-(1 << 20), 1 << 20);
    // Make exact ties frequent: clear the low bits of t below the rounding point.
    if (i % 4 == 0 && p.frac_bits > 0) {
      p.scale[0] = 1;
      p.offset[0] = 0;
      acc = (acc >> p.frac_bits) * (int64_t{1} << p.frac_bits) + (int64_t{1} << (p.frac_bits - 1));
      p.has_residual = false;
    }
    const int32_t r = static_cast<int32_t>(uniform(-128, 255));
    const int c = i % 4 == 0 ? 0 : static_cast<int>(uniform(0, channels - 1));
    ASSERT_EQ(requantize_element(acc, r, c, p), reference(acc, r, c, p)) << "i=" << i;
  }
}

TEST(Requantize, TensorMatchesElementwise) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int64_t> accs(-100000, 100000);
  std::uniform_int_distribution<int32_t> res(-128, 127);
  AccTensor acc(2, 3, 4, 5);
  IntTensor residual(2, 3, 4, 5);
  for (auto& v : acc.values()) v = accs(rng);
  for (auto& v : residual.values()) v = res(rng);
  RequantParams p;
  p.scale = {3, -7, 11};
  p.offset = {5000, 0, -123456};
  p.frac_bits = 12;
  p.out_min = -128;
  p.out_max = 127;
  p.has_residual = true;
  p.residual_scale = 4096;
  p.relu_after_residual = true;
  const IntTensor out = requantize(acc, p, &residual);
  ASSERT_EQ(out.n(), 2);
  ASSERT_EQ(out.c(), 3);
  ASSERT_EQ(out.h(), 4);
  ASSERT_EQ(out.w(), 5);
  std::set<int32_t> distinct;
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 5; ++x) {
          ASSERT_EQ(out.at(n, c, y, x),
                    requantize_element(acc.at(n, c, y, x), residual.at(n, c, y, x), c, p));
          ASSERT_EQ(out.at(n, c, y, x),
                    reference(acc.at(n, c, y, x), residual.at(n, c, y, x), c, p));
          distinct.insert(out.at(n, c, y, x));
        }
  EXPECT_GT(distinct.size(), 10u);
  // Without a residual the pointer may be null.
  p.has_residual = false;
  EXPECT_NO_THROW(requantize(acc, p));
}

TEST(Requantize, RejectsBadArguments) {
  RequantParams p = identity_params(8);
  EXPECT_THROW(requantize_element(1, 0, 1, p), palsim::ArgumentError);
  EXPECT_THROW(requantize_element(1, 0, -1, p), palsim::ArgumentError);
  p.frac_bits = 63;
  EXPECT_THROW(requantize_element(1, 0, 0, p), palsim::ArgumentError);
  p.frac_bits = -1;
  EXPECT_THROW(requantize_element(1, 0, 0, p), palsim::ArgumentError);
  p = identity_params(8, 5, 4);
  EXPECT_THROW(requantize_element(1, 0, 0, p), palsim::ArgumentError);
  p = identity_params(8);
  p.offset = {0, 0};
  EXPECT_THROW(requantize_element(1, 0, 0, p), palsim::ArgumentError);
  p = identity_params(8);
  const AccTensor acc(1, 2, 2, 2);
  EXPECT_THROW(requantize(acc, p), palsim::ArgumentError);  // one scale, two channels
  p.scale = {1, 1};
  p.offset = {0, 0};
  p.has_residual = true;
  EXPECT_THROW(requantize(acc, p), palsim::ArgumentError);
  const IntTensor wrong(1, 2, 2, 3);
  EXPECT_THROW(requantize(acc, p, &wrong), palsim::ArgumentError);
  const IntTensor right(1, 2, 2, 2);
  EXPECT_NO_THROW(requantize(acc, p, &right));
}

// The PalQuant identity, checked as arithmetic on every level combination of
// short vectors.
TEST(PalquantCorrection, ExhaustiveShortVectors) {
  for (int w_bits = 2; w_bits <= 4; ++w_bits) {
    for (int a_bits = 2; a_bits <= 4; ++a_bits) {
      const int lw = 1 << w_bits, la = 1 << a_bits;
      // Length 1.
      for (int qw = 0; qw < lw; ++qw) {
        for (int qa = 0; qa < la; ++qa) {
          ASSERT_EQ(palquant_correction(qw * qa, qa, w_bits),
                    int64_t{palquant_weight_integer(qw, w_bits)} * qa);
        }
      }
      // Length 2: every (qw0, qw1, qa0, qa1).
      for (int w0 = 0; w0 < lw; ++w0)
        for (int w1 = 0; w1 < lw; ++w1)
          for (int a0 = 0; a0 < la; ++a0)
            for (int a1 = 0; a1 < la; ++a1) {
              const int64_t signed_sum =
                  int64_t{(2 * w0 - (lw - 1))} * a0 + int64_t{(2 * w1 - (lw - 1))} * a1;
              ASSERT_EQ(palquant_correction(w0 * a0 + w1 * a1, a0 + a1, w_bits), signed_sum)
                  << w_bits << " " << a_bits << ": " << w0 << w1 << a0 << a1;
            }
    }
  }
}

TEST(PalquantCorrection, RandomLongVectors) {
  std::mt19937 rng(77);
  for (int w_bits = 2; w_bits <= 8; ++w_bits) {
    for (int a_bits = 2; a_bits <= 8; ++a_bits) {
      for (int length : {3, 64, 577, 4608}) {
        std::uniform_int_distribution<int> wq(0, (1 << w_bits) - 1), aq(0, (1 << a_bits) - 1);
        int64_t unsigned_sum = 0, act_sum = 0, signed_sum = 0;
        for (int k = 0; k < length; ++k) {
          const int qw = wq(rng), qa = aq(rng);
          unsigned_sum += int64_t{qw} * qa;
          act_sum += qa;
          signed_sum += int64_t{palquant_weight_integer(qw, w_bits)} * qa;
        }
        ASSERT_EQ(palquant_correction(unsigned_sum, act_sum, w_bits), signed_sum);
      }
    }
  }
}

// The identity as the hardware uses it: an unsigned-weight conv plus the
// activation window sums (a conv with all-ones weights) reproduces the conv
// with signed odd weights, padding included.
TEST(PalquantCorrection, ThroughConvolution) {
  std::mt19937 rng(5);
  for (int w_bits = 2; w_bits <= 8; ++w_bits) {
    const int a_bits = 10 - w_bits;
    IntTensor act(1, 8, 6, 7);
    IntTensor wq(4, 4, 3, 3);
    std::uniform_int_distribution<int> aq(0, (1 << a_bits) - 1), wd(0, (1 << w_bits) - 1);
    for (auto& v : act.values()) v = aq(rng);
    for (auto& v : wq.values()) v = wd(rng);
    IntTensor w_signed = wq;
    for (auto& v : w_signed.values()) v = palquant_weight_integer(v, w_bits);
    Conv2dParams p;
    p.pad_h = p.pad_w = 1;
    p.groups = 2;
    const AccTensor unsigned_out = conv2d(act, wq, p);
    const AccTensor sums = conv2d(act, IntTensor(4, 4, 3, 3, 1), p);
    const AccTensor want = conv2d(act, w_signed, p);
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(palquant_correction(unsigned_out.data()[i], sums.data()[i], w_bits),
                want.data()[i]);
    }
  }
  EXPECT_THROW(palquant_correction(std::numeric_limits<int64_t>::max(), 0, 2), std::overflow_error);
}

}  // namespace
}  // namespace palsim::kernels
