#pragma once
// The values a detailed simulation moves and computes: DRAM (every tensor in
// its physical layout, the weights, the partial-sum scratch) and the contents
// of every buffer slot (IBUF input/residual halves and on-chip regions, WBUF
// halves, OBUF halves of accumulators). The engines call it when a job moves
// or transforms data; the array reads its tiles through it.
#include <cstdint>
#include <map>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/isa/program.h"
#include "frontend/lowering/int_model.h"
#include "sim/core/controller.h"
#include "sim/core/job.h"

namespace palsim::sim {

// A box of activations in a buffer (batch, channel, row, column).
struct ActTile {
  Box box;
  std::vector<int32_t> v;
  int32_t at(int n, int c, int h, int w) const {
    return v[((static_cast<size_t>(n - box.n0) * box.c + (c - box.c0)) * box.h + (h - box.h0)) *
                 box.w +
             (w - box.w0)];
  }
  bool covers(int n, int c, int h, int w) const {
    return n >= box.n0 && n < box.n0 + box.n && c >= box.c0 && c < box.c0 + box.c && h >= box.h0 &&
           h < box.h0 + box.h && w >= box.w0 && w < box.w0 + box.w;
  }
};

// Weights for output channels [m0, m0 + m) and per-group inputs [c0, c0 + c).
struct WeightTile {
  int m0 = 0, m = 0, c0 = 0, c = 0, kh = 1, kw = 1;
  std::vector<int32_t> v;
  int32_t at(int mm, int cc, int ky, int kx) const {
    return v[((static_cast<size_t>(mm - m0) * c + (cc - c0)) * kh + ky) * kw + kx];
  }
};

// Accumulators of one output tile (conv channels), the per-position
// activation sums, and the post-processed results.
struct AccTile {
  Box box;
  std::vector<int64_t> acc;     // (n, c, h, w) of the box
  std::vector<int64_t> asum;    // (n, h, w) of the box
  std::vector<int32_t> result;  // (n, c, h, w) of the box
  // Indices of absolute coordinates into acc / result and into asum.
  size_t index(int n, int c, int h, int w) const {
    return ((static_cast<size_t>(n - box.n0) * box.c + (c - box.c0)) * box.h + (h - box.h0)) *
               box.w +
           (w - box.w0);
  }
  size_t position(int n, int h, int w) const {
    return (static_cast<size_t>(n - box.n0) * box.h + (h - box.h0)) * box.w + (w - box.w0);
  }
};

class FunctionalState {
 public:
  FunctionalState(const frontend::HwConfig& hw, const isa::Program& program,
                  const frontend::IntegerModel& model);

  // DMA: DRAM -> buffer slot and back.
  void load(const Job& j);
  void store(const Job& j);
  // PPU: requantization (convs) or pooling into the OBUF slot (or the region).
  void post_process(const Job& j);

  const LayerRegisters& layer(int op) const { return layers_.at(static_cast<size_t>(op)); }
  // The activation at (n, absolute input channel, row, column) for a compute
  // job: padded positions read 0; throws InternalError when the buffer tile
  // does not hold it (a controller bug).
  int32_t activation(const Job& j, int n, int c, int y, int x) const;
  // The tile a compute job reads its inputs from (an IBUF half or an on-chip region).
  const ActTile& input_tile(const Job& j) const;
  const WeightTile& weights(const Job& j) const { return wbuf_.at(static_cast<size_t>(j.w_slot)); }
  AccTile& accumulators(const Job& j) { return obuf_.at(static_cast<size_t>(j.o_slot)); }
  // Prepares the OBUF slot of a compute job for its output tile (throws
  // InternalError when the slot holds another tile: a controller bug).
  void open_accumulators(const Job& j);

  // Tensor `id` of the program as it is in DRAM now (a view: its channels
  // of the tensor that owns the space).
  kernels::IntTensor tensor(int id) const;

 private:
  void check_layers() const;
  int tensor_at(int64_t dram_bit) const;

  const frontend::HwConfig& hw_;
  const isa::Program& program_;
  const frontend::IntegerModel& model_;
  std::vector<LayerRegisters> layers_;
  // Contents of the tensors that own DRAM space (views have none of their own).
  std::vector<kernels::IntTensor> tensors_;
  std::map<int64_t, int> tensor_by_addr_;  // owners only
  // Per op, spilled partial sums (N, C, H, W) and activation sums (N, C, H, W:
  // each output tile keeps its own, at its first channel).
  std::vector<std::vector<int64_t>> psum_acc_, psum_asum_;
  std::vector<ActTile> ibuf_in_, ibuf_res_;
  std::map<int64_t, ActTile> regions_;
  std::vector<WeightTile> wbuf_;
  std::vector<AccTile> obuf_;
};

}  // namespace palsim::sim
