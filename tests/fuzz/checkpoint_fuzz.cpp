// Fuzz target: the named-array file reader of training checkpoints
// (training/array_file: ArrayFile::parse), read by `palsim train` to resume.
// Like the program target, every input is also read with a correct trailing
// checksum, so mutations reach the entry parser behind it.
#include <string>

#include "tests/fuzz/fuzz_util.h"
#include "training/array_file.h"

namespace {
void parse_and_read(const std::string& bytes) {
  palsim::fuzz::expect_clean_rejection("fuzz.ckpt", [&] {
    const palsim::training::ArrayFile f = palsim::training::ArrayFile::parse(bytes, "fuzz.ckpt");
    for (const auto& [name, a] : f.arrays()) {
      if (a.dtype == palsim::training::DType::kFloat32) a.floats();
      if (a.dtype == palsim::training::DType::kInt64) a.int64s();
      if (a.dtype == palsim::training::DType::kBytes) a.text();
    }
  });
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  parse_and_read(bytes);
  if (size >= 20) {
    palsim::fuzz::fix_array_file_checksum(bytes);
    parse_and_read(bytes);
  }
  return 0;
}
