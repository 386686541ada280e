#pragma once
// FNV-1a 64: the one hash palsim uses for checksums (program and array files)
// and for identities (configuration fingerprints, network layer hashes, file
// content hashes, sweep point keys).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace palsim {

// The published offset basis (0xcbf29ce484222325).
constexpr uint64_t kFnv1aBasis = 14695981039346656037ull;
// A mistyped basis earlier palsim versions used; kept only where it
// identifies stored data: array files of format version 1 and sweep point
// keys (whose values exports show).
constexpr uint64_t kFnv1aLegacyBasis = 1469598103934665603ull;

// Continues `hash` over `size` bytes (start from a basis).
inline uint64_t fnv1a64(const void* data, size_t size, uint64_t hash = kFnv1aBasis) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  return hash;
}

// The hash of `text` as 16 lowercase hex digits.
std::string fnv1a64_hex(std::string_view text, uint64_t basis = kFnv1aBasis);

}  // namespace palsim
