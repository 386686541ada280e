// Fuzz target: the program file reader (frontend/isa/program) and its listing
// (`palsim disasm`). Every input is read twice: as it is, and with its last 8
// bytes replaced by the correct checksum, so that mutations also reach the
// header, instruction and metadata checks behind the checksum.
#include <vector>

#include "frontend/isa/program.h"
#include "frontend/isa/program_check.h"
#include "tests/fuzz/fuzz_util.h"

namespace {
void read_and_list(const std::vector<uint8_t>& bytes) {
  palsim::fuzz::expect_clean_rejection("fuzz.bin", [&] {
    const palsim::isa::Program p = palsim::isa::deserialize(bytes, "fuzz.bin");
    palsim::isa::listing(p);
    palsim::isa::check_program(p, "fuzz.bin");  // what load_program adds
  });
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  read_and_list(bytes);
  if (size >= 8) {
    const uint64_t sum = palsim::isa::program_checksum(bytes.data(), size - 8);
    for (int i = 0; i < 8; ++i) bytes[size - 8 + i] = static_cast<uint8_t>(sum >> (8 * i));
    read_and_list(bytes);
  }
  return 0;
}
