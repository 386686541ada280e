#include "kernels/bit_decompose.h"

#include "common/error.h"
#include "kernels/quantize.h"

namespace palsim::kernels {

namespace {

void check_widths(int bits, int slice_bits) {
  if (bits < 1 || bits > 31) throw ArgumentError("bit decomposition: bits must be in 1..31");
  if (slice_bits < 1 || slice_bits > 31) {
    throw ArgumentError("bit decomposition: slice_bits must be in 1..31");
  }
}

// 2^shift * v without shifting a negative value (undefined before C++20);
// wraps like a hardware shifter if the caller ever exceeded 64 bits.
int64_t shift_left(int64_t v, int shift) {
  return static_cast<int64_t>(static_cast<uint64_t>(v) << shift);
}

// bit_slice without argument checks, for the hot loops.
int32_t slice_unchecked(int32_t v, bool top_signed, int slice_bits, int index) {
  // Arithmetic right shift (GCC; standard from C++20) keeps the sign for the
  // top slice of a signed operand, even when it holds fewer than slice_bits
  // meaningful bits.
  const int32_t shifted = v >> (index * slice_bits);
  if (top_signed) return shifted;
  return static_cast<int32_t>(static_cast<uint32_t>(shifted) & ((uint32_t{1} << slice_bits) - 1));
}

}  // namespace

int slice_count(int bits, int slice_bits) {
  check_widths(bits, slice_bits);
  return (bits + slice_bits - 1) / slice_bits;
}

bool slice_is_signed(int bits, bool is_signed, int slice_bits, int index) {
  const int count = slice_count(bits, slice_bits);
  if (index < 0 || index >= count)
    throw ArgumentError("bit decomposition: slice index out of range");
  return is_signed && index == count - 1;
}

int32_t bit_slice(int32_t v, int bits, bool is_signed, int slice_bits, int index) {
  const bool top_signed = slice_is_signed(bits, is_signed, slice_bits, index);
  if (v < operand_min(bits, is_signed) || v > operand_max(bits, is_signed)) {
    throw ArgumentError("bit decomposition: value outside the operand range");
  }
  // An unsigned top slice needs no mask either: v >> shift is already below 2^B.
  return slice_unchecked(v, top_signed, slice_bits, index);
}

std::vector<int32_t> bit_slices(int32_t v, int bits, bool is_signed, int slice_bits) {
  std::vector<int32_t> slices(slice_count(bits, slice_bits));
  for (int i = 0; i < static_cast<int>(slices.size()); ++i) {
    slices[i] = bit_slice(v, bits, is_signed, slice_bits, i);
  }
  return slices;
}

int64_t compose_slices(const std::vector<int32_t>& slices, int slice_bits) {
  if (slice_bits < 1) throw ArgumentError("compose_slices: slice_bits must be positive");
  if (!slices.empty() && static_cast<int64_t>(slices.size() - 1) * slice_bits > 62) {
    throw ArgumentError("compose_slices: too many slices for 64 bits");
  }
  int64_t v = 0;
  for (size_t i = 0; i < slices.size(); ++i)
    v += shift_left(slices[i], static_cast<int>(i) * slice_bits);
  return v;
}

int64_t decomposed_product(int32_t x, int x_bits, bool x_signed, int32_t w, int w_bits,
                           bool w_signed, int slice_bits) {
  check_widths(x_bits, slice_bits);
  check_widths(w_bits, slice_bits);
  if (x < operand_min(x_bits, x_signed) || x > operand_max(x_bits, x_signed) ||
      w < operand_min(w_bits, w_signed) || w > operand_max(w_bits, w_signed)) {
    throw ArgumentError("decomposed_product: operand outside its range");
  }
  const int gx = slice_count(x_bits, slice_bits);
  const int gw = slice_count(w_bits, slice_bits);
  int64_t sum = 0;
  for (int i = 0; i < gx; ++i) {
    const int64_t xi = slice_unchecked(x, x_signed && i == gx - 1, slice_bits, i);
    for (int j = 0; j < gw; ++j) {
      const int64_t wj = slice_unchecked(w, w_signed && j == gw - 1, slice_bits, j);
      sum += shift_left(xi * wj, (i + j) * slice_bits);
    }
  }
  return sum;
}

IntTensor slice_tensor(const IntTensor& t, int bits, bool is_signed, int slice_bits, int index) {
  const bool top_signed = slice_is_signed(bits, is_signed, slice_bits, index);
  const int32_t lo = operand_min(bits, is_signed), hi = operand_max(bits, is_signed);
  IntTensor out(t.n(), t.c(), t.h(), t.w());
  for (size_t i = 0; i < t.size(); ++i) {
    const int32_t v = t.data()[i];
    if (v < lo || v > hi) throw ArgumentError("slice_tensor: value outside the operand range");
    out.data()[i] = slice_unchecked(v, top_signed, slice_bits, index);
  }
  return out;
}

}  // namespace palsim::kernels
