#pragma once
// A compiled program: the instruction words the controller executes, plus
// what the host needs around them (the DRAM layout of every tensor, the names
// of the operations, how the network was lowered). Saved as a versioned
// binary file (`palsim compile -o prog.bin`), read back by `palsim disasm` and
// `palsim simulate --program`.
//
// File format (little endian):
//   "PALSIMPG"  8 bytes magic
//   u32 format version (kProgramFormatVersion), u32 reserved (0)
//   u64 instruction count N, u64 metadata length L
//   N x u64 instruction words
//   L bytes of metadata (JSON, see ProgramInfo)
//   u64 FNV-1a 64 checksum of everything before it
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/isa/isa.h"

namespace palsim::isa {

// Version 2: the checksum is FNV-1a 64 as documented (version 1 files used a
// wrong offset basis). Version 3: GROUP_PACK. Version 4: channel views (the
// *_C_TOTAL/OFFSET/STRIDE registers, views in the tensor table) and the copy
// layer kind.
constexpr uint32_t kProgramFormatVersion = 4;

struct TensorInfo {
  std::string name;
  int c = 0, h = 0, w = 0, batch = 1, bits = 8;
  uint64_t dram_bit = 0;
  // A channel view of tensor view_of (see frontend::HwTensor); -1: none.
  int view_of = -1, view_offset = 0, view_stride = 1;
};

struct OpInfo {
  std::string name;
  std::string kind;
  std::string role;
  std::vector<std::string> layers;
  int64_t macs = 0;
  std::string mapping;  // human-readable mapping description
};

struct ProgramInfo {
  std::string network;
  std::string hw_name;
  std::string hw_fingerprint;
  std::string fp_layers;
  int batch = 1;
  bool onchip_intermediates = true;
  std::vector<std::string> excluded_layers;
  std::vector<TensorInfo> tensors;
  std::vector<OpInfo> ops;
  int input_tensor = -1;
  int output_tensor = -1;
  uint64_t dram_bits = 0;
};

struct Program {
  std::vector<Instruction> code;
  ProgramInfo info;
};

std::vector<uint8_t> serialize(const Program& p);
// The file's checksum (FNV-1a 64) of `n` bytes.
uint64_t program_checksum(const uint8_t* data, size_t n);
// Throws palsim::InputError naming `name` for a truncated, corrupted or
// other-version file.
Program deserialize(const std::vector<uint8_t>& bytes, const std::string& name);
void save_program(const Program& p, const std::string& path);  // atomically
// Reads and checks a program file (program_check.h): an inconsistent one is
// refused with the file and the instruction named.
Program load_program(const std::string& path);

// The readable listing: metadata as comments, then one instruction per line,
// indented by loop depth.
std::string listing(const Program& p);

}  // namespace palsim::isa
