#include "kernels/nbve.h"

#include <vector>

#include "common/error.h"
#include "kernels/bit_decompose.h"
#include "kernels/bitbrick.h"
#include "kernels/quantize.h"

namespace palsim::kernels {

namespace {

constexpr int kSliceBits = 2;

void check_operands(const CvuOperands& ops) {
  auto ok = [](int bits) { return bits >= 2 && bits <= 8 && bits % kSliceBits == 0; };
  if (!ok(ops.a_bits) || !ok(ops.w_bits))
    throw ArgumentError("CVU: operand widths must be 2, 4, 6 or 8");
}

void check_slice(int32_t s, bool is_signed) {
  const int32_t lo = is_signed ? -2 : 0;
  const int32_t hi = is_signed ? 1 : 3;
  if (s < lo || s > hi) throw ArgumentError("nbve_dot: slice outside its 2-bit range");
}

int64_t shift_left(int64_t v, int shift) {
  return static_cast<int64_t>(static_cast<uint64_t>(v) << shift);
}

}  // namespace

int64_t nbve_dot(const int32_t* a_slices, bool a_signed, const int32_t* w_slices, bool w_signed,
                 int length) {
  if (length < 0) throw ArgumentError("nbve_dot: negative length");
  // The NBVE's multipliers are the same 2-bit signed/unsigned multiplier as a
  // BitBrick: they see the raw 2-bit field and a sign-extension flag.
  int64_t sum = 0;
  for (int k = 0; k < length; ++k) {
    check_slice(a_slices[k], a_signed);
    check_slice(w_slices[k], w_signed);
    sum += bitbrick(static_cast<uint32_t>(a_slices[k]) & 3u, a_signed,
                    static_cast<uint32_t>(w_slices[k]) & 3u, w_signed);
  }
  return sum;
}

int nbves_per_dot(const CvuOperands& ops) {
  check_operands(ops);
  return (ops.a_bits / kSliceBits) * (ops.w_bits / kSliceBits);
}

int64_t cvu_dot(const int32_t* a, const int32_t* w, int length, const CvuOperands& ops) {
  check_operands(ops);
  if (length < 0) throw ArgumentError("cvu_dot: negative length");
  const int ga = slice_count(ops.a_bits, kSliceBits);
  const int gw = slice_count(ops.w_bits, kSliceBits);
  // Slice planes: a_planes[i * length + k] is slice i of a[k].
  std::vector<int32_t> a_planes(static_cast<size_t>(ga) * length);
  std::vector<int32_t> w_planes(static_cast<size_t>(gw) * length);
  for (int i = 0; i < ga; ++i) {
    for (int k = 0; k < length; ++k) {
      a_planes[static_cast<size_t>(i) * length + k] =
          bit_slice(a[k], ops.a_bits, ops.a_signed, kSliceBits, i);
    }
  }
  for (int j = 0; j < gw; ++j) {
    for (int k = 0; k < length; ++k) {
      w_planes[static_cast<size_t>(j) * length + k] =
          bit_slice(w[k], ops.w_bits, ops.w_signed, kSliceBits, j);
    }
  }
  // One NBVE per slice pair over the whole vector; the aggregator shifts each
  // NBVE result once and adds.
  int64_t sum = 0;
  for (int i = 0; i < ga; ++i) {
    const bool a_sig = slice_is_signed(ops.a_bits, ops.a_signed, kSliceBits, i);
    for (int j = 0; j < gw; ++j) {
      const bool w_sig = slice_is_signed(ops.w_bits, ops.w_signed, kSliceBits, j);
      const int64_t partial =
          nbve_dot(a_planes.data() + static_cast<size_t>(i) * length, a_sig,
                   w_planes.data() + static_cast<size_t>(j) * length, w_sig, length);
      sum += shift_left(partial, kSliceBits * (i + j));
    }
  }
  return sum;
}

}  // namespace palsim::kernels
