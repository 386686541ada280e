#include "sim/functional/program_graph.h"

#include <map>
#include <tuple>

#include "common/error.h"
#include "sim/core/controller.h"

namespace palsim::sim {

frontend::HwGraph graph_from_program(const isa::Program& program) {
  using isa::Reg;
  const auto& info = program.info;
  frontend::HwGraph g;
  g.network = info.network;
  g.options.batch = info.batch;
  g.options.onchip_intermediates = info.onchip_intermediates;
  g.options.fp_layers = frontend::parse_fp_layer_treatment(info.fp_layers);
  g.input_tensor = info.input_tensor;
  g.output_tensor = info.output_tensor;
  g.dram_bits = info.dram_bits;
  std::map<int64_t, int> by_addr;                       // tensors that own their space
  std::map<std::tuple<int, int, int, int>, int> views;  // (owner, offset, stride, channels)
  for (size_t t = 0; t < info.tensors.size(); ++t) {
    const auto& ti = info.tensors[t];
    frontend::HwTensor ht;
    ht.id = static_cast<int>(t);
    ht.name = ti.name;
    ht.shape = frontend::Shape{ti.c, ti.h, ti.w};
    ht.batch = ti.batch;
    ht.bits = ti.bits;
    ht.dram_bit = ti.dram_bit;
    ht.view_of = ti.view_of;
    ht.view_offset = ti.view_offset;
    ht.view_stride = ti.view_stride;
    g.tensors.push_back(ht);
    if (ti.view_of < 0) {
      by_addr[static_cast<int64_t>(ti.dram_bit)] = static_cast<int>(t);
    } else {
      views[std::make_tuple(ti.view_of, ti.view_offset, ti.view_stride, ti.c)] =
          static_cast<int>(t);
    }
  }
  // The tensor a layer's address and view registers name.
  auto tensor = [&](int64_t addr, int64_t total, int64_t offset, int64_t stride, int64_t channels) {
    auto it = by_addr.find(addr);
    if (it == by_addr.end())
      throw InputError("program: a layer register points at no tensor of the program");
    if (total == 0) return it->second;
    auto v = views.find(std::make_tuple(it->second, static_cast<int>(offset),
                                        static_cast<int>(stride), static_cast<int>(channels)));
    if (v == views.end())
      throw InputError("program: a layer's channel view is not a tensor of the program");
    return v->second;
  };
  const std::vector<LayerRegisters> layers = decode_layers(program);
  if (layers.size() != info.ops.size())
    throw InputError("program: layer count differs from its operation table");
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerRegisters& L = layers[i];
    frontend::HwOp op;
    op.name = info.ops[i].name;
    op.layers = info.ops[i].layers;
    switch (L.kind) {
      case isa::LayerKind::kConv:
        op.kind = frontend::HwOpKind::kConv;
        break;
      case isa::LayerKind::kMaxPool:
        op.kind = frontend::HwOpKind::kMaxPool;
        break;
      case isa::LayerKind::kAvgPool:
        op.kind = frontend::HwOpKind::kAvgPool;
        break;
      case isa::LayerKind::kGlobalAvgPool:
        op.kind = frontend::HwOpKind::kGlobalAvgPool;
        break;
      case isa::LayerKind::kCopy:
        op.kind = frontend::HwOpKind::kCopy;
        break;
    }
    op.input = tensor(L.get(Reg::kInAddr), L.get(Reg::kInCTotal), L.get(Reg::kInCOffset),
                      L.get(Reg::kInCStride), L.get(Reg::kInC));
    op.output = tensor(L.get(Reg::kOutAddr), L.get(Reg::kOutCTotal), L.get(Reg::kOutCOffset),
                       L.get(Reg::kOutCStride), L.get(Reg::kOutC));
    const uint32_t flags = static_cast<uint32_t>(L.get(Reg::kFlags));
    if (flags & isa::kFlagResidual) {
      op.residual = tensor(L.get(Reg::kResAddr), L.get(Reg::kResCTotal), L.get(Reg::kResCOffset),
                           L.get(Reg::kResCStride), L.get(Reg::kOutC));
    }
    op.in = frontend::Shape{static_cast<int>(L.get(Reg::kInC)), static_cast<int>(L.get(Reg::kInH)),
                            static_cast<int>(L.get(Reg::kInW))};
    op.out =
        frontend::Shape{static_cast<int>(L.get(Reg::kOutC)), static_cast<int>(L.get(Reg::kOutH)),
                        static_cast<int>(L.get(Reg::kOutW))};
    op.kh = static_cast<int>(L.get(Reg::kKernelH));
    op.kw = static_cast<int>(L.get(Reg::kKernelW));
    op.sh = static_cast<int>(L.get(Reg::kStrideH));
    op.sw = static_cast<int>(L.get(Reg::kStrideW));
    op.ph = static_cast<int>(L.get(Reg::kPadH));
    op.pw = static_cast<int>(L.get(Reg::kPadW));
    op.dh = static_cast<int>(L.get(Reg::kDilationH));
    op.dw = static_cast<int>(L.get(Reg::kDilationW));
    op.groups = static_cast<int>(L.get(Reg::kGroups));
    op.a_bits = static_cast<int>(L.get(Reg::kABits));
    op.w_bits = static_cast<int>(L.get(Reg::kWBits));
    op.w_signed = L.get(Reg::kWSigned) != 0;
    op.uniform_quantizer = flags & isa::kFlagActivationSum;
    op.in_group_rotate = static_cast<int>(L.get(Reg::kInRotate));
    op.relu_before_residual = flags & isa::kFlagReluBefore;
    op.relu_after_residual = flags & isa::kFlagReluAfter;
    op.out_shuffle_groups = static_cast<int>(L.get(Reg::kOutShuffle));
    op.weight_dram_bit = static_cast<uint64_t>(L.get(Reg::kWAddr));
    g.ops.push_back(op);
  }
  return g;
}

}  // namespace palsim::sim
