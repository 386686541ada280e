#include "kernels/bitbrick.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "common/error.h"
#include "kernels/quantize.h"

namespace palsim::kernels {
namespace {

int32_t interpret(uint32_t field, bool sign_extend) {
  return (sign_extend && field >= 2) ? static_cast<int32_t>(field) - 4
                                     : static_cast<int32_t>(field);
}

TEST(BitBrick, ExhaustiveAgainstMultiplication) {
  int checked = 0;
  for (uint32_t x = 0; x < 4; ++x)
    for (uint32_t w = 0; w < 4; ++w)
      for (bool xs : {false, true})
        for (bool ws : {false, true}) {
          EXPECT_EQ(bitbrick(x, xs, w, ws), interpret(x, xs) * interpret(w, ws))
              << x << (xs ? "s" : "u") << " * " << w << (ws ? "s" : "u");
          ++checked;
        }
  EXPECT_EQ(checked, 4 * 4 * 2 * 2);
  EXPECT_EQ(bitbrick(2, true, 2, true), 4);    // (-2)(-2)
  EXPECT_EQ(bitbrick(3, false, 2, true), -6);  // 3 * (-2)
  EXPECT_EQ(bitbrick(3, false, 3, false), 9);
  EXPECT_EQ(bitbrick(3, true, 3, false), -3);
  EXPECT_THROW(bitbrick(4, false, 0, false), palsim::ArgumentError);
  EXPECT_THROW(bitbrick(0, false, 7, true), palsim::ArgumentError);
}

const int kWidths[] = {2, 4, 8};

TEST(FusionUnit, Modes) {
  EXPECT_EQ(products_per_fusion_unit({2, 2, false, true}), 16);
  EXPECT_EQ(products_per_fusion_unit({4, 4, false, true}), 4);
  EXPECT_EQ(products_per_fusion_unit({8, 8, false, true}), 1);
  EXPECT_EQ(products_per_fusion_unit({8, 2, false, true}), 4);
  EXPECT_EQ(products_per_fusion_unit({2, 8, false, true}), 4);
  EXPECT_EQ(products_per_fusion_unit({2, 4, false, true}), 8);
  EXPECT_EQ(products_per_fusion_unit({4, 8, true, true}), 2);
  for (int a : kWidths)
    for (int w : kWidths) {
      const FusionMode mode{a, w, false, true};
      EXPECT_TRUE(valid_fusion_mode(mode));
      // Every BitBrick busy in every mode.
      EXPECT_EQ(products_per_fusion_unit(mode) * (a / 2) * (w / 2), kBitBricksPerFusionUnit);
    }
  for (int bad : {0, 1, 3, 6, 16}) {
    EXPECT_FALSE(valid_fusion_mode({bad, 2, false, true}));
    EXPECT_FALSE(valid_fusion_mode({2, bad, false, true}));
    EXPECT_THROW(products_per_fusion_unit({bad, 2, false, true}), palsim::ArgumentError);
    EXPECT_THROW(fused_product(0, 0, {2, bad, false, true}), palsim::ArgumentError);
  }
}

TEST(FusionUnit, FusedProductExhaustive) {
  int64_t checked = 0;
  for (int a_bits : kWidths)
    for (int w_bits : kWidths)
      for (bool a_signed : {false, true})
        for (bool w_signed : {false, true}) {
          const FusionMode mode{a_bits, w_bits, a_signed, w_signed};
          for (int32_t a = operand_min(a_bits, a_signed); a <= operand_max(a_bits, a_signed); ++a)
            for (int32_t w = operand_min(w_bits, w_signed); w <= operand_max(w_bits, w_signed);
                 ++w) {
              const int64_t got = fused_product(a, w, mode);
              if (got != int64_t{a} * w) {
                FAIL() << a << " x " << w << " in mode " << a_bits << (a_signed ? "s" : "u") << "x"
                       << w_bits << (w_signed ? "s" : "u") << ": " << got;
              }
              ++checked;
            }
        }
  EXPECT_EQ(checked, int64_t{4 + 16 + 256} * (4 + 16 + 256) * 4);
}

TEST(FusionUnit, CycleMatchesDotProduct) {
  std::mt19937 rng(31);
  for (int a_bits : kWidths)
    for (int w_bits : kWidths)
      for (bool a_signed : {false, true})
        for (bool w_signed : {false, true}) {
          const FusionMode mode{a_bits, w_bits, a_signed, w_signed};
          const int n = products_per_fusion_unit(mode);
          std::uniform_int_distribution<int32_t> ad(operand_min(a_bits, a_signed),
                                                    operand_max(a_bits, a_signed));
          std::uniform_int_distribution<int32_t> wd(operand_min(w_bits, w_signed),
                                                    operand_max(w_bits, w_signed));
          std::vector<int32_t> a(n), w(n);
          for (int trial = 0; trial < 2000; ++trial) {
            int64_t want = 0;
            for (int k = 0; k < n; ++k) {
              a[k] = ad(rng);
              w[k] = wd(rng);
              want += int64_t{a[k]} * w[k];
            }
            ASSERT_EQ(fusion_unit_cycle(a.data(), w.data(), mode), want);
          }
          // Worst case: every operand at the extreme giving the largest magnitude.
          for (int k = 0; k < n; ++k) {
            a[k] = operand_min(a_bits, a_signed) != 0 ? operand_min(a_bits, a_signed)
                                                      : operand_max(a_bits, a_signed);
            w[k] = operand_min(w_bits, w_signed) != 0 ? operand_min(w_bits, w_signed)
                                                      : operand_max(w_bits, w_signed);
          }
          EXPECT_EQ(fusion_unit_cycle(a.data(), w.data(), mode), int64_t{a[0]} * w[0] * n);
        }
}

TEST(FusionUnit, RejectsOperandsOutsideTheMode) {
  const FusionMode mode{4, 2, false, true};
  EXPECT_THROW(fused_product(16, 1, mode), palsim::ArgumentError);
  EXPECT_THROW(fused_product(-1, 1, mode), palsim::ArgumentError);
  EXPECT_THROW(fused_product(3, 2, mode), palsim::ArgumentError);
  EXPECT_THROW(fused_product(3, -3, mode), palsim::ArgumentError);
  std::vector<int32_t> a(4, 1), w(4, 1);
  w[3] = 5;
  EXPECT_THROW(fusion_unit_cycle(a.data(), w.data(), mode), palsim::ArgumentError);
}

}  // namespace
}  // namespace palsim::kernels
