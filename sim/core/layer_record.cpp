#include "sim/core/layer_record.h"

#include <algorithm>

#include "sim/core/controller.h"

namespace palsim::sim {

namespace {

using isa::Reg;

LayerShape shape_of(const LayerRegisters& L) {
  auto get = [&](Reg r) { return static_cast<int>(L.get(r)); };
  LayerShape s;
  s.conv = L.kind == isa::LayerKind::kConv;
  s.in_c = get(Reg::kInC);
  s.in_h = get(Reg::kInH);
  s.in_w = get(Reg::kInW);
  s.out_c = get(Reg::kOutC);
  s.out_h = get(Reg::kOutH);
  s.out_w = get(Reg::kOutW);
  s.kernel_h = get(Reg::kKernelH);
  s.kernel_w = get(Reg::kKernelW);
  s.stride_h = get(Reg::kStrideH);
  s.stride_w = get(Reg::kStrideW);
  s.pad_h = get(Reg::kPadH);
  s.pad_w = get(Reg::kPadW);
  s.dilation_h = get(Reg::kDilationH);
  s.dilation_w = get(Reg::kDilationW);
  s.groups = get(Reg::kGroups);
  if (s.conv) {
    s.a_bits = get(Reg::kABits);
    s.w_bits = get(Reg::kWBits);
  }
  return s;
}

void registers_to(const LayerRegisters& L, MappingRecord& m) {
  auto get = [&](Reg r) { return static_cast<int>(L.get(r)); };
  m.tile_n = get(Reg::kTileN);
  m.tile_h = get(Reg::kTileH);
  m.tile_w = get(Reg::kTileW);
  m.tile_m = get(Reg::kTileM);
  m.tile_c = get(Reg::kTileC);
  m.pack = get(Reg::kGroupPack);
  if (L.kind == isa::LayerKind::kConv) {
    m.mode_fa = get(Reg::kModeFa);
    m.mode_fw = get(Reg::kModeFw);
    m.lanes_per_unit = get(Reg::kModeLanes);
    m.outputs_per_unit = get(Reg::kModeOutputs);
  }
}

}  // namespace

std::vector<LayerRecord> decode_layer_records(const isa::Program& program) {
  const std::vector<LayerRegisters> regs = decode_layers(program);
  std::vector<LayerRecord> out(std::max(regs.size(), program.info.ops.size()));
  for (size_t k = 0; k < regs.size(); ++k) {
    out[k].shape = shape_of(regs[k]);
    registers_to(regs[k], out[k].mapping);
  }
  // The loop nest: tile loops (not the group loop) in order, and the tile
  // depth at which each operand's LOAD or STORE sits.
  MappingRecord* m = nullptr;
  std::vector<bool> tile_loop;  // open loops: a tile loop or the group loop
  int depth = 0;
  for (const auto& in : program.code) {
    switch (in.opcode) {
      case isa::Opcode::kLayer: {
        const size_t op = in.field("op");
        m = op < out.size() ? &out[op].mapping : nullptr;
        if (m) m->order.clear();
        tile_loop.clear();
        depth = 0;
        break;
      }
      case isa::Opcode::kLoop: {
        const auto dim = static_cast<isa::Dim>(in.field("dim"));
        tile_loop.push_back(dim != isa::Dim::kG);
        if (dim == isa::Dim::kG) break;
        if (m) m->order += isa::dim_name(dim);
        ++depth;
        break;
      }
      case isa::Opcode::kEndLoop:
        if (!tile_loop.empty() && tile_loop.back()) --depth;
        if (!tile_loop.empty()) tile_loop.pop_back();
        break;
      case isa::Opcode::kLoad: {
        if (!m) break;
        const auto what = static_cast<isa::LoadOperand>(in.field("operand"));
        if (what == isa::LoadOperand::kInput) m->level_in = depth;
        if (what == isa::LoadOperand::kWeight) m->level_wt = depth;
        break;
      }
      case isa::Opcode::kStore:
        if (m) m->level_out = depth;
        break;
      case isa::Opcode::kEndLayer:
        m = nullptr;
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace palsim::sim
