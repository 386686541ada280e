#include "frontend/isa/isa.h"

#include <fmt/format.h>

#include <cctype>
#include <sstream>
#include <stdexcept>

#include "common/error.h"

namespace palsim::isa {

namespace {

constexpr int kOpcodeLo = 58;
constexpr int kOpcodeWidth = 6;

const char* const kRegNames[] = {"IN_ADDR",
                                 "IN_C",
                                 "IN_H",
                                 "IN_W",
                                 "IN_BITS",
                                 "W_ADDR",
                                 "W_BITS",
                                 "W_SIGNED",
                                 "OUT_ADDR",
                                 "OUT_C",
                                 "OUT_H",
                                 "OUT_W",
                                 "OUT_BITS",
                                 "RES_ADDR",
                                 "RES_BITS",
                                 "KERNEL_H",
                                 "KERNEL_W",
                                 "STRIDE_H",
                                 "STRIDE_W",
                                 "PAD_H",
                                 "PAD_W",
                                 "GROUPS",
                                 "BATCH",
                                 "A_BITS",
                                 "MODE_FA",
                                 "MODE_FW",
                                 "MODE_LANES",
                                 "MODE_OUTPUTS",
                                 "TILE_N",
                                 "TILE_H",
                                 "TILE_W",
                                 "TILE_M",
                                 "TILE_C",
                                 "FLAGS",
                                 "OUT_SHUFFLE",
                                 "IN_ROTATE",
                                 "PSUM_ADDR",
                                 "REGION_BITS",
                                 "GROUP_PACK",
                                 "IN_C_TOTAL",
                                 "IN_C_OFFSET",
                                 "IN_C_STRIDE",
                                 "OUT_C_TOTAL",
                                 "OUT_C_OFFSET",
                                 "OUT_C_STRIDE",
                                 "RES_C_TOTAL",
                                 "RES_C_OFFSET",
                                 "RES_C_STRIDE",
                                 "IN_BLOCK",
                                 "OUT_BLOCK",
                                 "RES_BLOCK",
                                 "PSUM_BLOCK",
                                 "IN_GROUP_MAJOR",
                                 "OUT_GROUP_MAJOR",
                                 "RES_GROUP_MAJOR",
                                 "DILATION_H",
                                 "DILATION_W"};
static_assert(sizeof(kRegNames) / sizeof(kRegNames[0]) == static_cast<size_t>(Reg::kCount),
              "register names");

const char* const kDimNames[] = {"G", "N", "H", "W", "M", "C"};
const char* const kKindNames[] = {"conv", "maxpool", "avgpool", "global_avgpool", "copy"};
static_assert(sizeof(kKindNames) / sizeof(kKindNames[0]) == static_cast<size_t>(kLayerKinds),
              "layer kind names");
const char* const kLoadNames[] = {"input", "weight", "psum", "residual"};

uint64_t mask(int width) {
  return width >= 64 ? ~0ull : ((1ull << width) - 1);
}

}  // namespace

const std::vector<OpcodeInfo>& opcode_table() {
  static const std::vector<OpcodeInfo> table = {
      {Opcode::kNop, "NOP", {}},
      {Opcode::kLayer, "LAYER", {{"kind", 54, 4}, {"op", 30, 24}}},
      {Opcode::kSetReg, "SETR", {{"reg", 50, 8}, {"value", 0, 50}}},
      {Opcode::kLoop, "LOOP", {{"dim", 54, 4}, {"trips", 0, 32}}},
      {Opcode::kEndLoop, "ENDLOOP", {}},
      {Opcode::kLoad, "LOAD", {{"operand", 54, 4}}},
      {Opcode::kCompute, "COMPUTE", {}},
      {Opcode::kStore, "STORE", {{"operand", 54, 4}}},
      {Opcode::kEndLayer, "ENDLAYER", {}},
      {Opcode::kHalt, "HALT", {}},
  };
  return table;
}

const OpcodeInfo& opcode_info(Opcode op) {
  for (const auto& info : opcode_table()) {
    if (info.opcode == op) return info;
  }
  throw ArgumentError(fmt::format("unknown opcode {}", static_cast<int>(op)));
}

const std::vector<std::pair<Reg, int64_t>>& layer_reset_registers() {
  static const std::vector<std::pair<Reg, int64_t>> regs = {
      {Reg::kInCTotal, 0},      {Reg::kInCOffset, 0},    {Reg::kInCStride, 0},
      {Reg::kOutCTotal, 0},     {Reg::kOutCOffset, 0},   {Reg::kOutCStride, 0},
      {Reg::kResCTotal, 0},     {Reg::kResCOffset, 0},   {Reg::kResCStride, 0},
      {Reg::kInBlock, 0},       {Reg::kOutBlock, 0},     {Reg::kResBlock, 0},
      {Reg::kPsumBlock, 0},     {Reg::kInGroupMajor, 0}, {Reg::kOutGroupMajor, 0},
      {Reg::kResGroupMajor, 0}, {Reg::kDilationH, 1},    {Reg::kDilationW, 1}};
  return regs;
}

const char* reg_name(Reg r) {
  return static_cast<size_t>(r) < static_cast<size_t>(Reg::kCount)
             ? kRegNames[static_cast<size_t>(r)]
             : "?";
}
const char* dim_name(Dim d) {
  return static_cast<size_t>(d) < 6 ? kDimNames[static_cast<size_t>(d)] : "?";
}
const char* layer_kind_name(LayerKind k) {
  return static_cast<size_t>(k) < static_cast<size_t>(kLayerKinds)
             ? kKindNames[static_cast<size_t>(k)]
             : "?";
}
const char* load_operand_name(LoadOperand o) {
  return static_cast<size_t>(o) < 4 ? kLoadNames[static_cast<size_t>(o)] : "?";
}

uint64_t Instruction::field(const char* name) const {
  const OpcodeInfo& info = opcode_info(opcode);
  for (size_t i = 0; i < info.fields.size(); ++i) {
    if (std::string(info.fields[i].name) == name) return fields.at(i);
  }
  throw ArgumentError(fmt::format("{} has no field '{}'", info.mnemonic, name));
}

Instruction make(Opcode op, std::vector<uint64_t> fields) {
  Instruction in;
  in.opcode = op;
  in.fields = std::move(fields);
  if (in.fields.size() != opcode_info(op).fields.size()) {
    throw ArgumentError(fmt::format("{} takes {} fields, got {}", opcode_info(op).mnemonic,
                                    opcode_info(op).fields.size(), in.fields.size()));
  }
  return in;
}

uint64_t encode(const Instruction& in) {
  const OpcodeInfo& info = opcode_info(in.opcode);
  if (in.fields.size() != info.fields.size())
    throw ArgumentError(fmt::format("{}: wrong field count", info.mnemonic));
  uint64_t word = static_cast<uint64_t>(in.opcode) << kOpcodeLo;
  for (size_t i = 0; i < info.fields.size(); ++i) {
    const Field& f = info.fields[i];
    if (in.fields[i] & ~mask(f.width)) {
      throw ArgumentError(fmt::format("{} {}={} does not fit {} bits", info.mnemonic, f.name,
                                      in.fields[i], f.width));
    }
    word |= in.fields[i] << f.lo;
  }
  return word;
}

Instruction decode(uint64_t word) {
  const uint64_t op = (word >> kOpcodeLo) & mask(kOpcodeWidth);
  const OpcodeInfo* info = nullptr;
  for (const auto& i : opcode_table()) {
    if (static_cast<uint64_t>(i.opcode) == op) info = &i;
  }
  if (!info) throw InputError(fmt::format("unknown opcode {} in word {:#018x}", op, word));
  Instruction in;
  in.opcode = info->opcode;
  uint64_t used = mask(kOpcodeWidth) << kOpcodeLo;
  for (const Field& f : info->fields) {
    in.fields.push_back((word >> f.lo) & mask(f.width));
    used |= mask(f.width) << f.lo;
  }
  if (word & ~used) {
    throw InputError(
        fmt::format("{} word {:#018x} has bits set outside its fields", info->mnemonic, word));
  }
  return in;
}

std::string disassemble(const Instruction& in) {
  const OpcodeInfo& info = opcode_info(in.opcode);
  std::string s = info.mnemonic;
  for (size_t i = 0; i < info.fields.size(); ++i) {
    const std::string name = info.fields[i].name;
    const uint64_t v = in.fields[i];
    std::string value = std::to_string(v);
    if (in.opcode == Opcode::kSetReg && name == "reg" && v < static_cast<uint64_t>(Reg::kCount))
      value = reg_name(static_cast<Reg>(v));
    if (in.opcode == Opcode::kLoop && name == "dim" && v < 6) value = dim_name(static_cast<Dim>(v));
    if (in.opcode == Opcode::kLayer && name == "kind" && v < static_cast<uint64_t>(kLayerKinds))
      value = layer_kind_name(static_cast<LayerKind>(v));
    if (in.opcode == Opcode::kLoad && name == "operand" && v < 4)
      value = load_operand_name(static_cast<LoadOperand>(v));
    if (in.opcode == Opcode::kStore && name == "operand" && v == 0) value = "output";
    s += fmt::format(" {}={}", name, value);
  }
  return s;
}

namespace {
uint64_t parse_value(const std::string& field, const std::string& text, Opcode op) {
  auto lookup = [&](const char* const* names, size_t n) -> uint64_t {
    for (size_t i = 0; i < n; ++i) {
      if (text == names[i]) return i;
    }
    throw InputError(fmt::format("unknown {} '{}'", field, text));
  };
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
    size_t pos = 0;
    uint64_t v = 0;
    try {
      v = std::stoull(text, &pos, 0);
    } catch (const std::out_of_range&) {
      throw InputError(fmt::format("{}={} does not fit 64 bits", field, text));
    }
    if (pos != text.size()) throw InputError(fmt::format("bad number '{}'", text));
    return v;
  }
  if (op == Opcode::kSetReg && field == "reg")
    return lookup(kRegNames, static_cast<size_t>(Reg::kCount));
  if (op == Opcode::kLoop && field == "dim") return lookup(kDimNames, 6);
  if (op == Opcode::kLayer && field == "kind")
    return lookup(kKindNames, static_cast<size_t>(kLayerKinds));
  if (op == Opcode::kLoad && field == "operand") return lookup(kLoadNames, 4);
  if (op == Opcode::kStore && field == "operand" && text == "output") return 0;
  throw InputError(fmt::format("bad value '{}' for {}", text, field));
}
}  // namespace

Instruction assemble(const std::string& line) {
  std::istringstream ss(line);
  std::string mnemonic;
  ss >> mnemonic;
  const OpcodeInfo* info = nullptr;
  for (const auto& i : opcode_table()) {
    if (mnemonic == i.mnemonic) info = &i;
  }
  if (!info) throw InputError(fmt::format("unknown mnemonic '{}'", mnemonic));
  std::vector<uint64_t> fields(info->fields.size(), 0);
  std::vector<bool> seen(info->fields.size(), false);
  std::string token;
  while (ss >> token) {
    const size_t eq = token.find('=');
    if (eq == std::string::npos)
      throw InputError(fmt::format("expected FIELD=VALUE, got '{}'", token));
    const std::string name = token.substr(0, eq);
    size_t i = 0;
    while (i < info->fields.size() && name != info->fields[i].name) ++i;
    if (i == info->fields.size())
      throw InputError(fmt::format("{} has no field '{}'", mnemonic, name));
    if (seen[i]) throw InputError(fmt::format("{} gives field '{}' twice", mnemonic, name));
    fields[i] = parse_value(name, token.substr(eq + 1), info->opcode);
    seen[i] = true;
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i])
      throw InputError(fmt::format("{} is missing field '{}'", mnemonic, info->fields[i].name));
  }
  Instruction in = make(info->opcode, fields);
  encode(in);  // range check
  return in;
}

}  // namespace palsim::isa
