#include "kernels/nbve.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "common/error.h"
#include "kernels/quantize.h"

namespace palsim::kernels {
namespace {

const int kWidths[] = {2, 4, 6, 8};

int64_t dot(const std::vector<int32_t>& a, const std::vector<int32_t>& w) {
  int64_t sum = 0;
  for (size_t k = 0; k < a.size(); ++k) sum += int64_t{a[k]} * w[k];
  return sum;
}

TEST(Nbve, SlicePairsExhaustive) {
  for (bool as : {false, true})
    for (bool ws : {false, true})
      for (int32_t a = as ? -2 : 0; a <= (as ? 1 : 3); ++a)
        for (int32_t w = ws ? -2 : 0; w <= (ws ? 1 : 3); ++w)
          EXPECT_EQ(nbve_dot(&a, as, &w, ws, 1), a * w);
}

TEST(Nbve, RandomVectors) {
  std::mt19937 rng(12);
  for (bool as : {false, true})
    for (bool ws : {false, true}) {
      std::uniform_int_distribution<int32_t> ad(as ? -2 : 0, as ? 1 : 3),
          wd(ws ? -2 : 0, ws ? 1 : 3);
      for (int length : {0, 1, 7, 16, 255, 1024}) {
        std::vector<int32_t> a(length), w(length);
        for (int k = 0; k < length; ++k) {
          a[k] = ad(rng);
          w[k] = wd(rng);
        }
        EXPECT_EQ(nbve_dot(a.data(), as, w.data(), ws, length), dot(a, w));
      }
    }
  const int32_t bad = 2, ok = 1;
  EXPECT_THROW(nbve_dot(&bad, true, &ok, false, 1), palsim::ArgumentError);
  EXPECT_THROW(nbve_dot(&ok, false, &bad, true, 1), palsim::ArgumentError);
  EXPECT_THROW(nbve_dot(&ok, false, &ok, false, -1), palsim::ArgumentError);
}

TEST(Cvu, NbvesPerDot) {
  EXPECT_EQ(nbves_per_dot({2, false, 2, true}), 1);
  EXPECT_EQ(nbves_per_dot({8, false, 8, true}), 16);
  EXPECT_EQ(nbves_per_dot({6, false, 6, true}), 9);
  EXPECT_EQ(nbves_per_dot({8, false, 2, true}), 4);
  EXPECT_EQ(nbves_per_dot({4, true, 6, true}), 6);
  EXPECT_THROW(nbves_per_dot({3, false, 2, true}), palsim::ArgumentError);
  EXPECT_THROW(nbves_per_dot({2, false, 10, true}), palsim::ArgumentError);
  EXPECT_THROW(nbves_per_dot({0, false, 2, true}), palsim::ArgumentError);
}

// Length 1: every operand pair of every width combination (8-bit x 8-bit
// included), every signedness combination.
TEST(Cvu, SingleProductsExhaustive) {
  int64_t checked = 0;
  for (int a_bits : kWidths)
    for (int w_bits : kWidths)
      for (bool as : {false, true})
        for (bool ws : {false, true}) {
          const CvuOperands ops{a_bits, as, w_bits, ws};
          for (int32_t a = operand_min(a_bits, as); a <= operand_max(a_bits, as); ++a)
            for (int32_t w = operand_min(w_bits, ws); w <= operand_max(w_bits, ws); ++w) {
              const int64_t got = cvu_dot(&a, &w, 1, ops);
              if (got != int64_t{a} * w) {
                FAIL() << a << " x " << w << " widths " << a_bits << "/" << w_bits << " signed "
                       << as << ws;
              }
              ++checked;
            }
        }
  EXPECT_EQ(checked, int64_t{4 + 16 + 64 + 256} * (4 + 16 + 64 + 256) * 4);
}

// Length 2: every pair of 4-bit vectors against every pair of 4-bit vectors.
TEST(Cvu, LengthTwoFourBitExhaustive) {
  for (bool as : {false, true})
    for (bool ws : {false, true}) {
      const CvuOperands ops{4, as, 4, ws};
      const int32_t a_lo = operand_min(4, as), a_hi = operand_max(4, as);
      const int32_t w_lo = operand_min(4, ws), w_hi = operand_max(4, ws);
      int32_t a[2], w[2];
      for (a[0] = a_lo; a[0] <= a_hi; ++a[0])
        for (a[1] = a_lo; a[1] <= a_hi; ++a[1])
          for (w[0] = w_lo; w[0] <= w_hi; ++w[0])
            for (w[1] = w_lo; w[1] <= w_hi; ++w[1]) {
              const int64_t want = int64_t{a[0]} * w[0] + int64_t{a[1]} * w[1];
              if (cvu_dot(a, w, 2, ops) != want) {
                FAIL() << "a=(" << a[0] << "," << a[1] << ") w=(" << w[0] << "," << w[1]
                       << ") signed " << as << ws;
              }
            }
    }
}

TEST(Cvu, RandomLongVectors) {
  std::mt19937 rng(2020);
  for (int a_bits : kWidths)
    for (int w_bits : kWidths)
      for (bool as : {false, true})
        for (bool ws : {false, true}) {
          const CvuOperands ops{a_bits, as, w_bits, ws};
          std::uniform_int_distribution<int32_t> ad(operand_min(a_bits, as),
                                                    operand_max(a_bits, as));
          std::uniform_int_distribution<int32_t> wd(operand_min(w_bits, ws),
                                                    operand_max(w_bits, ws));
          for (int length : {0, 1, 3, 16, 100, 511, 1023, 1024}) {
            std::vector<int32_t> a(length), w(length);
            for (int k = 0; k < length; ++k) {
              a[k] = ad(rng);
              w[k] = wd(rng);
            }
            ASSERT_EQ(cvu_dot(a.data(), w.data(), length, ops), dot(a, w))
                << a_bits << "/" << w_bits << " signed " << as << ws << " length " << length;
          }
          // Extremes: the largest-magnitude sums of a 1024-long vector.
          for (int32_t av : {operand_min(a_bits, as), operand_max(a_bits, as)})
            for (int32_t wv : {operand_min(w_bits, ws), operand_max(w_bits, ws)}) {
              const std::vector<int32_t> a(1024, av), w(1024, wv);
              ASSERT_EQ(cvu_dot(a.data(), w.data(), 1024, ops), int64_t{av} * wv * 1024);
            }
        }
}

TEST(Cvu, RejectsOperandsOutsideTheirWidth) {
  const int32_t a = 64, w = 1;
  EXPECT_THROW(cvu_dot(&a, &w, 1, {6, true, 2, false}), palsim::ArgumentError);
  EXPECT_NO_THROW(cvu_dot(&a, &w, 1, {8, true, 2, false}));
  const int32_t neg = -1;
  EXPECT_THROW(cvu_dot(&neg, &w, 1, {8, false, 2, false}), palsim::ArgumentError);
  EXPECT_THROW(cvu_dot(&w, &w, 1, {5, false, 2, false}), palsim::ArgumentError);
}

}  // namespace
}  // namespace palsim::kernels
