// The instruction set: the field table, encoding and decoding, the assembler
// and disassembler, on random words and on the programs of real networks.
#include "frontend/isa/isa.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "frontend/builders/registry.h"
#include "frontend/lowering/compile.h"

namespace palsim::isa {
namespace {

constexpr int kOpcodeLo = 58;  // isa.h: the opcode sits in bits 63..58
constexpr int kOpcodeWidth = 6;

uint64_t bits(int lo, int width) {
  const uint64_t m = width >= 64 ? ~0ull : (1ull << width) - 1;
  return m << lo;
}
uint64_t max_value(const Field& f) {
  return f.width >= 64 ? ~0ull : (1ull << f.width) - 1;
}

// The bits an opcode's word may use: the opcode and its fields.
uint64_t used_bits(const OpcodeInfo& info) {
  uint64_t used = bits(kOpcodeLo, kOpcodeWidth);
  for (const Field& f : info.fields) used |= bits(f.lo, f.width);
  return used;
}

// ResNet-18 compiled for Bit Fusion in two forms (the mapping cache makes the
// second request of a form cheap).
const isa::Program& compiled(bool palquant) {
  static std::map<bool, isa::Program> cache;
  auto it = cache.find(palquant);
  if (it != cache.end()) return it->second;
  const frontend::HwConfig hw =
      frontend::load_hw_config(std::string(PALSIM_SOURCE_DIR) + "/configs/bitfusion.yaml");
  frontend::NetworkRequest request;
  request.network = "resnet18";
  request.method_given = true;
  if (palquant) {
    request.method.method = frontend::Method::kPalQuant;
    request.method.B = 2;
    request.method.G = 2;
  } else {
    request.method.method = frontend::Method::kLsq;
    request.method.a_bits = 4;
    request.method.w_bits = 4;
  }
  const frontend::Network net = frontend::resolve_network(request);
  frontend::Compiled c = frontend::compile_network(hw, net, frontend::LoweringOptions{});
  return cache.emplace(palquant, std::move(c.program)).first->second;
}

TEST(IsaTable, OpcodesAndMnemonicsAreUnique) {
  std::set<int> opcodes;
  std::set<std::string> mnemonics;
  for (const OpcodeInfo& info : opcode_table()) {
    const int op = static_cast<int>(info.opcode);
    EXPECT_LT(op, 1 << kOpcodeWidth) << info.mnemonic;
    EXPECT_TRUE(opcodes.insert(op).second) << "opcode " << op << " listed twice";
    EXPECT_TRUE(mnemonics.insert(info.mnemonic).second) << info.mnemonic << " listed twice";
    EXPECT_EQ(&opcode_info(info.opcode), &info);
  }
  // Every opcode the enum declares is in the table.
  for (int op = static_cast<int>(Opcode::kNop); op <= static_cast<int>(Opcode::kHalt); ++op) {
    EXPECT_TRUE(opcodes.count(op)) << "opcode " << op << " missing from the table";
  }
  EXPECT_THROW(opcode_info(static_cast<Opcode>(10)), palsim::ArgumentError);
}

TEST(IsaTable, FieldsDoNotOverlapEachOtherOrTheOpcode) {
  const uint64_t opcode_bits = bits(kOpcodeLo, kOpcodeWidth);
  EXPECT_EQ(opcode_bits >> kOpcodeLo, 63u);
  for (const OpcodeInfo& info : opcode_table()) {
    uint64_t taken = 0;
    std::set<std::string> names;
    for (const Field& f : info.fields) {
      SCOPED_TRACE(std::string(info.mnemonic) + " " + f.name);
      EXPECT_TRUE(names.insert(f.name).second) << "field name repeated";
      ASSERT_GT(f.width, 0);
      ASSERT_GE(f.lo, 0);
      ASSERT_LE(f.lo + f.width, 64) << "field leaves the word";
      const uint64_t m = bits(f.lo, f.width);
      EXPECT_EQ(m & opcode_bits, 0u) << "field overlaps the opcode bits";
      EXPECT_EQ(m & taken, 0u) << "field overlaps an earlier field";
      taken |= m;
    }
  }
}

TEST(IsaTable, EnumeratedValuesFitTheirFields) {
  auto width = [](Opcode op, const char* name) {
    for (const Field& f : opcode_info(op).fields) {
      if (std::string(f.name) == name) return f.width;
    }
    ADD_FAILURE() << "no field " << name;
    return 0;
  };
  EXPECT_LT(static_cast<uint64_t>(Reg::kCount) - 1, 1ull << width(Opcode::kSetReg, "reg"));
  EXPECT_LT(static_cast<uint64_t>(Dim::kC), 1ull << width(Opcode::kLoop, "dim"));
  EXPECT_LT(static_cast<uint64_t>(LayerKind::kGlobalAvgPool),
            1ull << width(Opcode::kLayer, "kind"));
  EXPECT_LT(static_cast<uint64_t>(LoadOperand::kResidual), 1ull << width(Opcode::kLoad, "operand"));
  // Every register has its own name (the assembler looks them up by name).
  std::set<std::string> names;
  for (int r = 0; r < static_cast<int>(Reg::kCount); ++r) {
    EXPECT_TRUE(names.insert(reg_name(static_cast<Reg>(r))).second)
        << reg_name(static_cast<Reg>(r));
  }
  EXPECT_STREQ(reg_name(Reg::kCount), "?");
}

TEST(IsaRoundTrip, RandomFieldValuesOfEveryOpcode) {
  std::mt19937_64 rng(20240607);
  for (const OpcodeInfo& info : opcode_table()) {
    SCOPED_TRACE(info.mnemonic);
    for (int trial = 0; trial < 3000; ++trial) {
      std::vector<uint64_t> values;
      for (const Field& f : info.fields) {
        // Edge values first, then uniform ones, then small ones (real programs).
        uint64_t v = rng() & max_value(f);
        if (trial == 0) v = 0;
        if (trial == 1) v = max_value(f);
        if (trial % 3 == 2) v = rng() % 64 & max_value(f);
        values.push_back(v);
      }
      const Instruction in = make(info.opcode, values);
      const uint64_t word = encode(in);
      EXPECT_EQ(word & bits(kOpcodeLo, kOpcodeWidth), static_cast<uint64_t>(info.opcode)
                                                          << kOpcodeLo);
      EXPECT_EQ(word & ~used_bits(info), 0u);
      for (size_t i = 0; i < info.fields.size(); ++i) {
        const Field& f = info.fields[i];
        ASSERT_EQ((word >> f.lo) & max_value(f), values[i])
            << f.name << " not where the table says";
        ASSERT_EQ(in.field(f.name), values[i]);
      }
      const Instruction back = decode(word);
      ASSERT_EQ(back, in) << disassemble(in);
      const std::string text = disassemble(in);
      ASSERT_EQ(assemble(text), in) << text;
    }
  }
}

TEST(IsaRoundTrip, EveryInstructionOfCompiledPrograms) {
  for (bool palquant : {false, true}) {
    SCOPED_TRACE(palquant ? "resnet18 palquant G=2" : "resnet18 lsq 4/4");
    const Program& p = compiled(palquant);
    ASSERT_GT(p.code.size(), 100u);
    std::set<Opcode> seen;
    for (size_t i = 0; i < p.code.size(); ++i) {
      const Instruction& in = p.code[i];
      seen.insert(in.opcode);
      const std::string text = disassemble(in);
      ASSERT_EQ(assemble(text), in) << "instruction " << i << ": " << text;
      ASSERT_EQ(decode(encode(in)), in) << "instruction " << i << ": " << text;
    }
    for (Opcode op :
         {Opcode::kLayer, Opcode::kSetReg, Opcode::kLoop, Opcode::kEndLoop, Opcode::kLoad,
          Opcode::kCompute, Opcode::kStore, Opcode::kEndLayer, Opcode::kHalt}) {
      EXPECT_TRUE(seen.count(op)) << opcode_info(op).mnemonic << " never emitted";
    }
    EXPECT_EQ(p.code.back().opcode, Opcode::kHalt);
  }
}

TEST(IsaEncode, ValueTooWideForItsFieldIsRejected) {
  for (const OpcodeInfo& info : opcode_table()) {
    for (size_t i = 0; i < info.fields.size(); ++i) {
      const Field& f = info.fields[i];
      SCOPED_TRACE(std::string(info.mnemonic) + " " + f.name);
      std::vector<uint64_t> values(info.fields.size(), 0);
      values[i] = max_value(f);
      EXPECT_NO_THROW(encode(make(info.opcode, values)));
      for (uint64_t bad : std::vector<uint64_t>{max_value(f) + 1, 1ull << 63, ~0ull}) {
        values[i] = bad;
        const Instruction in = make(info.opcode, values);
        EXPECT_THROW(encode(in), palsim::ArgumentError) << bad;
        // The assembler checks the range too.
        std::string text = info.mnemonic;
        for (size_t j = 0; j < info.fields.size(); ++j) {
          text += " " + std::string(info.fields[j].name) + "=" + std::to_string(values[j]);
        }
        EXPECT_THROW(assemble(text), palsim::InputError) << text;
      }
    }
  }
}

TEST(IsaEncode, WrongFieldCountIsRejected) {
  EXPECT_THROW(make(Opcode::kSetReg, {1}), palsim::ArgumentError);
  EXPECT_THROW(make(Opcode::kHalt, {0}), palsim::ArgumentError);
  Instruction in = halt();
  in.fields.push_back(0);  // built by hand, bypassing make()
  EXPECT_THROW(encode(in), palsim::ArgumentError);
  EXPECT_THROW(loop(Dim::kH, 3).field("operand"), palsim::ArgumentError);
  EXPECT_EQ(loop(Dim::kH, 3).field("trips"), 3u);
}

TEST(IsaDecode, UnknownOpcodeIsRejected) {
  std::set<uint64_t> known;
  for (const OpcodeInfo& info : opcode_table()) known.insert(static_cast<uint64_t>(info.opcode));
  for (uint64_t op = 0; op < (1u << kOpcodeWidth); ++op) {
    const uint64_t word = op << kOpcodeLo;
    if (known.count(op)) {
      EXPECT_NO_THROW(decode(word)) << op;
    } else {
      EXPECT_THROW(decode(word), palsim::InputError) << op;
    }
  }
}

TEST(IsaDecode, EveryStrayBitIsRejected) {
  for (const OpcodeInfo& info : opcode_table()) {
    const uint64_t base = encode(make(info.opcode, std::vector<uint64_t>(info.fields.size(), 0)));
    const uint64_t used = used_bits(info);
    int stray = 0;
    for (int b = 0; b < kOpcodeLo; ++b) {
      const uint64_t word = base | (1ull << b);
      if (used & (1ull << b)) {
        EXPECT_NO_THROW(decode(word)) << info.mnemonic << " bit " << b;
      } else {
        ++stray;
        EXPECT_THROW(decode(word), palsim::InputError) << info.mnemonic << " bit " << b;
      }
    }
    if (info.fields.empty()) {
      EXPECT_EQ(stray, kOpcodeLo) << info.mnemonic;
    }
  }
}

TEST(IsaAssemble, MalformedLinesAreRejected) {
  for (const char* line : {
           "",                                                // no mnemonic
           "FROB x=1",                                        // unknown mnemonic
           "LOOP dim=H",                                      // missing field
           "LOOP dim=H trips=3 depth=1",                      // unknown field
           "LOOP dim=H trips",                                // not FIELD=VALUE
           "LOOP dim=Q trips=3",                              // unknown dimension
           "LOOP dim=H trips=3x",                             // trailing characters
           "LOOP dim=H trips=-1",                             // negative
           "LOOP dim=H trips=4294967296",                     // 2^32 does not fit 32 bits
           "SETR reg=NOT_A_REG value=1",                      // unknown register
           "SETR reg=IN_ADDR value=99999999999999999999999",  // beyond 64 bits
           "LOAD operand=output",                             // not a load operand
           "STORE operand=input",                             // not a store operand
           "LOOP dim=H dim=W trips=3",                        // a field given twice
       }) {
    EXPECT_THROW(assemble(line), palsim::InputError) << "'" << line << "'";
  }
}

TEST(IsaAssemble, AcceptsNamesAndNumbers) {
  EXPECT_EQ(assemble("SETR reg=IN_ADDR value=4096"), set_reg(Reg::kInAddr, 4096));
  EXPECT_EQ(assemble("SETR reg=0 value=0x1000"), set_reg(Reg::kInAddr, 4096));
  EXPECT_EQ(assemble("LOOP trips=7 dim=G"), loop(Dim::kG, 7));  // any field order
  EXPECT_EQ(assemble("LAYER kind=global_avgpool op=12"), layer(LayerKind::kGlobalAvgPool, 12));
  EXPECT_EQ(assemble("LOAD operand=residual"), load(LoadOperand::kResidual));
  EXPECT_EQ(assemble("STORE operand=output"), store(StoreOperand::kOutput));
  EXPECT_EQ(disassemble(set_reg(Reg::kTileC, 9)), "SETR reg=TILE_C value=9");
  EXPECT_EQ(disassemble(halt()), "HALT");
  // A register number without a name still round-trips.
  const Instruction odd = make(Opcode::kSetReg, {200, 1});
  EXPECT_EQ(assemble(disassemble(odd)), odd);
}

}  // namespace
}  // namespace palsim::isa
