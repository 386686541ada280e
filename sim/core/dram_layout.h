#pragma once
// Where a tile of a tensor lives in DRAM: tensors are NCHW with packed
// elements; a box of a tensor becomes a few strided DMA accesses. Channel
// maps express the permutations that palsim folds into addressing instead of
// running them: the cyclic group rotation on a conv's input and the channel
// shuffle on a conv's output.
#include <cstdint>
#include <vector>

#include "sim/core/job.h"

namespace palsim::sim {

struct TensorLayout {
  uint64_t base_bit = 0;
  int bits = 8;
  int c = 1, h = 1, w = 1;  // the logical tensor (c channels)
  // A channel view: logical channel c (after any shuffle) is channel
  // c_offset + c_stride * c of a c_total-channel tensor at base_bit.
  // c_total = 0: not a view.
  int c_total = 0, c_offset = 0, c_stride = 1;
  int stored_channels() const { return c_total > 0 ? c_total : c; }
  int stored_channel(int logical) const {
    return c_total > 0 ? c_offset + c_stride * logical : logical;
  }
};

// Physical position of logical channels [c0, c0 + count): segments of
// constant stride.
struct ChannelSegment {
  int logical0 = 0;
  int count = 0;
  int physical0 = 0;
  int stride = 1;
};

// shuffle_groups <= 1: identity. Otherwise the ShuffleNet channel shuffle:
// logical channel a*(C/S) + b is stored at b*S + a.
std::vector<ChannelSegment> channel_segments(int c0, int count, int channels, int shuffle_groups);
int physical_channel(int c, int channels, int shuffle_groups);

// DMA accesses for `box` (logical channels) of a tensor, through its view.
std::vector<DramAccess> box_accesses(const TensorLayout& t, const Box& box, int shuffle_groups,
                                     bool write);

// Weights [M][Cg][kh][kw]: output channels [m0, m0 + m) and per-group input channels [c0, c0 + c).
std::vector<DramAccess> weight_accesses(uint64_t base_bit, int bits, int cin_g, int kh, int kw,
                                        int m0, int m, int c0, int c);

}  // namespace palsim::sim
