#pragma once
// One rounding rule everywhere: round half to even, as torch.round does. The
// float quantizers and the integer post-processing both use it, so the integer
// path reproduces the fake-quantized path exactly.
#include <cstdint>

namespace palsim::kernels {

// Nearest integer to x, ties to even (x finite, |x| < 2^62).
double round_half_even(double x);
float round_half_even(float x);

// round_half_even(v / 2^shift) computed exactly in integers; shift in 0..62.
// shift == 0 returns v. Throws palsim::ArgumentError for a shift outside
// 0..62 and std::overflow_error (kept distinct: an arithmetic overflow, not a
// bad argument) if the result does not fit in 64 bits.
int64_t rounding_shift_right(__int128 v, int shift);
// The same with a 128-bit result and shift in 0..126 (never overflows).
__int128 rounding_shift_right_wide(__int128 v, int shift);

}  // namespace palsim::kernels
