#pragma once
// Bit Fusion arithmetic (Sharma et al., ISCA 2018).
//
// A BitBrick multiplies two 2-bit fields, each with a sign-extension bit that
// says whether the field is the signed top slice of its operand: the field is
// extended to 3 bits (sign or zero) and a 3x3-bit signed product is formed.
//
// A Fusion Unit (FU) has 16 BitBricks and a shift-add tree. Each operand width
// is 2, 4 or 8 bits, independently: a product of an a-bit by a w-bit operand
// takes (a/2)(w/2) BitBricks, so an FU forms 16 / ((a/2)(w/2)) products per
// cycle, and sums them into one partial sum (the products lie along the
// reduction dimension).
#include <cstdint>

namespace palsim::kernels {

constexpr int kBitBricksPerFusionUnit = 16;

// 2-bit x 2-bit with sign-extension bits. x2, w2 are the raw 2-bit fields (0..3).
int32_t bitbrick(uint32_t x2, bool x_sign_extend, uint32_t w2, bool w_sign_extend);

struct FusionMode {
  int a_bits = 2;  // 2, 4 or 8
  int w_bits = 2;  // 2, 4 or 8
  bool a_signed = false;
  bool w_signed = true;
};

bool valid_fusion_mode(const FusionMode& mode);
// 16 / ((a/2)(w/2)).
int products_per_fusion_unit(const FusionMode& mode);

// One fused product computed by (a/2)(w/2) BitBricks and shifts.
int64_t fused_product(int32_t a, int32_t w, const FusionMode& mode);

// One FU cycle: sum over k < products_per_fusion_unit(mode) of a[k] * w[k],
// through BitBricks. Operands must lie in their mode's range.
int64_t fusion_unit_cycle(const int32_t* a, const int32_t* w, const FusionMode& mode);

}  // namespace palsim::kernels
