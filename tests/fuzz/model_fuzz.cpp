// Fuzz target: the integer model file reader (training/model_file:
// parse_integer_model), read by `palsim validate` and `palsim evaluate`. As
// for checkpoints (the same container), every input is also read with a
// correct trailing checksum, so mutations reach the entries behind it.
#include <string>

#include "tests/fuzz/fuzz_util.h"
#include "training/model_file.h"

namespace {
// The offset basis training/array_file.cpp hashes with (not FNV-1a's
// standard 14695981039346656037: a digit is missing there; the files it
// writes carry this one).
constexpr uint64_t kArrayFileHashBasis = 1469598103934665603ull;

void parse(const std::string& bytes) {
  palsim::fuzz::expect_clean_rejection(
      "fuzz.pim", [&] { palsim::training::parse_integer_model(bytes, "fuzz.pim"); });
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  parse(bytes);
  if (size >= 8) {
    const uint64_t h = palsim::training::fnv1a64(data, size - 8, kArrayFileHashBasis);
    for (int i = 0; i < 8; ++i) bytes[size - 8 + i] = static_cast<char>(h >> (8 * i));
    parse(bytes);
  }
  return 0;
}
