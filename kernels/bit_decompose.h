#pragma once
// Bit decomposition (docs/method.md §1, Eq. 4): an M-bit operand is split into
// G = ceil(M/B) slices of B bits, slice 0 least significant. Only the most
// significant slice of a signed operand is signed (sign-extended); the others
// are unsigned. Then
//   x * w = sum_i sum_j x_i w_j 2^((i+j)B)
// exactly, in integers.
#include <cstdint>
#include <vector>

#include "kernels/tensor.h"

namespace palsim::kernels {

int slice_count(int bits, int slice_bits);  // ceil(bits / slice_bits)

// Slice `index` of value v (an M-bit operand, signed or not), as an integer:
// unsigned in [0, 2^B - 1] for lower slices; for the top slice of a signed
// operand, signed (v >> (index*B), arithmetic).
int32_t bit_slice(int32_t v, int bits, bool is_signed, int slice_bits, int index);
// Whether slice `index` of an operand is signed.
bool slice_is_signed(int bits, bool is_signed, int slice_bits, int index);
std::vector<int32_t> bit_slices(int32_t v, int bits, bool is_signed, int slice_bits);
// Inverse of bit_slices: sum_i s_i 2^(i B).
int64_t compose_slices(const std::vector<int32_t>& slices, int slice_bits);

// x * w through slice products and shifts.
int64_t decomposed_product(int32_t x, int x_bits, bool x_signed, int32_t w, int w_bits,
                           bool w_signed, int slice_bits);

// Element-wise slice of a tensor (every value sliced the same way).
IntTensor slice_tensor(const IntTensor& t, int bits, bool is_signed, int slice_bits, int index);

}  // namespace palsim::kernels
