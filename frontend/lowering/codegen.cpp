#include "frontend/lowering/codegen.h"

#include <fmt/format.h>

#include "common/error.h"

namespace palsim::frontend {

namespace {

using isa::Dim;
using isa::Instruction;
using isa::Reg;

isa::LayerKind layer_kind(HwOpKind k) {
  switch (k) {
    case HwOpKind::kConv:
      return isa::LayerKind::kConv;
    case HwOpKind::kMaxPool:
      return isa::LayerKind::kMaxPool;
    case HwOpKind::kAvgPool:
      return isa::LayerKind::kAvgPool;
    case HwOpKind::kGlobalAvgPool:
      return isa::LayerKind::kGlobalAvgPool;
    case HwOpKind::kCopy:
      return isa::LayerKind::kCopy;
  }
  return isa::LayerKind::kConv;
}

Dim to_isa(LoopDim d) {
  return static_cast<Dim>(static_cast<int>(d) + 1);
}

class Emitter {
 public:
  Emitter(const HwConfig& hw, const Plan& plan) : hw_(hw), plan_(plan) {}

  isa::Program run() {
    const auto& ops = plan_.graph.ops;
    for (size_t i = 0; i < ops.size(); ++i) {
      // A producer and its consumer share one group loop; a producer
      // evaluated alone (by the planner) keeps its own.
      if (plan_.ops[i].onchip_producer && i + 1 < ops.size() && plan_.ops[i + 1].onchip_consumer) {
        code_.push_back(isa::loop(Dim::kG, static_cast<uint64_t>(ops[i].groups)));
        layer(i, false);
        layer(i + 1, false);
        code_.push_back(isa::end_loop());
        ++i;
      } else {
        layer(i, true);
      }
    }
    code_.push_back(isa::halt());
    isa::Program p;
    p.code = std::move(code_);
    p.info = info();
    return p;
  }

 private:
  void set(Reg r, int64_t v) { code_.push_back(isa::set_reg(r, static_cast<uint64_t>(v))); }

  void layer(size_t i, bool own_group_loop) {
    const HwOp& op = plan_.graph.ops[i];
    const OpPlan& pl = plan_.ops[i];
    const Mapping& m = pl.mapping;
    const MappingProblem& p = pl.problem;
    const auto& t = plan_.graph.tensors;
    code_.push_back(isa::layer(layer_kind(op.kind), i));
    const HwTensor& in = t[static_cast<size_t>(op.input)];
    const HwTensor& out = t[static_cast<size_t>(op.output)];
    set(Reg::kInAddr, static_cast<int64_t>(in.dram_bit));
    set(Reg::kInC, op.in.c);
    set(Reg::kInH, op.in.h);
    set(Reg::kInW, op.in.w);
    set(Reg::kInBits, in.bits);
    set(Reg::kWAddr, static_cast<int64_t>(op.weight_dram_bit));
    set(Reg::kWBits, op.w_bits);
    set(Reg::kWSigned, op.w_signed);
    set(Reg::kOutAddr, static_cast<int64_t>(out.dram_bit));
    set(Reg::kOutC, op.out.c);
    set(Reg::kOutH, op.out.h);
    set(Reg::kOutW, op.out.w);
    set(Reg::kOutBits, out.bits);
    set(Reg::kResAddr,
        op.residual >= 0 ? static_cast<int64_t>(t[static_cast<size_t>(op.residual)].dram_bit) : 0);
    set(Reg::kResBits, p.res_bits);
    set(Reg::kKernelH, op.kh);
    set(Reg::kKernelW, op.kw);
    set(Reg::kStrideH, op.sh);
    set(Reg::kStrideW, op.sw);
    set(Reg::kPadH, op.ph);
    set(Reg::kPadW, op.pw);
    // LAYER resets dilation to 1: a dense layer's program has no SETR for it.
    if (op.dh != 1) set(Reg::kDilationH, op.dh);
    if (op.dw != 1) set(Reg::kDilationW, op.dw);
    set(Reg::kGroups, op.groups);
    set(Reg::kBatch, plan_.graph.options.batch);
    set(Reg::kABits, op.a_bits);
    set(Reg::kModeFa, m.mode.fa);
    set(Reg::kModeFw, m.mode.fw);
    set(Reg::kModeLanes, m.mode.lanes_per_unit);
    set(Reg::kModeOutputs, m.mode.outputs_per_unit);
    set(Reg::kTileN, m.n_t);
    set(Reg::kTileH, m.h_t);
    set(Reg::kTileW, m.w_t);
    set(Reg::kTileM, m.m_t);
    set(Reg::kTileC, m.c_t);
    uint32_t flags = 0;
    if (op.relu_before_residual) flags |= isa::kFlagReluBefore;
    if (op.relu_after_residual) flags |= isa::kFlagReluAfter;
    if (op.residual >= 0) flags |= isa::kFlagResidual;
    if (op.uniform_quantizer) flags |= isa::kFlagActivationSum;
    if (pl.onchip_consumer) flags |= isa::kFlagOnchipInput;
    if (pl.onchip_producer) flags |= isa::kFlagOnchipOutput;
    set(Reg::kFlags, flags);
    set(Reg::kOutShuffle, op.out_shuffle_groups);
    set(Reg::kInRotate, op.in_group_rotate);
    set(Reg::kPsumAddr, static_cast<int64_t>(pl.psum_dram_bit));
    set(Reg::kRegionBits, pl.region_bits);
    set(Reg::kGroupPack, m.pack);
    view_registers(op.input, Reg::kInCTotal, Reg::kInCOffset, Reg::kInCStride);
    view_registers(op.output, Reg::kOutCTotal, Reg::kOutCOffset, Reg::kOutCStride);
    if (op.residual >= 0)
      view_registers(op.residual, Reg::kResCTotal, Reg::kResCOffset, Reg::kResCStride);
    layout_registers(op, pl);
    if (own_group_loop)
      code_.push_back(isa::loop(Dim::kG, static_cast<uint64_t>(op.groups / m.pack)));
    nest(op, p, m, 0);
    if (own_group_loop) code_.push_back(isa::end_loop());
    code_.push_back(isa::end_layer());
  }

  // Layouts other than planar (LAYER clears them to 0 = NCHW).
  void layout_registers(const HwOp& op, const OpPlan& pl) {
    auto put = [&](Reg r, int value) {
      if (value != 0) set(r, value);
    };
    auto put_layout = [&](Reg block, Reg group_major, int tensor) {
      const LayoutChoice l = plan_.layout_of(tensor);
      put(block, l.block);
      put(group_major, l.group_major);
    };
    put_layout(Reg::kInBlock, Reg::kInGroupMajor, op.input);
    put_layout(Reg::kOutBlock, Reg::kOutGroupMajor, op.output);
    if (op.residual >= 0) put_layout(Reg::kResBlock, Reg::kResGroupMajor, op.residual);
    put(Reg::kPsumBlock, pl.psum_block);
  }

  // Only views set their registers (LAYER clears them).
  void view_registers(int tensor, Reg total, Reg offset, Reg stride) {
    const HwTensor& t = plan_.graph.tensors[static_cast<size_t>(tensor)];
    if (!t.is_view()) return;
    set(total, plan_.graph.tensors[static_cast<size_t>(t.view_of)].shape.c);
    set(offset, t.view_offset);
    set(stride, t.view_stride);
  }

  int64_t trips(const MappingProblem& p, const Mapping& m, LoopDim d) const {
    int64_t e = 1;
    switch (d) {
      case LoopDim::kN:
        e = p.batch;
        break;
      case LoopDim::kH:
        e = p.out_h;
        break;
      case LoopDim::kW:
        e = p.out_w;
        break;
      case LoopDim::kM:
        e = static_cast<int64_t>(p.cout_g) * m.pack;
        break;
      case LoopDim::kC:
        e = p.pool ? 1 : static_cast<int64_t>(p.cin_g) * m.pack;
        break;
    }
    if (e < 1 || m.tile(d) < 1) {
      throw InternalError(
          fmt::format("code generation: dimension {} has extent {} and tile {} ({})",
                      loop_dim_letter(d), e, m.tile(d), m.describe()));
    }
    return ceil_div64(e, std::min<int64_t>(m.tile(d), e));
  }

  void loads_at(const HwOp& op, const MappingProblem& p, const Mapping& m, int depth) {
    if (m.level[0] == depth && !p.onchip_input)
      code_.push_back(isa::load(isa::LoadOperand::kInput));
    if (!p.pool && m.level[1] == depth) code_.push_back(isa::load(isa::LoadOperand::kWeight));
    if (m.level[2] == depth) {
      // Reloads spilled partial sums when this is not the tile's first visit
      // (the controller decides); the residual rides with the final visit.
      if (!p.pool) code_.push_back(isa::load(isa::LoadOperand::kPsum));
      if (op.residual >= 0) code_.push_back(isa::load(isa::LoadOperand::kResidual));
    }
  }

  void nest(const HwOp& op, const MappingProblem& p, const Mapping& m, int depth) {
    loads_at(op, p, m, depth);
    if (depth == kLoopDims) {
      code_.push_back(isa::compute());
    } else {
      const LoopDim d = m.order[static_cast<size_t>(depth)];
      code_.push_back(isa::loop(to_isa(d), static_cast<uint64_t>(trips(p, m, d))));
      nest(op, p, m, depth + 1);
      code_.push_back(isa::end_loop());
    }
    if (m.level[2] == depth) code_.push_back(isa::store(isa::StoreOperand::kOutput));
  }

  isa::ProgramInfo info() const {
    isa::ProgramInfo i;
    const HwGraph& g = plan_.graph;
    i.network = g.network;
    i.hw_name = hw_.name;
    i.hw_fingerprint = plan_.hw_fingerprint;
    i.fp_layers = to_string(g.options.fp_layers);
    i.batch = g.options.batch;
    i.onchip_intermediates = g.options.onchip_intermediates;
    i.excluded_layers = g.excluded_layers;
    i.input_tensor = g.input_tensor;
    i.output_tensor = g.output_tensor;
    i.dram_bits = g.dram_bits;
    for (const auto& t : g.tensors) {
      i.tensors.push_back(isa::TensorInfo{t.name, t.shape.c, t.shape.h, t.shape.w, t.batch, t.bits,
                                          t.dram_bit, t.view_of, t.view_offset, t.view_stride});
    }
    for (size_t k = 0; k < g.ops.size(); ++k) {
      const HwOp& op = g.ops[k];
      i.ops.push_back(isa::OpInfo{op.name, to_string(op.kind), to_string(op.role), op.layers,
                                  op.macs(), plan_.ops[k].mapping.describe()});
    }
    return i;
  }

  const HwConfig& hw_;
  const Plan& plan_;
  std::vector<Instruction> code_;
};

}  // namespace

isa::Program generate_program(const HwConfig& hw, const Plan& plan) {
  return Emitter(hw, plan).run();
}

}  // namespace palsim::frontend
