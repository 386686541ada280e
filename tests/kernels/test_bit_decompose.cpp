#include "kernels/bit_decompose.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "common/error.h"
#include "kernels/quantize.h"

namespace palsim::kernels {
namespace {

// Slice widths under test: 1, 2 and 4 divide 8; 3 leaves a short top slice
// for most widths (so do 2 and 4 for odd or non-multiple M).
constexpr int kSliceWidths[] = {1, 2, 3, 4};

int64_t floor_div(int64_t v, int64_t d) {
  return v / d - ((v % d != 0 && v < 0) ? 1 : 0);
}

int64_t floor_mod(int64_t v, int64_t d) {
  return v - floor_div(v, d) * d;
}

TEST(BitDecompose, SliceCount) {
  EXPECT_EQ(slice_count(8, 2), 4);
  EXPECT_EQ(slice_count(6, 2), 3);
  EXPECT_EQ(slice_count(5, 2), 3);
  EXPECT_EQ(slice_count(1, 2), 1);
  EXPECT_EQ(slice_count(8, 4), 2);
  EXPECT_EQ(slice_count(7, 4), 2);
  EXPECT_EQ(slice_count(8, 1), 8);
  EXPECT_EQ(slice_count(3, 4), 1);
  EXPECT_THROW(slice_count(0, 2), palsim::ArgumentError);
  EXPECT_THROW(slice_count(8, 0), palsim::ArgumentError);
}

TEST(BitDecompose, HandComputed) {
  EXPECT_EQ(bit_slices(-16, 5, true, 2), (std::vector<int32_t>{0, 0, -1}));
  EXPECT_EQ(bit_slices(-1, 5, true, 2), (std::vector<int32_t>{3, 3, -1}));
  EXPECT_EQ(bit_slices(15, 5, true, 2), (std::vector<int32_t>{3, 3, 0}));
  EXPECT_EQ(bit_slices(-4, 3, true, 2), (std::vector<int32_t>{0, -1}));
  EXPECT_EQ(bit_slices(3, 3, true, 2), (std::vector<int32_t>{3, 0}));
  EXPECT_EQ(bit_slices(-128, 8, true, 2), (std::vector<int32_t>{0, 0, 0, -2}));
  EXPECT_EQ(bit_slices(-127, 8, true, 2), (std::vector<int32_t>{1, 0, 0, -2}));
  EXPECT_EQ(bit_slices(127, 8, true, 2), (std::vector<int32_t>{3, 3, 3, 1}));
  EXPECT_EQ(bit_slices(255, 8, false, 2), (std::vector<int32_t>{3, 3, 3, 3}));
  EXPECT_EQ(bit_slices(0xB6, 8, false, 4), (std::vector<int32_t>{6, 11}));
  EXPECT_EQ(bit_slices(-74, 8, true, 4), (std::vector<int32_t>{6, -5}));  // 0xB6
  EXPECT_EQ(bit_slices(-32, 6, true, 4), (std::vector<int32_t>{0, -2}));
  EXPECT_EQ(bit_slices(63, 6, false, 4), (std::vector<int32_t>{15, 3}));
  EXPECT_EQ(bit_slices(-1, 1, true, 2), (std::vector<int32_t>{-1}));
  EXPECT_EQ(bit_slices(-3, 3, true, 1), (std::vector<int32_t>{1, 0, -1}));  // 0b101: 1 - 4
  EXPECT_EQ(compose_slices({3, 3, -1}, 2), -1);
  EXPECT_EQ(compose_slices({6, -5}, 4), -74);
  EXPECT_EQ(decomposed_product(-128, 8, true, -128, 8, true, 2), 16384);
  EXPECT_EQ(decomposed_product(-128, 8, true, 255, 8, false, 2), -32640);
}

// compose_slices(bit_slices(v)) == v for every value of every width, and
// each slice has the range and sign the decomposition promises.
TEST(BitDecompose, SlicesExhaustive) {
  for (int bits = 1; bits <= 8; ++bits) {
    for (int slice_bits : kSliceWidths) {
      for (bool is_signed : {false, true}) {
        const int count = slice_count(bits, slice_bits);
        const int top_bits = bits - (count - 1) * slice_bits;  // meaningful bits of the top slice
        for (int32_t v = operand_min(bits, is_signed); v <= operand_max(bits, is_signed); ++v) {
          const std::vector<int32_t> s = bit_slices(v, bits, is_signed, slice_bits);
          ASSERT_EQ(static_cast<int>(s.size()), count);
          ASSERT_EQ(compose_slices(s, slice_bits), v) << bits << " " << slice_bits << " " << v;
          for (int i = 0; i < count; ++i) {
            ASSERT_EQ(bit_slice(v, bits, is_signed, slice_bits, i), s[i]);
            const int64_t unit = int64_t{1} << (i * slice_bits);
            const bool top = i == count - 1;
            ASSERT_EQ(slice_is_signed(bits, is_signed, slice_bits, i), is_signed && top);
            if (!top) {
              ASSERT_EQ(s[i], floor_mod(floor_div(v, unit), int64_t{1} << slice_bits));
              ASSERT_GE(s[i], 0);
              ASSERT_LE(s[i], (1 << slice_bits) - 1);
            } else if (is_signed) {
              // Sign-extended from top_bits, even when top_bits < slice_bits.
              ASSERT_EQ(s[i], floor_div(v, unit));
              ASSERT_GE(s[i], -(1 << (top_bits - 1)));
              ASSERT_LE(s[i], (1 << (top_bits - 1)) - 1);
            } else {
              ASSERT_EQ(s[i], floor_div(v, unit));
              ASSERT_GE(s[i], 0);
              ASSERT_LE(s[i], (1 << top_bits) - 1);
            }
          }
        }
      }
    }
  }
}

// Eq. 4 over every pair of operands, for every pair of widths 1..8 (the
// square M x M cases and the mixed ones), every slice width, all four
// signedness combinations.
TEST(BitDecompose, ProductExhaustive) {
  int64_t checked = 0;
  for (int slice_bits : kSliceWidths) {
    for (int x_bits = 1; x_bits <= 8; ++x_bits) {
      for (int w_bits = 1; w_bits <= 8; ++w_bits) {
        for (bool x_signed : {false, true}) {
          for (bool w_signed : {false, true}) {
            const int32_t x_lo = operand_min(x_bits, x_signed),
                          x_hi = operand_max(x_bits, x_signed);
            const int32_t w_lo = operand_min(w_bits, w_signed),
                          w_hi = operand_max(w_bits, w_signed);
            for (int32_t x = x_lo; x <= x_hi; ++x) {
              for (int32_t w = w_lo; w <= w_hi; ++w) {
                const int64_t got =
                    decomposed_product(x, x_bits, x_signed, w, w_bits, w_signed, slice_bits);
                if (got != int64_t{x} * w) {
                  FAIL() << "B=" << slice_bits << " x=" << x << " (" << x_bits
                         << (x_signed ? "s" : "u") << ") w=" << w << " (" << w_bits
                         << (w_signed ? "s" : "u") << "): " << got;
                }
              }
            }
            checked += int64_t{x_hi - x_lo + 1} * (w_hi - w_lo + 1);
          }
        }
      }
    }
  }
  // (2 + 4 + ... + 256)^2 pairs per slice width and signedness combination.
  EXPECT_EQ(checked, int64_t{510} * 510 * 4 * 4);
}

TEST(BitDecompose, SliceTensor) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> dist(-32, 31);
  IntTensor t(2, 3, 4, 5);
  for (auto& v : t.values()) v = dist(rng);
  for (int index = 0; index < 3; ++index) {
    const IntTensor s = slice_tensor(t, 6, true, 2, index);
    ASSERT_TRUE(s.same_shape(t));
    for (size_t i = 0; i < t.size(); ++i)
      ASSERT_EQ(s.data()[i], bit_slice(t.data()[i], 6, true, 2, index));
  }
  // Summing the shifted slice tensors gives the tensor back.
  std::vector<int64_t> sum(t.size(), 0);
  for (int index = 0; index < 3; ++index) {
    const IntTensor s = slice_tensor(t, 6, true, 2, index);
    for (size_t i = 0; i < t.size(); ++i) sum[i] += int64_t{s.data()[i]} * (1 << (2 * index));
  }
  for (size_t i = 0; i < t.size(); ++i) ASSERT_EQ(sum[i], t.data()[i]);
  EXPECT_THROW(slice_tensor(t, 6, true, 2, 3), palsim::ArgumentError);
  EXPECT_THROW(slice_tensor(t, 5, true, 2, 0), palsim::ArgumentError);  // -32 is not 5-bit
}

TEST(BitDecompose, RejectsBadArguments) {
  EXPECT_THROW(bit_slice(128, 8, true, 2, 0), palsim::ArgumentError);
  EXPECT_THROW(bit_slice(-1, 8, false, 2, 0), palsim::ArgumentError);
  EXPECT_THROW(bit_slice(256, 8, false, 2, 0), palsim::ArgumentError);
  EXPECT_THROW(bit_slice(5, 8, false, 2, 4), palsim::ArgumentError);
  EXPECT_THROW(bit_slice(5, 8, false, 2, -1), palsim::ArgumentError);
  EXPECT_THROW(slice_is_signed(8, true, 2, 4), palsim::ArgumentError);
  EXPECT_THROW(decomposed_product(8, 3, true, 1, 3, true, 2), palsim::ArgumentError);
  EXPECT_THROW(decomposed_product(1, 3, true, -1, 3, false, 2), palsim::ArgumentError);
  EXPECT_THROW(compose_slices({1, 2}, 0), palsim::ArgumentError);
}

}  // namespace
}  // namespace palsim::kernels
