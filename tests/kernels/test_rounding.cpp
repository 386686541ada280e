#include "kernels/rounding.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>

#include "common/error.h"

namespace palsim::kernels {
namespace {

TEST(RoundHalfEven, TiesGoToEven) {
  const double cases[][2] = {{0.5, 0.0},     {1.5, 2.0},    {2.5, 2.0},   {3.5, 4.0},
                             {-0.5, 0.0},    {-1.5, -2.0},  {-2.5, -2.0}, {-3.5, -4.0},
                             {126.5, 126.0}, {127.5, 128.0}};
  for (const auto& c : cases) {
    EXPECT_EQ(round_half_even(c[0]), c[1]) << c[0];
    EXPECT_EQ(round_half_even(static_cast<float>(c[0])), static_cast<float>(c[1])) << c[0];
  }
}

TEST(RoundHalfEven, NonTies) {
  EXPECT_EQ(round_half_even(0.49999999999999994), 0.0);
  EXPECT_EQ(round_half_even(0.5000000000000001), 1.0);
  EXPECT_EQ(round_half_even(-2.5000000000000004), -3.0);
  EXPECT_EQ(round_half_even(2.4999999f), 2.0f);
  EXPECT_EQ(round_half_even(std::nextafter(2.5f, 3.0f)), 3.0f);
  EXPECT_EQ(round_half_even(-7.0), -7.0);
  EXPECT_EQ(round_half_even(4611686018427387904.0), 4611686018427387904.0);  // 2^62
}

// std::nearbyint under the default FE_TONEAREST mode is the textbook
// implementation of the rule; the kernel must agree with it everywhere.
TEST(RoundHalfEven, MatchesNearbyint) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> wide(-1e6, 1e6);
  std::uniform_int_distribution<int> ints(-100000, 100000);
  for (int i = 0; i < 200000; ++i) {
    const double x = wide(rng);
    ASSERT_EQ(round_half_even(x), std::nearbyint(x)) << x;
    const double tie = ints(rng) + 0.5;
    ASSERT_EQ(round_half_even(tie), std::nearbyint(tie)) << tie;
    const float xf = static_cast<float>(x) / 64.0f;
    ASSERT_EQ(round_half_even(xf), std::nearbyint(xf)) << xf;
    const float tief = static_cast<float>(ints(rng) / 8) + 0.5f;
    ASSERT_EQ(round_half_even(tief), std::nearbyint(tief)) << tief;
  }
}

// Reference by division: v = q*d + r with 0 <= r < d (floor), then compare 2r
// with d. Independent of the bit tricks in the kernel.
__int128 reference_shift(__int128 v, int shift) {
  const __int128 d = static_cast<__int128>(1) << shift;
  __int128 r = v % d;
  if (r < 0) r += d;
  const __int128 q = (v - r) / d;
  if (2 * r > d) return q + 1;
  if (2 * r < d) return q;
  return (q % 2 == 0) ? q : q + 1;
}

TEST(RoundingShiftRight, Ties) {
  EXPECT_EQ(rounding_shift_right(1, 1), 0);    // 0.5
  EXPECT_EQ(rounding_shift_right(3, 1), 2);    // 1.5
  EXPECT_EQ(rounding_shift_right(5, 1), 2);    // 2.5
  EXPECT_EQ(rounding_shift_right(-1, 1), 0);   // -0.5
  EXPECT_EQ(rounding_shift_right(-3, 1), -2);  // -1.5
  EXPECT_EQ(rounding_shift_right(-5, 1), -2);  // -2.5
  EXPECT_EQ(rounding_shift_right(6, 2), 2);    // 1.5
  EXPECT_EQ(rounding_shift_right(10, 2), 2);   // 2.5
  EXPECT_EQ(rounding_shift_right(-10, 2), -2);
  EXPECT_EQ(rounding_shift_right(-6, 2), -2);
  EXPECT_EQ(rounding_shift_right(-7, 2), -2);  // -1.75
  EXPECT_EQ(rounding_shift_right(-5, 2), -1);  // -1.25
  EXPECT_EQ(rounding_shift_right(7, 0), 7);
  EXPECT_EQ(rounding_shift_right(-7, 0), -7);
}

TEST(RoundingShiftRight, MatchesExactDivisionOnSmallValues) {
  for (int shift = 0; shift <= 12; ++shift) {
    for (int v = -5000; v <= 5000; ++v) {
      // Small enough that long double division by 2^shift is exact.
      const long double expected = std::nearbyint(static_cast<long double>(v) / (1 << shift));
      ASSERT_EQ(rounding_shift_right(v, shift), static_cast<int64_t>(expected))
          << v << " " << shift;
    }
  }
}

TEST(RoundingShiftRight, MatchesDivisionOnWideValues) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100000; ++i) {
    const int shift = static_cast<int>(rng() % 63);
    // 128-bit operands whose result still fits in 64 bits.
    const __int128 hi = static_cast<int64_t>(rng()) >> (63 - shift);
    const __int128 v = hi * (static_cast<__int128>(1) << shift) +
                       static_cast<__int128>(rng() & ((uint64_t{1} << shift) - 1));
    ASSERT_TRUE(static_cast<__int128>(rounding_shift_right(v, shift)) == reference_shift(v, shift));
    const int wide_shift = static_cast<int>(rng() % 127);
    const __int128 w = static_cast<int64_t>(rng()) * (static_cast<__int128>(1) << 63) +
                       static_cast<__int128>(rng() >> 1);
    ASSERT_TRUE(rounding_shift_right_wide(w, wide_shift) == reference_shift(w, wide_shift));
  }
}

TEST(RoundingShiftRight, Extremes) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(rounding_shift_right(kMax, 62), 2);   // 1.99999...
  EXPECT_EQ(rounding_shift_right(kMin, 62), -2);  // exactly -2
  EXPECT_EQ(rounding_shift_right(kMin, 0), kMin);
  EXPECT_EQ(rounding_shift_right(static_cast<__int128>(3) << 61, 62), 2);      // 1.5
  EXPECT_EQ(rounding_shift_right(-(static_cast<__int128>(3) << 61), 62), -2);  // -1.5
  EXPECT_EQ(rounding_shift_right(static_cast<__int128>(1) << 61, 62), 0);      // 0.5
  EXPECT_EQ(rounding_shift_right(static_cast<__int128>(kMax) << 62, 62), kMax);
  EXPECT_THROW(rounding_shift_right(static_cast<__int128>(kMax) << 2, 1), std::overflow_error);
  EXPECT_THROW(rounding_shift_right(static_cast<__int128>(kMax) + 1, 0), std::overflow_error);
  EXPECT_THROW(rounding_shift_right(1, -1), palsim::ArgumentError);
  EXPECT_THROW(rounding_shift_right(1, 63), palsim::ArgumentError);
}

}  // namespace
}  // namespace palsim::kernels
