#include "kernels/bitbrick.h"

#include "common/error.h"
#include "kernels/quantize.h"

namespace palsim::kernels {

namespace {

// Widths of the BitBrick datapath: 3-bit extended operands, and a product
// register wide enough for (-4) * (-4) = 16.
constexpr uint32_t kOperandMask = 0x7;
constexpr int kProductBits = 6;
constexpr uint32_t kProductMask = (1u << kProductBits) - 1;

uint32_t extend_to_3_bits(uint32_t field, bool sign_extend) {
  const uint32_t top = sign_extend ? (field >> 1) & 1u : 0u;
  return field | (top << 2);
}

int64_t shift_left(int64_t v, int shift) {
  return static_cast<int64_t>(static_cast<uint64_t>(v) << shift);
}

void check_operand(int32_t v, int bits, bool is_signed) {
  if (v < operand_min(bits, is_signed) || v > operand_max(bits, is_signed)) {
    throw ArgumentError("Fusion Unit: operand outside its mode's range");
  }
}

// The BitBricks one a x w product occupies, added after their shifts. Fields
// are the raw 2-bit groups of the operands' two's-complement bits; only the
// top field of a signed operand is sign-extended.
int64_t fuse(int32_t a, int32_t w, const FusionMode& mode) {
  const int a_fields = mode.a_bits / 2;
  const int w_fields = mode.w_bits / 2;
  const uint32_t a_raw = static_cast<uint32_t>(a);
  const uint32_t w_raw = static_cast<uint32_t>(w);
  int64_t sum = 0;
  for (int i = 0; i < a_fields; ++i) {
    const uint32_t a2 = (a_raw >> (2 * i)) & 3u;
    const bool a_ext = mode.a_signed && i == a_fields - 1;
    for (int j = 0; j < w_fields; ++j) {
      const uint32_t w2 = (w_raw >> (2 * j)) & 3u;
      const bool w_ext = mode.w_signed && j == w_fields - 1;
      sum += shift_left(bitbrick(a2, a_ext, w2, w_ext), 2 * (i + j));
    }
  }
  return sum;
}

void check_mode(const FusionMode& mode) {
  if (!valid_fusion_mode(mode))
    throw ArgumentError("Fusion Unit: operand widths must be 2, 4 or 8");
}

}  // namespace

int32_t bitbrick(uint32_t x2, bool x_sign_extend, uint32_t w2, bool w_sign_extend) {
  if (x2 > 3 || w2 > 3) throw ArgumentError("bitbrick: fields are 2 bits");
  // Sign-extend the 3-bit operands into the product register, then add the
  // shifted partial products; the top bit of a 3-bit two's-complement value
  // weighs -4, so its partial product is subtracted (two's-complement negate).
  uint32_t x = extend_to_3_bits(x2, x_sign_extend);
  if (x & 0x4u) x |= ~kOperandMask;
  x &= kProductMask;
  const uint32_t w = extend_to_3_bits(w2, w_sign_extend);
  uint32_t acc = 0;
  if (w & 0x1u) acc += x;
  if (w & 0x2u) acc += x << 1;
  if (w & 0x4u) acc += ~(x << 2) + 1u;
  acc &= kProductMask;
  const bool negative = (acc >> (kProductBits - 1)) & 1u;
  return negative ? static_cast<int32_t>(acc) - (1 << kProductBits) : static_cast<int32_t>(acc);
}

bool valid_fusion_mode(const FusionMode& mode) {
  auto ok = [](int bits) { return bits == 2 || bits == 4 || bits == 8; };
  return ok(mode.a_bits) && ok(mode.w_bits);
}

int products_per_fusion_unit(const FusionMode& mode) {
  check_mode(mode);
  return kBitBricksPerFusionUnit / ((mode.a_bits / 2) * (mode.w_bits / 2));
}

int64_t fused_product(int32_t a, int32_t w, const FusionMode& mode) {
  check_mode(mode);
  check_operand(a, mode.a_bits, mode.a_signed);
  check_operand(w, mode.w_bits, mode.w_signed);
  return fuse(a, w, mode);
}

int64_t fusion_unit_cycle(const int32_t* a, const int32_t* w, const FusionMode& mode) {
  const int products = products_per_fusion_unit(mode);
  int64_t sum = 0;
  for (int k = 0; k < products; ++k) {
    check_operand(a[k], mode.a_bits, mode.a_signed);
    check_operand(w[k], mode.w_bits, mode.w_signed);
    sum += fuse(a[k], w[k], mode);
  }
  return sum;
}

}  // namespace palsim::kernels
