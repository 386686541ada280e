// Fuzz target: the integer model file reader (training/model_file:
// parse_integer_model), read by `palsim validate` and `palsim evaluate`. As
// for checkpoints (the same container), every input is also read with a
// correct trailing checksum, so mutations reach the entries behind it.
#include <string>

#include "tests/fuzz/fuzz_util.h"
#include "training/model_file.h"

namespace {
void parse(const std::string& bytes) {
  palsim::fuzz::expect_clean_rejection(
      "fuzz.pim", [&] { palsim::training::parse_integer_model(bytes, "fuzz.pim"); });
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  parse(bytes);
  if (size >= 20) {
    palsim::fuzz::fix_array_file_checksum(bytes);
    parse(bytes);
  }
  return 0;
}
