#pragma once
// The layer decoder: turns the layer registers of the instruction stream into
// an immutable, validated layer geometry (extents, tiles, tensor layouts,
// array mode), and says where in that geometry the current loop indices are
// (the boxes of the current tile). The controller asks it and never reads a
// register itself. A register out of range is a malformed program, reported
// when the geometry is decoded (not as a division by zero or an access outside
// a tensor later).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/isa/isa.h"
#include "frontend/isa/program.h"
#include "frontend/mapping/array_model.h"
#include "frontend/mapping/tensor_layout.h"
#include "sim/core/job.h"

namespace palsim::sim {

// Throws InputError naming instruction `pc` of `program` and why it is malformed.
[[noreturn]] void reject_instruction(const isa::Program& program, size_t pc,
                                     const std::string& why);

// The loops enclosing the instruction being expanded, outermost first.
class LoopNest {
 public:
  void enter(isa::Dim dim, int64_t index, int64_t trips) { loops_.push_back({dim, index, trips}); }
  void leave() { loops_.pop_back(); }
  // The index of the innermost loop over `dim`, -1 when none encloses.
  int64_t index(isa::Dim dim) const;
  int group() const;
  // Whether every enclosing C loop is at its last trip (the outputs are
  // final) and whether any is past its first (partial sums exist).
  bool outputs_final() const;
  bool revisit() const;

 private:
  struct Loop {
    isa::Dim dim;
    int64_t index;
    int64_t trips;
  };
  std::vector<Loop> loops_;
};

struct LayerGeometry {
  isa::LayerKind kind = isa::LayerKind::kConv;
  int op = 0;
  uint32_t flags = 0;
  int groups = 1;
  // Groups run together as one block-diagonal problem; the G loop walks
  // group tiles of `pack` groups.
  int pack = 1;
  int cin_g = 1, cout_g = 1;
  int in_rotate = 0;
  int out_shuffle = 0;
  int in_h = 1, in_w = 1;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int in_bits = 8, out_bits = 8, res_bits = 0, w_bits = 8;
  int accumulator_bits = 32;
  // Extent and tile of each loop dimension (indexed by isa::Dim).
  int64_t extent[6] = {1, 1, 1, 1, 1, 1};
  int64_t tile[6] = {1, 1, 1, 1, 1, 1};
  frontend::TensorLayout in, out, res;
  // The op's partial-sum scratch: accumulators of its whole output, then
  // (uniform quantizer) one activation sum per output position.
  frontend::TensorLayout psum, asum;
  uint64_t w_addr = 0;
  frontend::ArrayMode mode;  // convs: one of the modes the array model allows

  bool pool() const { return kind != isa::LayerKind::kConv; }
  bool has(uint32_t flag) const { return (flags & flag) != 0; }

  // Range [first, first + count) of `dim` at the loop position: the current
  // tile when its loop encloses it, the whole extent otherwise.
  std::pair<int, int> range(isa::Dim dim, const LoopNest& loops) const;
  // The outputs (n, absolute output channel, h, w) of the current tile.
  frontend::Box output_box(const LoopNest& loops) const;
  // The inputs those outputs read (halo included, clipped to the tensor).
  frontend::Box input_box(const LoopNest& loops) const;
  // The weights of the current tile (a packed tile: each group's own).
  WeightRange weight_range(const LoopNest& loops) const;
  // The product terms of the current compute tile: pixels x (c x kh x kw) x m.
  frontend::ComputeTile compute_tile(const LoopNest& loops) const;
};

// The layer registers of the instruction stream, decoded into a geometry
// when a LOAD, COMPUTE or STORE needs one after they were last set.
class LayerDecoder {
 public:
  LayerDecoder(const frontend::HwConfig& hw, const isa::Program& program);
  // LAYER: a new layer's registers (channel views, layouts and dilation
  // reset; isa.h).
  void begin_layer(isa::LayerKind kind, int op);
  // SETR.
  void set(uint64_t reg, int64_t value, size_t pc);
  // The validated geometry of the current layer; throws InputError naming
  // instruction `pc` when a register is out of range.
  const LayerGeometry& geometry(size_t pc);

 private:
  int64_t reg(isa::Reg r) const { return regs_[static_cast<size_t>(r)]; }
  void need_in(size_t pc, isa::Reg r, int64_t value, int64_t lo, int64_t hi) const;
  void validate(size_t pc) const;
  void validate_views_and_layouts(size_t pc) const;
  frontend::ArrayMode array_mode(size_t pc) const;
  LayerGeometry decode(size_t pc) const;

  const frontend::HwConfig& hw_;
  const isa::Program& program_;
  isa::LayerKind kind_ = isa::LayerKind::kConv;
  int op_ = 0;
  std::vector<int64_t> regs_;
  bool decoded_ = false;  // geometry_ is of the registers as they are
  LayerGeometry geometry_;
};

// The decoded layer registers of each op, in op order (for the functional model).
struct LayerRegisters {
  isa::LayerKind kind = isa::LayerKind::kConv;
  int64_t r[static_cast<int>(isa::Reg::kCount)] = {};
  int64_t get(isa::Reg reg) const { return r[static_cast<int>(reg)]; }
};
std::vector<LayerRegisters> decode_layers(const isa::Program& program);

}  // namespace palsim::sim
