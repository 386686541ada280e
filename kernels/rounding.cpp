#include "kernels/rounding.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "common/error.h"

namespace palsim::kernels {

namespace {

// Written out rather than std::nearbyint so that the result does not depend on
// the caller's floating-point rounding mode. x - floor(x) is exact in binary
// floating point, so the comparison with one half is exact too.
template <typename F>
F round_half_even_impl(F x) {
  const F lower = std::floor(x);
  const F frac = x - lower;
  const F half = F(0.5);
  if (frac < half) return lower;
  if (frac > half) return lower + F(1);
  return std::fmod(lower, F(2)) == F(0) ? lower : lower + F(1);
}

}  // namespace

double round_half_even(double x) {
  return round_half_even_impl(x);
}
float round_half_even(float x) {
  return round_half_even_impl(x);
}

__int128 rounding_shift_right_wide(__int128 v, int shift) {
  if (shift < 0 || shift > 126) throw ArgumentError("rounding_shift_right: shift out of range");
  if (shift == 0) return v;
  // Bit operations on the unsigned image avoid shifting negative values; the
  // arithmetic right shift of a signed __int128 is floor division (GCC).
  const unsigned __int128 one = 1;
  const unsigned __int128 remainder = static_cast<unsigned __int128>(v) & ((one << shift) - 1);
  const unsigned __int128 half = one << (shift - 1);
  __int128 q = v >> shift;
  if (remainder > half || (remainder == half && (q & 1) != 0)) ++q;
  return q;
}

int64_t rounding_shift_right(__int128 v, int shift) {
  if (shift < 0 || shift > 62) throw ArgumentError("rounding_shift_right: shift out of range");
  const __int128 q = rounding_shift_right_wide(v, shift);
  if (q > std::numeric_limits<int64_t>::max() || q < std::numeric_limits<int64_t>::min())
    throw std::overflow_error("rounding_shift_right: result exceeds 64 bits");
  return static_cast<int64_t>(q);
}

}  // namespace palsim::kernels
