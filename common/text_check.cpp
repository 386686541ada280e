#include "common/text_check.h"

#include <fmt/format.h>

#include <cstdint>

namespace palsim {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 (RFC 3629,
// table 3-7 of the Unicode standard).
size_t sequence_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string text_problem(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\0') return fmt::format("contains a NUL byte (at byte {})", i);
    const size_t n = sequence_length(s, i);
    if (n == 0) {
      return fmt::format("is not valid UTF-8 text (byte 0x{:02x} at byte {})",
                         static_cast<uint8_t>(s[i]), i);
    }
    i += n;
  }
  return "";
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = s[i] == '\0' ? 0 : sequence_length(s, i);
    if (n == 0) {
      out += fmt::format("\\x{:02x}", static_cast<uint8_t>(s[i]));
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace palsim
