// The program file: its documented layout, a lossless round trip, and a
// palsim::InputError naming the file for every way a file can be damaged.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "frontend/builders/registry.h"
#include "frontend/isa/program.h"
#include "frontend/lowering/compile.h"
#include "tests/common/test_util.h"

namespace palsim::isa {
namespace {

using palsim_test::Contains;
using palsim_test::TempDir;

namespace fs = std::filesystem;

// The header: magic 8, version 4, reserved 4, count 8, metadata length 8.
constexpr size_t kHeader = 32;

// FNV-1a 64, written here from its definition (not palsim's copy).
uint64_t fnv1a64(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}
uint64_t get_u64(const std::vector<uint8_t>& b, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b[at + i]) << (8 * i);
  return v;
}
void put_u64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
// Rewrites the trailing checksum so that only the intended damage remains.
void reseal(std::vector<uint8_t>& b) {
  put_u64(b, b.size() - 8, fnv1a64(b.data(), b.size() - 8));
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The message of the InputError that loading `bytes` from a file raises ("" and
// a failure when it loads).
std::string load_error(const std::string& path, const std::vector<uint8_t>& bytes) {
  write_bytes(path, bytes);
  try {
    load_program(path);
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an InputError: " << e.what();
    return "";
  }
  ADD_FAILURE() << "a damaged file of " << bytes.size() << " bytes loaded";
  return "";
}

// A small program with every kind of metadata.
Program small_program() {
  Program p;
  p.code = {layer(LayerKind::kConv, 0),
            set_reg(Reg::kInAddr, 4096),
            set_reg(Reg::kTileC, 7),
            loop(Dim::kG, 2),
            loop(Dim::kH, 3),
            load(LoadOperand::kInput),
            load(LoadOperand::kWeight),
            compute(),
            store(StoreOperand::kOutput),
            end_loop(),
            end_loop(),
            end_layer(),
            halt()};
  ProgramInfo& i = p.info;
  i.network = "tiny";
  i.hw_name = "bitfusion-16x32";
  i.hw_fingerprint = "fp|1";
  i.fp_layers = "exclude";
  i.batch = 2;
  i.onchip_intermediates = false;
  i.excluded_layers = {"conv1", "fc"};
  i.tensors = {TensorInfo{"input", 3, 8, 8, 2, 2, 0}, TensorInfo{"conv", 4, 6, 6, 2, 8, 1u << 20}};
  i.ops = {OpInfo{"conv", "conv", "body", {"conv", "bn", "relu"}, 1234, "tiles N1 H3"}};
  i.input_tensor = 0;
  i.output_tensor = 1;
  i.dram_bits = 1ull << 40;
  return p;
}

const Program& compiled_resnet18_palquant() {
  static const Program p = [] {
    const frontend::HwConfig hw =
        frontend::load_hw_config(std::string(PALSIM_SOURCE_DIR) + "/configs/bitfusion.yaml");
    frontend::NetworkRequest request;
    request.network = "resnet18";
    request.method_given = true;
    request.method.method = frontend::Method::kPalQuant;
    request.method.B = 2;
    request.method.G = 2;
    return frontend::compile_network(hw, frontend::resolve_network(request),
                                     frontend::LoweringOptions{})
        .program;
  }();
  return p;
}

void expect_same_program(const Program& a, const Program& b) {
  EXPECT_EQ(a.code, b.code);
  const ProgramInfo &x = a.info, &y = b.info;
  EXPECT_EQ(x.network, y.network);
  EXPECT_EQ(x.hw_name, y.hw_name);
  EXPECT_EQ(x.hw_fingerprint, y.hw_fingerprint);
  EXPECT_EQ(x.fp_layers, y.fp_layers);
  EXPECT_EQ(x.batch, y.batch);
  EXPECT_EQ(x.onchip_intermediates, y.onchip_intermediates);
  EXPECT_EQ(x.excluded_layers, y.excluded_layers);
  EXPECT_EQ(x.input_tensor, y.input_tensor);
  EXPECT_EQ(x.output_tensor, y.output_tensor);
  EXPECT_EQ(x.dram_bits, y.dram_bits);
  ASSERT_EQ(x.tensors.size(), y.tensors.size());
  for (size_t t = 0; t < x.tensors.size(); ++t) {
    const TensorInfo &u = x.tensors[t], &v = y.tensors[t];
    EXPECT_EQ(u.name, v.name);
    EXPECT_EQ(u.c, v.c);
    EXPECT_EQ(u.h, v.h);
    EXPECT_EQ(u.w, v.w);
    EXPECT_EQ(u.batch, v.batch);
    EXPECT_EQ(u.bits, v.bits);
    EXPECT_EQ(u.dram_bit, v.dram_bit);
  }
  ASSERT_EQ(x.ops.size(), y.ops.size());
  for (size_t o = 0; o < x.ops.size(); ++o) {
    const OpInfo &u = x.ops[o], &v = y.ops[o];
    EXPECT_EQ(u.name, v.name);
    EXPECT_EQ(u.kind, v.kind);
    EXPECT_EQ(u.role, v.role);
    EXPECT_EQ(u.layers, v.layers);
    EXPECT_EQ(u.macs, v.macs);
    EXPECT_EQ(u.mapping, v.mapping);
  }
}

TEST(ProgramFile, LayoutIsTheDocumentedOne) {
  const Program p = small_program();
  const std::vector<uint8_t> b = serialize(p);
  ASSERT_GE(b.size(), kHeader + 8);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 8), "PALSIMPG");
  EXPECT_EQ(get_u64(b, 8) & 0xffffffffu, kProgramFormatVersion);
  EXPECT_EQ(get_u64(b, 8) >> 32, 0u);  // reserved
  EXPECT_EQ(get_u64(b, 16), p.code.size());
  const uint64_t meta = get_u64(b, 24);
  EXPECT_EQ(b.size(), kHeader + 8 * p.code.size() + meta + 8);
  for (size_t i = 0; i < p.code.size(); ++i)
    EXPECT_EQ(get_u64(b, kHeader + 8 * i), encode(p.code[i]));
  EXPECT_EQ(b[kHeader + 8 * p.code.size()], '{');  // JSON metadata
  EXPECT_EQ(get_u64(b, b.size() - 8), fnv1a64(b.data(), b.size() - 8));
}

TEST(ProgramFile, SaveLoadRoundTrip) {
  TempDir dir;
  const Program small = small_program();
  for (const Program* p : {&small, &compiled_resnet18_palquant()}) {
    const std::string path = dir.file("prog.bin");
    save_program(*p, path);
    const Program back = load_program(path);
    expect_same_program(*p, back);
    EXPECT_EQ(read_bytes(path), serialize(back));  // and byte for byte
  }
  // An empty program survives too.
  const Program empty;
  const Program back = deserialize(serialize(empty), "empty");
  expect_same_program(empty, back);
}

TEST(ProgramFile, EveryTruncationIsAnInputErrorNamingTheFile) {
  TempDir dir;
  const std::string path = dir.file("truncated.bin");
  const std::vector<uint8_t> b = serialize(small_program());
  for (size_t n = 0; n < b.size(); ++n) {
    const std::string msg = load_error(path, std::vector<uint8_t>(b.begin(), b.begin() + n));
    ASSERT_TRUE(Contains(msg, path)) << "prefix of " << n << " bytes";
  }
}

TEST(ProgramFile, EveryFlippedByteIsAnInputErrorNamingTheFile) {
  TempDir dir;
  const std::string path = dir.file("flipped.bin");
  const std::vector<uint8_t> b = serialize(small_program());
  for (size_t at = 0; at < b.size(); ++at) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> damaged = b;
      damaged[at] ^= flip;
      const std::string msg = load_error(path, damaged);
      ASSERT_TRUE(Contains(msg, path)) << "byte " << at << " ^ " << int{flip};
    }
  }
  // Past the header, the checksum is what catches it.
  std::vector<uint8_t> damaged = b;
  damaged[kHeader + 3] ^= 0x10;
  EXPECT_CONTAINS(load_error(path, damaged), "checksum");
}

TEST(ProgramFile, WrongMagic) {
  TempDir dir;
  const std::string path = dir.file("magic.bin");
  std::vector<uint8_t> b = serialize(small_program());
  b[0] = 'X';
  reseal(b);
  const std::string msg = load_error(path, b);
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "magic");
  // Something that is not a program at all.
  const std::string text = "format: palsim-hw-1\nname: not a program at all, but long enough\n";
  const std::string msg2 = load_error(path, std::vector<uint8_t>(text.begin(), text.end()));
  EXPECT_CONTAINS(msg2, path);
  EXPECT_CONTAINS(msg2, "magic");
}

TEST(ProgramFile, OtherFormatVersionNamesTheVersion) {
  TempDir dir;
  const std::string path = dir.file("version.bin");
  for (uint32_t version : {0u, kProgramFormatVersion + 1, 77u}) {
    std::vector<uint8_t> b = serialize(small_program());
    for (int i = 0; i < 4; ++i) b[8 + i] = static_cast<uint8_t>(version >> (8 * i));
    reseal(b);  // a well-formed file of another version
    const std::string msg = load_error(path, b);
    EXPECT_CONTAINS(msg, path);
    EXPECT_CONTAINS(msg, "version " + std::to_string(version));
    EXPECT_CONTAINS(msg, std::to_string(kProgramFormatVersion));
  }
}

TEST(ProgramFile, TrailingGarbage) {
  TempDir dir;
  const std::string path = dir.file("trailing.bin");
  const std::vector<uint8_t> b = serialize(small_program());
  for (size_t extra : {1u, 7u, 8u, 100u}) {
    std::vector<uint8_t> longer = b;
    longer.insert(longer.end(), extra, 0);
    EXPECT_CONTAINS(load_error(path, longer), path);
    reseal(longer);  // even with a checksum over everything
    EXPECT_CONTAINS(load_error(path, longer), path);
  }
  // Two programs back to back.
  std::vector<uint8_t> twice = b;
  twice.insert(twice.end(), b.begin(), b.end());
  EXPECT_CONTAINS(load_error(path, twice), path);
}

TEST(ProgramFile, BadContentsUnderAValidChecksum) {
  TempDir dir;
  const std::string path = dir.file("contents.bin");
  const Program p = small_program();
  const std::vector<uint8_t> b = serialize(p);
  {
    // An instruction word with a bit outside its fields (LOOP uses bits 0..31 and 54..63).
    ASSERT_EQ(p.code[3].opcode, Opcode::kLoop);
    std::vector<uint8_t> damaged = b;
    put_u64(damaged, kHeader + 3 * 8, encode(p.code[3]) | (1ull << 40));
    reseal(damaged);
    const std::string msg = load_error(path, damaged);
    EXPECT_CONTAINS(msg, path);
    EXPECT_CONTAINS(msg, "instruction 3");
  }
  {
    // An unknown opcode.
    std::vector<uint8_t> damaged = b;
    put_u64(damaged, kHeader, 63ull << 58);
    reseal(damaged);
    EXPECT_CONTAINS(load_error(path, damaged), "instruction 0");
  }
  const size_t meta_at = kHeader + 8 * p.code.size();
  {
    // Metadata that is not JSON.
    std::vector<uint8_t> damaged = b;
    damaged[meta_at] = '#';
    reseal(damaged);
    const std::string msg = load_error(path, damaged);
    EXPECT_CONTAINS(msg, path);
    EXPECT_CONTAINS(msg, "metadata");
  }
  {
    // JSON without a required key ("network" renamed) or with a wrong type.
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"\"network\"", "\"netwerk\""}, {"\"batch\":2", "\"batch\":\"2\""}}) {
      std::string meta(b.begin() + static_cast<std::ptrdiff_t>(meta_at), b.end() - 8);
      const size_t at = meta.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      meta.replace(at, from.size(), to);
      std::vector<uint8_t> damaged(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(meta_at));
      put_u64(damaged, 24, meta.size());
      damaged.insert(damaged.end(), meta.begin(), meta.end());
      damaged.resize(damaged.size() + 8);
      reseal(damaged);
      const std::string msg = load_error(path, damaged);
      EXPECT_CONTAINS(msg, path);
      EXPECT_CONTAINS(msg, "metadata");
    }
  }
}

TEST(ProgramFile, MissingFileOrDirectory) {
  TempDir dir;
  const std::string missing = dir.file("nope.bin");
  try {
    load_program(missing);
    ADD_FAILURE() << "loaded a missing file";
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), missing);
  }
  const std::string nowhere = dir.file("no/such/dir/prog.bin");
  try {
    save_program(small_program(), nowhere);
    ADD_FAILURE() << "saved into a missing directory";
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "no/such/dir");
  }
}

// The listing: comments start with ';', every other line is one instruction,
// in order, indented two spaces per open LAYER / LOOP.
TEST(ProgramFile, ListingContainsEveryInstruction) {
  const Program small = small_program();
  for (const Program* p : {&small, &compiled_resnet18_palquant()}) {
    const std::string text = listing(*p);
    std::istringstream in(text);
    std::string line;
    size_t next = 0;
    int depth = 0;
    while (std::getline(in, line)) {
      const size_t first = line.find_first_not_of(' ');
      ASSERT_NE(first, std::string::npos) << "blank line";
      if (line[first] == ';') continue;
      ASSERT_LT(next, p->code.size()) << "extra line: " << line;
      const Instruction& ins = p->code[next];
      if (ins.opcode == Opcode::kEndLoop || ins.opcode == Opcode::kEndLayer) --depth;
      EXPECT_EQ(line.substr(first), disassemble(ins)) << "instruction " << next;
      EXPECT_EQ(static_cast<int>(first), 2 * depth) << "instruction " << next << ": " << line;
      if (ins.opcode == Opcode::kLoop || ins.opcode == Opcode::kLayer) ++depth;
      ++next;
    }
    EXPECT_EQ(next, p->code.size());
    EXPECT_EQ(depth, 0);
    EXPECT_CONTAINS(text, "network " + p->info.network);
    EXPECT_CONTAINS(text, std::to_string(p->code.size()) + " instructions");
    for (const OpInfo& op : p->info.ops) EXPECT_CONTAINS(text, op.name + " (" + op.kind + ")");
  }
}

}  // namespace
}  // namespace palsim::isa
