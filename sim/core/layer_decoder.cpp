#include "sim/core/layer_decoder.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "frontend/mapping/mapping.h"

namespace palsim::sim {

using frontend::Box;
using frontend::TensorLayout;
using isa::Dim;
using isa::Reg;

void reject_instruction(const isa::Program& program, size_t pc, const std::string& why) {
  throw InputError(
      fmt::format("program instruction {} ({}): {}", pc, isa::disassemble(program.code[pc]), why));
}

// --- the loop position ----------------------------------------------------------

// A program nests each dimension once: the first loop over it is the one.
int64_t LoopNest::index(Dim dim) const {
  for (const Loop& l : loops_) {
    if (l.dim == dim) return l.index;
  }
  return -1;
}

int LoopNest::group() const {
  return static_cast<int>(std::max<int64_t>(0, index(Dim::kG)));
}

bool LoopNest::outputs_final() const {
  return std::none_of(loops_.begin(), loops_.end(),
                      [](const Loop& l) { return l.dim == Dim::kC && l.index + 1 < l.trips; });
}

bool LoopNest::revisit() const {
  return std::any_of(loops_.begin(), loops_.end(),
                     [](const Loop& l) { return l.dim == Dim::kC && l.index > 0; });
}

// --- the geometry at a loop position -------------------------------------------

std::pair<int, int> LayerGeometry::range(Dim dim, const LoopNest& loops) const {
  const int64_t e = extent[static_cast<int>(dim)], t = tile[static_cast<int>(dim)];
  const int64_t i = loops.index(dim);
  if (i < 0) return {0, static_cast<int>(e)};
  const int64_t lo = i * t;
  return {static_cast<int>(lo), static_cast<int>(std::min(t, e - lo))};
}

Box LayerGeometry::output_box(const LoopNest& loops) const {
  Box b;
  std::tie(b.n0, b.n) = range(Dim::kN, loops);
  std::tie(b.h0, b.h) = range(Dim::kH, loops);
  std::tie(b.w0, b.w) = range(Dim::kW, loops);
  auto [m0, m] = range(Dim::kM, loops);
  b.c0 = loops.group() * cout_g * pack + m0;
  b.c = m;
  return b;
}

Box LayerGeometry::input_box(const LoopNest& loops) const {
  Box b;
  std::tie(b.n0, b.n) = range(Dim::kN, loops);
  auto [h0, h] = range(Dim::kH, loops);
  auto [w0, w] = range(Dim::kW, loops);
  // A dilated kernel reads over its whole extent; the span's length is the
  // mapping's rule (frontend/mapping/mapping.h), its first row the first the
  // kernel's top-left tap reads.
  auto span = [](int o0, int n, int stride, int kernel, int dilation, int pad, int in, int& lo,
                 int& count) {
    // Beyond 2^30 a kernel covers any input as much as its true extent does.
    const int extent =
        static_cast<int>(std::min<int64_t>(int64_t{kernel - 1} * dilation + 1, int64_t{1} << 30));
    lo = static_cast<int>(std::max<int64_t>(0, int64_t{o0} * stride - pad));
    count = static_cast<int>(frontend::input_span(o0, n, stride, extent, pad, in));
  };
  span(h0, h, stride_h, kernel_h, dilation_h, pad_h, in_h, b.h0, b.h);
  span(w0, w, stride_w, kernel_w, dilation_w, pad_w, in_w, b.w0, b.w);
  if (pool()) {
    std::tie(b.c0, b.c) = range(Dim::kM, loops);
    return b;
  }
  auto [c0, c] = range(Dim::kC, loops);
  const int g = loops.group();
  const int src = ((g - in_rotate) % groups + groups) % groups;
  b.c0 = (pack > 1 ? g * pack : src) * cin_g + c0;
  b.c = c;
  return b;
}

WeightRange LayerGeometry::weight_range(const LoopNest& loops) const {
  WeightRange r;
  auto [m0, m] = range(Dim::kM, loops);
  std::tie(r.c0, r.c) = range(Dim::kC, loops);
  if (pack > 1) {
    // A packed tile loads each of its groups' own weights (the zeros of the
    // block-diagonal problem are not stored).
    r.c0 = 0;
    r.c = cin_g;
  }
  r.m0 = loops.group() * cout_g * pack + m0;
  r.m = m;
  return r;
}

frontend::ComputeTile LayerGeometry::compute_tile(const LoopNest& loops) const {
  const Box ob = output_box(loops);
  frontend::ComputeTile t;
  t.pixels = static_cast<int64_t>(ob.n) * ob.h * ob.w;
  t.k_elems = static_cast<int64_t>(range(Dim::kC, loops).second) * kernel_h * kernel_w;
  t.m = ob.c;
  // Partial sums of these outputs exist (in OBUF, or reloaded from DRAM)
  // exactly when this is not the first reduction tile.
  t.accumulate = loops.revisit();
  return t;
}

// --- decoding ------------------------------------------------------------------------

LayerDecoder::LayerDecoder(const frontend::HwConfig& hw, const isa::Program& program)
    : hw_(hw), program_(program), regs_(static_cast<size_t>(Reg::kCount), 0) {}

void LayerDecoder::begin_layer(isa::LayerKind kind, int op) {
  kind_ = kind;
  op_ = op;
  for (const auto& [r, v] : isa::layer_reset_registers()) regs_[static_cast<size_t>(r)] = v;
  decoded_ = false;
}

void LayerDecoder::set(uint64_t reg, int64_t value, size_t pc) {
  if (reg >= regs_.size()) reject_instruction(program_, pc, "unknown register");
  regs_[reg] = value;
  decoded_ = false;
}

const LayerGeometry& LayerDecoder::geometry(size_t pc) {
  if (!decoded_) {
    validate(pc);
    geometry_ = decode(pc);
    decoded_ = true;
  }
  return geometry_;
}

namespace {
constexpr int64_t kMaxExtent = int64_t{1} << 24;
}  // namespace

void LayerDecoder::need_in(size_t pc, Reg r, int64_t v, int64_t lo, int64_t hi) const {
  if (v < lo || v > hi) {
    reject_instruction(program_, pc,
                       fmt::format("register {} = {} outside {}..{}", isa::reg_name(r), v, lo, hi));
  }
}

void LayerDecoder::validate(size_t pc) const {
  auto need = [&](Reg r, int64_t lo, int64_t hi) { need_in(pc, r, reg(r), lo, hi); };
  const bool pool = kind_ != isa::LayerKind::kConv;
  const bool residual = (reg(Reg::kFlags) & isa::kFlagResidual) != 0;
  for (Reg r : {Reg::kInC, Reg::kInH, Reg::kInW, Reg::kOutC, Reg::kOutH, Reg::kOutW, Reg::kBatch,
                Reg::kKernelH, Reg::kKernelW, Reg::kStrideH, Reg::kStrideW, Reg::kGroups}) {
    need(r, 1, kMaxExtent);
  }
  need(Reg::kPadH, 0, kMaxExtent);
  need(Reg::kPadW, 0, kMaxExtent);
  need(Reg::kDilationH, 1, kMaxExtent);
  need(Reg::kDilationW, 1, kMaxExtent);
  if (pool && (reg(Reg::kDilationH) != 1 || reg(Reg::kDilationW) != 1))
    reject_instruction(program_, pc, "a pool or copy is not dilated");
  need(Reg::kInBits, 1, 30);
  need(Reg::kOutBits, 1, 30);
  if (residual) need(Reg::kResBits, 1, 30);
  if (reg(Reg::kInC) % reg(Reg::kGroups) != 0 || reg(Reg::kOutC) % reg(Reg::kGroups) != 0) {
    reject_instruction(program_, pc,
                       fmt::format("GROUPS = {} does not divide IN_C = {} and OUT_C = {}",
                                   reg(Reg::kGroups), reg(Reg::kInC), reg(Reg::kOutC)));
  }
  need(Reg::kInRotate, 0, reg(Reg::kGroups) - 1);
  // Programs without packing leave GROUP_PACK 0: one group a tile.
  const int64_t pack = reg(Reg::kGroupPack) == 0 ? 1 : reg(Reg::kGroupPack);
  need_in(pc, Reg::kGroupPack, pack, 1, reg(Reg::kGroups));
  if (reg(Reg::kGroups) % pack != 0) {
    reject_instruction(
        program_, pc,
        fmt::format("GROUP_PACK = {} does not divide GROUPS = {}", pack, reg(Reg::kGroups)));
  }
  if (pack > 1 && reg(Reg::kInRotate) != 0)
    reject_instruction(program_, pc, "packed groups cannot read a rotated input");
  validate_views_and_layouts(pc);
  if (pool) {
    if (reg(Reg::kGroups) != 1 || reg(Reg::kInC) != reg(Reg::kOutC))
      reject_instruction(program_, pc, "a pool keeps its channels, in one group");
  } else {
    need(Reg::kABits, 1, 16);
    need(Reg::kWBits, 1, 16);
  }
}

void LayerDecoder::validate_views_and_layouts(size_t pc) const {
  auto need = [&](Reg r, int64_t lo, int64_t hi) { need_in(pc, r, reg(r), lo, hi); };
  const bool residual = (reg(Reg::kFlags) & isa::kFlagResidual) != 0;
  // A channel view must lie inside the tensor it is a view of.
  auto need_view = [&](Reg total, Reg offset, Reg stride, Reg channels) {
    if (reg(total) == 0) return;
    need(total, 1, kMaxExtent);
    need(offset, 0, kMaxExtent);
    need(stride, 1, kMaxExtent);
    const int64_t last = reg(offset) + reg(stride) * (reg(channels) - 1);
    if (last >= reg(total)) {
      reject_instruction(
          program_, pc,
          fmt::format(
              "channel view {} + {} x c of {} channels reaches channel {} of a {}-channel tensor",
              reg(offset), reg(stride), reg(channels), last, reg(total)));
    }
  };
  need_view(Reg::kInCTotal, Reg::kInCOffset, Reg::kInCStride, Reg::kInC);
  need_view(Reg::kOutCTotal, Reg::kOutCOffset, Reg::kOutCStride, Reg::kOutC);
  if (residual) need_view(Reg::kResCTotal, Reg::kResCOffset, Reg::kResCStride, Reg::kOutC);
  // A layout's block divides the channels of the tensor it stores.
  auto need_block = [&](Reg block, int64_t stored) {
    need(block, 0, stored);
    if (!frontend::valid_block(static_cast<int>(reg(block)), static_cast<int>(stored))) {
      reject_instruction(program_, pc,
                         fmt::format("{} = {} does not divide the {} stored channels",
                                     isa::reg_name(block), reg(block), stored));
    }
  };
  auto stored = [&](Reg total, Reg channels) {
    return reg(total) > 0 ? reg(total) : reg(channels);
  };
  need_block(Reg::kInBlock, stored(Reg::kInCTotal, Reg::kInC));
  need_block(Reg::kOutBlock, stored(Reg::kOutCTotal, Reg::kOutC));
  need_block(Reg::kInGroupMajor, stored(Reg::kInCTotal, Reg::kInC));
  need_block(Reg::kOutGroupMajor, stored(Reg::kOutCTotal, Reg::kOutC));
  if (residual) {
    need_block(Reg::kResBlock, stored(Reg::kResCTotal, Reg::kOutC));
    need_block(Reg::kResGroupMajor, stored(Reg::kResCTotal, Reg::kOutC));
  }
  need_block(Reg::kPsumBlock, reg(Reg::kOutC));
  const int64_t shuffle = reg(Reg::kOutShuffle);
  if (shuffle > 1 && reg(Reg::kOutC) % shuffle != 0) {
    reject_instruction(
        program_, pc,
        fmt::format("OUT_SHUFFLE = {} does not divide OUT_C = {}", shuffle, reg(Reg::kOutC)));
  }
}

// The array mode the registers name, as the array model defines it: one of
// the modes it allows for these operand widths (frontend/mapping/array_model.h).
frontend::ArrayMode LayerDecoder::array_mode(size_t pc) const {
  const int fa = static_cast<int>(reg(Reg::kModeFa)), fw = static_cast<int>(reg(Reg::kModeFw));
  const auto& bits = hw_.array.fusion_bits;
  if (std::find(bits.begin(), bits.end(), fa) == bits.end() ||
      std::find(bits.begin(), bits.end(), fw) == bits.end()) {
    reject_instruction(
        program_, pc,
        fmt::format("array mode {}x{} bits is not one of the configured operand widths", fa, fw));
  }
  const int64_t lanes = reg(Reg::kModeLanes), outputs = reg(Reg::kModeOutputs);
  for (const frontend::ArrayMode& m : frontend::array_modes(hw_, static_cast<int>(reg(Reg::kABits)),
                                                            static_cast<int>(reg(Reg::kWBits)))) {
    if (m.fa == fa && m.fw == fw && m.lanes_per_unit == lanes && m.outputs_per_unit == outputs)
      return m;
  }
  reject_instruction(
      program_, pc,
      fmt::format(
          "array mode of {} lanes x {} outputs per unit at {}x{} bits does not fit the units",
          lanes, outputs, fa, fw));
}

LayerGeometry LayerDecoder::decode(size_t pc) const {
  auto i = [&](Reg r) { return static_cast<int>(reg(r)); };
  LayerGeometry g;
  g.kind = kind_;
  g.op = op_;
  g.flags = static_cast<uint32_t>(reg(Reg::kFlags));
  g.groups = i(Reg::kGroups);
  g.pack = std::max(1, i(Reg::kGroupPack));
  g.cin_g = i(Reg::kInC) / g.groups;
  g.cout_g = i(Reg::kOutC) / g.groups;
  g.in_rotate = i(Reg::kInRotate);
  g.out_shuffle = i(Reg::kOutShuffle);
  g.in_h = i(Reg::kInH);
  g.in_w = i(Reg::kInW);
  g.kernel_h = i(Reg::kKernelH);
  g.kernel_w = i(Reg::kKernelW);
  g.stride_h = i(Reg::kStrideH);
  g.stride_w = i(Reg::kStrideW);
  g.pad_h = i(Reg::kPadH);
  g.pad_w = i(Reg::kPadW);
  g.dilation_h = i(Reg::kDilationH);
  g.dilation_w = i(Reg::kDilationW);
  g.in_bits = i(Reg::kInBits);
  g.out_bits = i(Reg::kOutBits);
  g.res_bits = g.has(isa::kFlagResidual) ? i(Reg::kResBits) : 0;
  g.w_bits = i(Reg::kWBits);
  g.accumulator_bits = hw_.accumulator_bits;
  auto dim = [&](Dim d, int64_t extent, int64_t tile) {
    g.extent[static_cast<int>(d)] = extent;
    g.tile[static_cast<int>(d)] = std::max<int64_t>(1, std::min(tile, extent));
  };
  dim(Dim::kN, reg(Reg::kBatch), reg(Reg::kTileN));
  dim(Dim::kH, reg(Reg::kOutH), reg(Reg::kTileH));
  dim(Dim::kW, reg(Reg::kOutW), reg(Reg::kTileW));
  dim(Dim::kM, int64_t{g.cout_g} * g.pack, reg(Reg::kTileM));
  dim(Dim::kC, g.pool() ? 1 : int64_t{g.cin_g} * g.pack, reg(Reg::kTileC));
  dim(Dim::kG, g.groups / g.pack, 1);
  auto layout = [&](Reg addr, Reg bits, Reg c, Reg h, Reg w, Reg total, Reg offset, Reg stride,
                    Reg block, Reg group_major) {
    TensorLayout t{static_cast<uint64_t>(reg(addr)),
                   i(bits),
                   i(c),
                   i(h),
                   i(w),
                   i(total),
                   i(offset),
                   i(stride)};
    t.block = i(block);
    t.group_major = i(group_major);
    return t;
  };
  g.in = layout(Reg::kInAddr, Reg::kInBits, Reg::kInC, Reg::kInH, Reg::kInW, Reg::kInCTotal,
                Reg::kInCOffset, Reg::kInCStride, Reg::kInBlock, Reg::kInGroupMajor);
  g.out = layout(Reg::kOutAddr, Reg::kOutBits, Reg::kOutC, Reg::kOutH, Reg::kOutW, Reg::kOutCTotal,
                 Reg::kOutCOffset, Reg::kOutCStride, Reg::kOutBlock, Reg::kOutGroupMajor);
  // The residual has the output's logical shape, at its own address, width and view.
  g.res = layout(Reg::kResAddr, Reg::kResBits, Reg::kOutC, Reg::kOutH, Reg::kOutW, Reg::kResCTotal,
                 Reg::kResCOffset, Reg::kResCStride, Reg::kResBlock, Reg::kResGroupMajor);
  const uint64_t psum_base = static_cast<uint64_t>(reg(Reg::kPsumAddr));
  g.psum =
      TensorLayout{psum_base, hw_.accumulator_bits, i(Reg::kOutC), i(Reg::kOutH), i(Reg::kOutW)};
  g.psum.block = i(Reg::kPsumBlock);
  const uint64_t accumulators = static_cast<uint64_t>(reg(Reg::kBatch)) * i(Reg::kOutC) *
                                i(Reg::kOutH) * i(Reg::kOutW) * hw_.accumulator_bits;
  g.asum = TensorLayout{psum_base + accumulators, hw_.accumulator_bits, i(Reg::kOutC),
                        i(Reg::kOutH), i(Reg::kOutW)};
  g.w_addr = static_cast<uint64_t>(reg(Reg::kWAddr));
  if (!g.pool()) g.mode = array_mode(pc);
  return g;
}

// --- the registers of each op, for the functional model ----------------------

std::vector<LayerRegisters> decode_layers(const isa::Program& program) {
  std::vector<LayerRegisters> out;
  LayerRegisters cur;
  int op = -1;
  for (const auto& in : program.code) {
    if (in.opcode == isa::Opcode::kLayer) {
      op = static_cast<int>(in.field("op"));
      cur = LayerRegisters{};
      for (const auto& [r, v] : isa::layer_reset_registers()) cur.r[static_cast<int>(r)] = v;
      cur.kind = static_cast<isa::LayerKind>(in.field("kind"));
    } else if (in.opcode == isa::Opcode::kSetReg && op >= 0) {
      cur.r[in.field("reg")] = static_cast<int64_t>(in.field("value"));
    } else if (in.opcode == isa::Opcode::kEndLayer && op >= 0) {
      if (static_cast<int>(out.size()) <= op) out.resize(static_cast<size_t>(op) + 1);
      out[static_cast<size_t>(op)] = cur;
      op = -1;
    }
  }
  return out;
}

}  // namespace palsim::sim
