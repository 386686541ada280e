#pragma once
// palsim's instruction set (documented in docs/model.md).
//
// Like the Bit Fusion / DnnWeaver 2 ISA it encodes loop nests and layer
// registers, not unrolled tiles, so a layer's program is a few dozen words.
// The controller interprets it: it walks the loop nest and, at each LOAD,
// COMPUTE and STORE, generates the addresses and the tile of the current loop
// indices (a LOAD at some depth covers the whole span of the loops nested
// inside it). Every instruction is one 64-bit word; the opcode sits in bits
// 63..58 and each opcode's fields are listed in one table shared by the
// encoder, the decoder, the assembler and the disassembler.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace palsim::isa {

enum class Opcode : uint8_t {
  kNop = 0,
  kLayer = 1,    // begin a layer: kind, index of the hardware op
  kSetReg = 2,   // set a layer register
  kLoop = 3,     // open a tile loop over a dimension
  kEndLoop = 4,  // close the innermost open loop
  kLoad = 5,     // DMA from DRAM into a buffer
  kCompute = 6,  // run the array (convs) or the post-processing unit (pools) on the current tile
  kStore = 7,    // post-process (when final) and DMA the current output tile out
  kEndLayer = 8,
  kHalt = 9,
};

// kCopy: the post-processing unit passes its input tile through (a 1x1
// window), for data movement the addressing cannot express.
enum class LayerKind : uint8_t {
  kConv = 0,
  kMaxPool = 1,
  kAvgPool = 2,
  kGlobalAvgPool = 3,
  kCopy = 4
};
constexpr int kLayerKinds = 5;
// Loop dimensions: the group loop and the five tile loops.
enum class Dim : uint8_t { kG = 0, kN = 1, kH = 2, kW = 3, kM = 4, kC = 5 };
enum class LoadOperand : uint8_t { kInput = 0, kWeight = 1, kPsum = 2, kResidual = 3 };
enum class StoreOperand : uint8_t { kOutput = 0 };

// Layer registers (SETR). Addresses are bit addresses in DRAM.
//
// Channel views: the input, output and residual may each be a channel view
// of a larger tensor (a split, or a place in a concatenation): logical
// channel c (after the output shuffle, for the output) is channel
// X_C_OFFSET + X_C_STRIDE * c of the X_C_TOTAL-channel tensor at X_ADDR.
// X_C_TOTAL = 0 means no view (X_C channels, offset 0, stride 1). Unlike the
// other registers, the view registers are cleared by LAYER: a layer that does
// not set them reads and writes whole tensors.
enum class Reg : uint8_t {
  kInAddr = 0,
  kInC,
  kInH,
  kInW,
  kInBits,
  kWAddr,
  kWBits,
  kWSigned,
  kOutAddr,
  kOutC,
  kOutH,
  kOutW,
  kOutBits,
  kResAddr,
  kResBits,
  kKernelH,
  kKernelW,
  kStrideH,
  kStrideW,
  kPadH,
  kPadW,
  kGroups,
  kBatch,
  kABits,
  kModeFa,
  kModeFw,
  kModeLanes,
  kModeOutputs,
  kTileN,
  kTileH,
  kTileW,
  kTileM,
  kTileC,
  kFlags,
  kOutShuffle,
  kInRotate,
  kPsumAddr,
  kRegionBits,
  kGroupPack,
  kInCTotal,
  kInCOffset,
  kInCStride,
  kOutCTotal,
  kOutCOffset,
  kOutCStride,
  kResCTotal,
  kResCOffset,
  kResCStride,
  // DRAM layouts (frontend/mapping/tensor_layout.h): channels per block of
  // the stored input, output, residual and partial-sum tensors; 0 = NCHW.
  kInBlock,
  kOutBlock,
  kResBlock,
  kPsumBlock,
  // Group-major storage of the input, output and residual tensors: the
  // shuffle groups of the tensor's writer (0: channels in place).
  kInGroupMajor,
  kOutGroupMajor,
  kResGroupMajor,
  kDilationH,  // kernel taps this many input rows apart; reset to 1 (dense) by LAYER
  kDilationW,
  kCount  // number of registers
};

// The registers LAYER resets and their reset values: channel views (0: no
// view) and dilation (1: dense), so a layer that does not set them reads and
// writes whole tensors with a dense kernel.

// kFlags bits.
enum FlagBits : uint32_t {
  kFlagReluBefore = 1u << 0,
  kFlagReluAfter = 1u << 1,
  kFlagResidual = 1u << 2,
  kFlagActivationSum = 1u << 3,  // uniform quantizer: run the activation-sum unit
  kFlagOnchipInput = 1u << 4,    // input resident in the on-chip region
  kFlagOnchipOutput = 1u << 5,   // output written to the on-chip region
};

struct Field {
  const char* name;
  int lo;     // lowest bit
  int width;  // bits
};

struct OpcodeInfo {
  Opcode opcode;
  const char* mnemonic;
  std::vector<Field> fields;
};

const std::vector<OpcodeInfo>& opcode_table();
// Throws palsim::ArgumentError (common/error.h) for an unknown opcode.
const OpcodeInfo& opcode_info(Opcode op);
const char* reg_name(Reg r);
const std::vector<std::pair<Reg, int64_t>>& layer_reset_registers();
const char* dim_name(Dim d);
const char* layer_kind_name(LayerKind k);
const char* load_operand_name(LoadOperand o);

// A decoded instruction: the opcode and its field values in table order.
struct Instruction {
  Opcode opcode = Opcode::kNop;
  std::vector<uint64_t> fields;

  // Throws palsim::ArgumentError when the opcode has no such field.
  uint64_t field(const char* name) const;
  bool operator==(const Instruction& o) const { return opcode == o.opcode && fields == o.fields; }
};

Instruction make(Opcode op, std::vector<uint64_t> fields = {});
inline Instruction layer(LayerKind k, uint64_t op_index) {
  return make(Opcode::kLayer, {static_cast<uint64_t>(k), op_index});
}
inline Instruction set_reg(Reg r, uint64_t v) {
  return make(Opcode::kSetReg, {static_cast<uint64_t>(r), v});
}
inline Instruction loop(Dim d, uint64_t trips) {
  return make(Opcode::kLoop, {static_cast<uint64_t>(d), trips});
}
inline Instruction end_loop() {
  return make(Opcode::kEndLoop);
}
inline Instruction load(LoadOperand o) {
  return make(Opcode::kLoad, {static_cast<uint64_t>(o)});
}
inline Instruction compute() {
  return make(Opcode::kCompute);
}
inline Instruction store(StoreOperand o) {
  return make(Opcode::kStore, {static_cast<uint64_t>(o)});
}
inline Instruction end_layer() {
  return make(Opcode::kEndLayer);
}
inline Instruction halt() {
  return make(Opcode::kHalt);
}

// Errors (common/error.h): palsim::ArgumentError for a call outside the
// domain (a value that does not fit its field, a wrong field count),
// palsim::InputError for a word or line that is not an instruction (decode,
// assemble: the contents of a program file). ArgumentError is an InputError,
// so program.cpp catches InputError to add the file and instruction index.
// Encoding: throws palsim::ArgumentError when a value does not fit its field.
uint64_t encode(const Instruction& in);
// Decoding: throws palsim::InputError for an unknown opcode or nonzero
// unused bits (a corrupted word).
Instruction decode(uint64_t word);

// One line of assembly: "SETR reg=IN_ADDR value=4096".
std::string disassemble(const Instruction& in);
// Parses one line of assembly (the disassembler's output); throws
// palsim::InputError naming the problem.
Instruction assemble(const std::string& line);

}  // namespace palsim::isa
