#include "kernels/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>

#include "common/error.h"

namespace palsim::kernels {
namespace {

// The reference code's forward pass, op by op in float32 (torch semantics:
// clamp is min(max(x, lo), hi); torch.round is half to even).
int32_t torch_uniform(float x, float l, float u, int bits) {
  float xn = (x - l) / (u - l);
  xn = std::fmin(std::fmax(xn, 0.0f), 1.0f);
  return static_cast<int32_t>(std::nearbyint(xn * static_cast<float>((1 << bits) - 1)));
}

// The same computed in double: differs from the float path on some inputs,
// which is how the tests below know they can tell the two apart.
int32_t double_uniform(float x, float l, float u, int bits) {
  double xn = (static_cast<double>(x) - l) / (static_cast<double>(u) - l);
  xn = std::fmin(std::fmax(xn, 0.0), 1.0);
  return static_cast<int32_t>(std::nearbyint(xn * ((1 << bits) - 1)));
}

TEST(UniformQuantizer, ExactTieAtHalfRange) {
  // x_n = 0.5 exactly, so (2^b - 1) x_n = 2^(b-1) - 0.5 is a tie; even is 2^(b-1).
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    UniformQuantizer q{b, -1.0f, 1.0f};
    EXPECT_EQ(q.quantize(0.0f), 1 << (b - 1)) << b;
  }
}

// Inputs whose float product (2^b - 1) x lands exactly on k + 0.5. With k
// even, half-away-from-zero would give k + 1; with the product computed in
// double, some of these are not ties at all and round the other way.
TEST(UniformQuantizer, FloatTiesRoundToEven) {
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    const int l1 = (1 << b) - 1;
    const UniformQuantizer q{b, 0.0f, 1.0f};
    int even_ties = 0, double_differs = 0;
    for (int k = 0; k < l1; ++k) {
      float x = (static_cast<float>(k) + 0.5f) / static_cast<float>(l1);
      for (int s = 0; s < 64; ++s) x = std::nextafter(x, 0.0f);
      for (int s = 0; s < 128; ++s, x = std::nextafter(x, 1.0f)) {
        if (x * static_cast<float>(l1) != static_cast<float>(k) + 0.5f) continue;
        const int32_t expected = (k % 2 == 0) ? k : k + 1;
        ASSERT_EQ(q.quantize(x), expected) << "b=" << b << " x=" << x;
        if (k % 2 == 0) ++even_ties;
        if (double_uniform(x, 0.0f, 1.0f, b) != expected) ++double_differs;
      }
    }
    EXPECT_GT(even_ties, 0) << b;
    EXPECT_GT(double_differs, 0) << b;
  }
}

// x_n normalized in double and only then rounded to float: another plausible
// but wrong op order.
int32_t double_normalize_uniform(float x, float l, float u, int bits) {
  float xn = static_cast<float>((static_cast<double>(x) - l) / (static_cast<double>(u) - l));
  xn = std::fmin(std::fmax(xn, 0.0f), 1.0f);
  return static_cast<int32_t>(std::nearbyint(xn * static_cast<float>((1 << bits) - 1)));
}

// Near every rounding boundary, with bounds that make the subtraction and the
// division inexact: the kernel must follow the float32 path exactly, and the
// scan must hit inputs where the wider alternatives disagree with it.
TEST(UniformQuantizer, SinglePrecisionAtEveryStep) {
  const float l = -0.3f, u = 0.9f;
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    const int l1 = (1 << b) - 1;
    const UniformQuantizer q{b, l, u};
    int normalize_differs = 0, double_differs = 0;
    for (int k = 0; k < l1; ++k) {
      float x = l + (static_cast<float>(k) + 0.5f) / static_cast<float>(l1) * (u - l);
      for (int s = 0; s < 256; ++s) x = std::nextafter(x, -10.0f);
      for (int s = 0; s < 512; ++s, x = std::nextafter(x, 10.0f)) {
        const int32_t want = torch_uniform(x, l, u, b);
        ASSERT_EQ(q.quantize(x), want) << "b=" << b << " x=" << x;
        if (double_normalize_uniform(x, l, u, b) != want) ++normalize_differs;
        if (double_uniform(x, l, u, b) != want) ++double_differs;
      }
    }
    EXPECT_GT(normalize_differs, 0) << b;
    EXPECT_GT(double_differs, 0) << b;
  }
}

TEST(UniformQuantizer, MatchesFloatReferenceOnRandomInputs) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::uniform_real_distribution<float> width(0.01f, 4.0f);
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    for (int trial = 0; trial < 20000; ++trial) {
      const float l = dist(rng);
      const float u = l + width(rng);
      const float x = dist(rng);
      const UniformQuantizer q{b, l, u};
      ASSERT_EQ(q.quantize(x), torch_uniform(x, l, u, b)) << b << " " << l << " " << u << " " << x;
    }
  }
}

TEST(UniformQuantizer, Clamps) {
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    const UniformQuantizer q{b, -0.75f, 1.25f};
    const int32_t top = (1 << b) - 1;
    EXPECT_EQ(q.levels(), top + 1);
    EXPECT_EQ(q.quantize(-0.75f), 0);
    EXPECT_EQ(q.quantize(1.25f), top);
    EXPECT_EQ(q.quantize(-100.0f), 0);
    EXPECT_EQ(q.quantize(100.0f), top);
    EXPECT_EQ(q.quantize(-std::numeric_limits<float>::infinity()), 0);
    EXPECT_EQ(q.quantize(std::numeric_limits<float>::infinity()), top);
    EXPECT_EQ(q.quantize(std::nextafter(-0.75f, -1.0f)), 0);
  }
}

TEST(UniformQuantizer, AllLevelsReachableAndMonotonic) {
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    const UniformQuantizer q{b, -0.3f, 0.9f};
    std::set<int32_t> seen;
    int32_t previous = 0;
    for (int i = -2000; i <= 22000; ++i) {
      const float x = -0.3f + 1.2f * static_cast<float>(i) / 20000.0f;
      const int32_t level = q.quantize(x);
      ASSERT_GE(level, previous);
      previous = level;
      seen.insert(level);
    }
    ASSERT_EQ(static_cast<int32_t>(seen.size()), q.levels()) << b;
    EXPECT_EQ(*seen.begin(), 0);
    EXPECT_EQ(*seen.rbegin(), q.levels() - 1);
  }
}

TEST(UniformQuantizer, ActivationAndWeightValues) {
  const UniformQuantizer q2{2, 0.0f, 1.0f};
  EXPECT_FLOAT_EQ(q2.weight_value(0), -1.0f);
  EXPECT_FLOAT_EQ(q2.weight_value(1), -1.0f / 3.0f);
  EXPECT_FLOAT_EQ(q2.weight_value(2), 1.0f / 3.0f);
  EXPECT_FLOAT_EQ(q2.weight_value(3), 1.0f);
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    const UniformQuantizer q{b, 0.0f, 1.0f};
    const int32_t l1 = q.levels() - 1;
    EXPECT_EQ(q.activation_value(0), 0.0f);
    EXPECT_EQ(q.activation_value(l1), 1.0f);
    for (int32_t level = 0; level <= l1; ++level) {
      EXPECT_FLOAT_EQ(q.activation_value(level), static_cast<float>(level) / l1);
      const float w = q.weight_value(level);
      // An even number of levels symmetric about zero: zero is never one.
      EXPECT_NE(w, 0.0f) << b << " " << level;
      // Symmetric up to float rounding (the op order is not exactly symmetric).
      EXPECT_NEAR(w, -q.weight_value(l1 - level), 1e-6f);
      const int32_t odd = palquant_weight_integer(level, b);
      EXPECT_EQ(odd, 2 * level - l1);
      EXPECT_NE(odd % 2, 0);
      EXPECT_EQ(static_cast<int32_t>(std::lround(w * static_cast<float>(l1))), odd);
      // The level a weight value maps back to is the level itself.
      EXPECT_EQ(q.quantize(q.activation_value(level)), level);
    }
  }
  EXPECT_EQ(palquant_weight_integer(0, 2), -3);
  EXPECT_EQ(palquant_weight_integer(3, 2), 3);
  EXPECT_EQ(palquant_weight_integer(255, 8), 255);
}

TEST(UniformQuantizer, RejectsBadConfiguration) {
  EXPECT_THROW((UniformQuantizer{1, 0.0f, 1.0f}.quantize(0.5f)), palsim::ArgumentError);
  EXPECT_THROW((UniformQuantizer{9, 0.0f, 1.0f}.quantize(0.5f)), palsim::ArgumentError);
  EXPECT_THROW((UniformQuantizer{4, 1.0f, 1.0f}.quantize(0.5f)), palsim::ArgumentError);
  EXPECT_THROW((UniformQuantizer{4, 0.0f, 1.0f}.quantize(std::nanf(""))), palsim::ArgumentError);
  EXPECT_THROW(palquant_weight_integer(0, 1), palsim::ArgumentError);
}

TEST(LsqQuantizer, Range) {
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    const LsqQuantizer s{b, true, 1.0f};
    EXPECT_EQ(s.qmin(), -(1 << (b - 1)));
    EXPECT_EQ(s.qmax(), (1 << (b - 1)) - 1);
    const LsqQuantizer u{b, false, 1.0f};
    EXPECT_EQ(u.qmin(), 0);
    EXPECT_EQ(u.qmax(), (1 << b) - 1);
  }
  EXPECT_EQ((LsqQuantizer{2, true, 1.0f}.qmin()), -2);
  EXPECT_EQ((LsqQuantizer{2, true, 1.0f}.qmax()), 1);
}

TEST(LsqQuantizer, TiesGoToEven) {
  // A power-of-two step divides exactly, so v / s is the exact tie.
  const LsqQuantizer q{8, true, 0.5f};
  EXPECT_EQ(q.quantize(0.25f), 0);     // 0.5
  EXPECT_EQ(q.quantize(0.75f), 2);     // 1.5
  EXPECT_EQ(q.quantize(1.25f), 2);     // 2.5
  EXPECT_EQ(q.quantize(1.75f), 4);     // 3.5
  EXPECT_EQ(q.quantize(-0.25f), 0);    // -0.5
  EXPECT_EQ(q.quantize(-0.75f), -2);   // -1.5
  EXPECT_EQ(q.quantize(-1.25f), -2);   // -2.5
  EXPECT_EQ(q.quantize(63.25f), 126);  // 126.5
  const LsqQuantizer u{4, false, 0.25f};
  EXPECT_EQ(u.quantize(0.625f), 2);  // 2.5
  EXPECT_EQ(u.quantize(0.875f), 4);  // 3.5
}

TEST(LsqQuantizer, ClampsBeforeRounding) {
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    const LsqQuantizer s{b, true, 0.1f};
    EXPECT_EQ(s.quantize(1e6f), s.qmax());
    EXPECT_EQ(s.quantize(-1e6f), s.qmin());
    const LsqQuantizer u{b, false, 0.1f};
    EXPECT_EQ(u.quantize(-1e6f), 0);
    EXPECT_EQ(u.quantize(-0.04f), 0);
    EXPECT_EQ(u.quantize(1e6f), u.qmax());
  }
  EXPECT_EQ((LsqQuantizer{2, true, 1.0f}.quantize(-2.6f)), -2);
  EXPECT_EQ((LsqQuantizer{2, true, 1.0f}.quantize(1.6f)), 1);
}

TEST(LsqQuantizer, MatchesFloatReferenceAndReachesAllLevels) {
  std::mt19937 rng(99);
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    for (bool is_signed : {false, true}) {
      const float step = 0.0371f;
      const LsqQuantizer q{b, is_signed, step};
      const float lo = static_cast<float>(q.qmin()) * step,
                  hi = static_cast<float>(q.qmax()) * step;
      std::uniform_real_distribution<float> dist(lo - 1.0f, hi + 1.0f);
      for (int i = 0; i < 20000; ++i) {
        const float v = dist(rng);
        float x = v / step;
        x = std::fmin(std::fmax(x, static_cast<float>(q.qmin())), static_cast<float>(q.qmax()));
        ASSERT_EQ(q.quantize(v), static_cast<int32_t>(std::nearbyint(x))) << v;
      }
      std::set<int32_t> seen;
      for (int32_t level = q.qmin(); level <= q.qmax(); ++level) {
        const int32_t got = q.quantize(q.dequantize(level));
        EXPECT_EQ(got, level);
        seen.insert(got);
      }
      EXPECT_EQ(static_cast<int>(seen.size()), q.qmax() - q.qmin() + 1);
    }
  }
}

// v / s, not v * (1 / s) nor a double division: near every rounding boundary
// the kernel follows the float32 division, and the scan finds inputs where
// the alternatives round the other way.
TEST(LsqQuantizer, DividesInSinglePrecision) {
  const float step = 0.0371f;
  for (int b = kMinQuantBits; b <= kMaxQuantBits; ++b) {
    const LsqQuantizer q{b, true, step};
    int reciprocal_differs = 0, double_differs = 0;
    for (int32_t k = q.qmin(); k < q.qmax(); ++k) {
      float v = (static_cast<float>(k) + 0.5f) * step;
      for (int s = 0; s < 64; ++s) v = std::nextafter(v, -100.0f);
      for (int s = 0; s < 128; ++s, v = std::nextafter(v, 100.0f)) {
        const int32_t want = static_cast<int32_t>(std::nearbyint(v / step));
        ASSERT_EQ(q.quantize(v), want) << "b=" << b << " v=" << v;
        if (static_cast<int32_t>(std::nearbyint(v * (1.0f / step))) != want) ++reciprocal_differs;
        if (static_cast<int32_t>(std::nearbyint(static_cast<double>(v) / step)) != want)
          ++double_differs;
      }
    }
    EXPECT_GT(reciprocal_differs + double_differs, 0) << b;
  }
}

TEST(LsqQuantizer, RejectsBadConfiguration) {
  EXPECT_THROW((LsqQuantizer{4, true, 0.0f}.quantize(1.0f)), palsim::ArgumentError);
  EXPECT_THROW((LsqQuantizer{4, true, -1.0f}.quantize(1.0f)), palsim::ArgumentError);
  EXPECT_THROW((LsqQuantizer{10, true, 1.0f}.qmax()), palsim::ArgumentError);
  EXPECT_THROW((LsqQuantizer{4, true, 1.0f}.quantize(std::nanf(""))), palsim::ArgumentError);
}

TEST(OperandRange, SignedAndUnsigned) {
  EXPECT_EQ(operand_min(1, true), -1);
  EXPECT_EQ(operand_max(1, true), 0);
  EXPECT_EQ(operand_min(1, false), 0);
  EXPECT_EQ(operand_max(1, false), 1);
  EXPECT_EQ(operand_min(8, true), -128);
  EXPECT_EQ(operand_max(8, true), 127);
  EXPECT_EQ(operand_max(8, false), 255);
  EXPECT_EQ(operand_max(31, false), std::numeric_limits<int32_t>::max());
  EXPECT_THROW(operand_min(0, true), palsim::ArgumentError);
  EXPECT_THROW(operand_max(32, false), palsim::ArgumentError);
}

}  // namespace
}  // namespace palsim::kernels
