// accumulator_bits is exact, not just an upper bound: the tests below build
// the operands that reach the extreme sums through the real conv2d/linear
// kernels and show they need exactly that many bits (tight, off by zero).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/error.h"
#include "kernels/conv.h"
#include "kernels/quantize.h"

namespace palsim::kernels {
namespace {

bool fits(__int128 v, int bits) {
  if (bits < 1) return false;  // not even the sign bit
  const __int128 limit = static_cast<__int128>(1) << (bits - 1);
  return v >= -limit && v <= limit - 1;
}

struct Extremes {
  int64_t min_sum;
  int64_t max_sum;
};

// Each term of a dot product is bilinear in its two operands, so over the box
// of operand ranges it is extreme at a corner, and the terms are independent:
// the extreme sums are reached with every operand at one end of its range.
// Try all four corner assignments with the real kernel and keep the extremes.
Extremes extreme_sums_linear(int a_bits, bool a_signed, int w_bits, bool w_signed, int reduction) {
  IntTensor a(2, reduction, 1, 1);
  IntTensor w(2, reduction, 1, 1);
  for (int k = 0; k < reduction; ++k) {
    a.at(0, k, 0, 0) = operand_min(a_bits, a_signed);
    a.at(1, k, 0, 0) = operand_max(a_bits, a_signed);
    w.at(0, k, 0, 0) = operand_min(w_bits, w_signed);
    w.at(1, k, 0, 0) = operand_max(w_bits, w_signed);
  }
  const AccTensor sums = linear(a, w);
  return {*std::min_element(sums.values().begin(), sums.values().end()),
          *std::max_element(sums.values().begin(), sums.values().end())};
}

// The same through conv2d: a 3x3 kernel over `channels` input channels, so
// the reduction is 9 * channels and the padding must not take part.
Extremes extreme_sums_conv(int a_bits, bool a_signed, int w_bits, bool w_signed, int channels) {
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int32_t a : {operand_min(a_bits, a_signed), operand_max(a_bits, a_signed)}) {
    for (int32_t w : {operand_min(w_bits, w_signed), operand_max(w_bits, w_signed)}) {
      const AccTensor out =
          conv2d(IntTensor(1, channels, 3, 3, a), IntTensor(1, channels, 3, 3, w), {});
      lo = std::min(lo, out.at(0, 0, 0, 0));
      hi = std::max(hi, out.at(0, 0, 0, 0));
    }
  }
  return {lo, hi};
}

void expect_tight(const Extremes& e, int bits, const char* what) {
  EXPECT_TRUE(fits(e.min_sum, bits) && fits(e.max_sum, bits))
      << what << " needs more than " << bits;
  EXPECT_FALSE(fits(e.min_sum, bits - 1) && fits(e.max_sum, bits - 1))
      << what << " fits in " << bits - 1 << " bits: bound not tight";
}

TEST(AccumulatorBits, HandComputed) {
  EXPECT_EQ(accumulator_bits(2, false, 2, true, 1), 4);    // products in [-6, 3]
  EXPECT_EQ(accumulator_bits(2, false, 2, false, 1), 5);   // [0, 9]
  EXPECT_EQ(accumulator_bits(2, true, 2, true, 1), 4);     // [-2, 4]
  EXPECT_EQ(accumulator_bits(1, true, 1, true, 1), 2);     // (-1)(-1) = 1
  EXPECT_EQ(accumulator_bits(1, false, 1, false, 1), 2);   // [0, 1]
  EXPECT_EQ(accumulator_bits(1, true, 1, false, 1), 1);    // [-1, 0]: the sign bit alone
  EXPECT_EQ(accumulator_bits(8, true, 8, false, 1), 16);   // [-32640, 32385]
  EXPECT_EQ(accumulator_bits(8, true, 8, true, 1), 16);    // (-128)^2 = 16384
  EXPECT_EQ(accumulator_bits(8, false, 8, false, 1), 17);  // 65025
  EXPECT_EQ(accumulator_bits(8, true, 8, true, 4), 18);    // 65536 needs 18 signed bits
  EXPECT_EQ(accumulator_bits(4, true, 4, true, 0), 1);
  EXPECT_EQ(accumulator_bits(1, true, 1, false, 5), 4);  // 5 * (-1) = -5
}

TEST(AccumulatorBits, TightOnWorstCaseOperands) {
  int cases = 0;
  for (int a_bits : {1, 2, 3, 4, 6, 8}) {
    for (int w_bits : {1, 2, 4, 5, 8}) {
      for (bool a_signed : {false, true}) {
        for (bool w_signed : {false, true}) {
          for (int reduction : {1, 2, 3, 9, 64, 576, 4608}) {
            const int bits = accumulator_bits(a_bits, a_signed, w_bits, w_signed, reduction);
            expect_tight(extreme_sums_linear(a_bits, a_signed, w_bits, w_signed, reduction), bits,
                         "linear");
            ++cases;
          }
          for (int channels : {1, 7, 64}) {
            const int bits = accumulator_bits(a_bits, a_signed, w_bits, w_signed, 9 * channels);
            expect_tight(extreme_sums_conv(a_bits, a_signed, w_bits, w_signed, channels), bits,
                         "conv2d");
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 6 * 5 * 4 * 7);
}

// Independent of the corner argument: enumerate every operand vector of short
// dot products over tiny widths and take the true min and max.
TEST(AccumulatorBits, MatchesExhaustiveEnumeration) {
  for (int a_bits = 1; a_bits <= 3; ++a_bits) {
    for (int w_bits = 1; w_bits <= 3; ++w_bits) {
      for (bool a_signed : {false, true}) {
        for (bool w_signed : {false, true}) {
          std::vector<int64_t> products;
          for (int32_t a = operand_min(a_bits, a_signed); a <= operand_max(a_bits, a_signed); ++a)
            for (int32_t w = operand_min(w_bits, w_signed); w <= operand_max(w_bits, w_signed); ++w)
              products.push_back(int64_t{a} * w);
          std::vector<int64_t> sums = {0};
          for (int reduction = 1; reduction <= 3; ++reduction) {
            std::vector<int64_t> next;
            for (int64_t s : sums)
              for (int64_t p : products) next.push_back(s + p);
            sums.swap(next);
            const auto [lo, hi] = std::minmax_element(sums.begin(), sums.end());
            int needed = 1;
            while (!fits(*lo, needed) || !fits(*hi, needed)) ++needed;
            ASSERT_EQ(accumulator_bits(a_bits, a_signed, w_bits, w_signed, reduction), needed)
                << a_bits << a_signed << " x " << w_bits << w_signed << " r=" << reduction;
          }
        }
      }
    }
  }
}

TEST(AccumulatorBits, MonotonicInReduction) {
  int previous = 1;
  for (int64_t r = 0; r <= 5000; ++r) {
    const int bits = accumulator_bits(8, true, 8, false, r);
    ASSERT_GE(bits, previous);
    previous = bits;
  }
  EXPECT_THROW(accumulator_bits(8, true, 8, false, -1), palsim::ArgumentError);
  EXPECT_THROW(accumulator_bits(0, true, 8, false, 1), palsim::ArgumentError);
}

// Layers far beyond any real network (reduction 2^40) with operands of up to
// 8 bits still cannot overflow the 64-bit accumulators of AccTensor.
TEST(AccumulatorBits, SixtyFourBitsCoverEveryAcceptedLayer) {
  const int64_t kMaxReduction = int64_t{1} << 40;
  EXPECT_LE(accumulator_bits(8, true, 8, false, kMaxReduction), 64);
  EXPECT_EQ(accumulator_bits(8, true, 8, false, kMaxReduction), 56);  // 32640 * 2^40 <= 2^55
  for (int a_bits = 1; a_bits <= 8; ++a_bits) {
    for (int w_bits = 1; w_bits <= 8; ++w_bits) {
      for (bool a_signed : {false, true}) {
        for (bool w_signed : {false, true}) {
          ASSERT_LE(accumulator_bits(a_bits, a_signed, w_bits, w_signed, kMaxReduction), 64);
          // Directly: the extreme sums of 2^40 products fit int64.
          for (int64_t a : {operand_min(a_bits, a_signed), operand_max(a_bits, a_signed)})
            for (int64_t w : {operand_min(w_bits, w_signed), operand_max(w_bits, w_signed)})
              ASSERT_TRUE(fits(static_cast<__int128>(a * w) * kMaxReduction, 64));
        }
      }
    }
  }
  // Where 64 bits stop being enough: (-128)^2 * 2^49 = 2^63.
  EXPECT_EQ(accumulator_bits(8, true, 8, true, int64_t{1} << 48), 64);
  EXPECT_EQ(accumulator_bits(8, true, 8, true, int64_t{1} << 49), 65);
}

}  // namespace
}  // namespace palsim::kernels
