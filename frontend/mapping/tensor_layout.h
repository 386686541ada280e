#pragma once
// Where a tile of a tensor lives in DRAM, and the tensor layouts palsim can
// choose: every tensor is either planar (NCHW: each channel a plane of H x W
// packed elements) or channel-blocked (N, C / b, H, W, b: the b channels of a
// block side by side at every position, so a tile of whole blocks and whole
// rows is one sequential run; with b dividing a group's channels the groups
// stay contiguous). A box of a tensor becomes a few strided DMA accesses.
// Channel maps express the permutations that palsim folds into addressing
// instead of running them: the cyclic group rotation on a conv's input and
// the channel shuffle on a conv's output. Values never depend on the layout
// (the functional model keeps tensors logically); only addresses do.
// The mapper prices tiles with these accesses and the controller issues
// them, so both see one layout rule.
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/arch/dram_access.h"

namespace palsim::frontend {

// A box of a tensor: batch, channels (logical, within the op's tensor),
// rows and columns.
struct Box {
  int n0 = 0, n = 1, c0 = 0, c = 1, h0 = 0, h = 1, w0 = 0, w = 1;
  int64_t elements() const { return static_cast<int64_t>(n) * c * h * w; }
};

// A tensor's DRAM layout: channels per block (0: planar) and, for a tensor
// its writer channel-shuffles into S groups, whether it is stored group-major
// (S > 0: in the writer's own channel order, the shuffle undone in storage,
// so each of the writer's groups is contiguous and its readers gather the
// shuffled channels instead). "NCHW", "NCHW32c" (blocks of 32 channels),
// "NCHW32c/g2" (group-major of a 2-group shuffle).
struct LayoutChoice {
  int block = 0;
  int group_major = 0;
  bool operator==(const LayoutChoice& o) const {
    return block == o.block && group_major == o.group_major;
  }
};
std::string layout_name(const LayoutChoice& layout);

struct TensorLayout {
  uint64_t base_bit = 0;
  int bits = 8;
  int c = 1, h = 1, w = 1;  // the logical tensor (c channels)
  // A channel view: logical channel c (after any shuffle) is channel
  // c_offset + c_stride * c of a c_total-channel tensor at base_bit.
  // c_total = 0: not a view.
  int c_total = 0, c_offset = 0, c_stride = 1;
  // Layout of the stored tensor (LayoutChoice); a block divides
  // stored_channels(), and so does group_major.
  int block = 0;
  int group_major = 0;
  int stored_channels() const { return c_total > 0 ? c_total : c; }
  int stored_channel(int logical) const {
    return c_total > 0 ? c_offset + c_stride * logical : logical;
  }
};

// Whether `block_channels` is a layout of a tensor of `channels` stored channels.
bool valid_block(int block_channels, int channels);
// Where stored channel p of a `channels`-channel tensor sits, group-major
// over `groups` shuffle groups (the inverse of the shuffle; 0: in place).
int group_major_position(int p, int channels, int groups);

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

// DMA accesses for `box` (logical channels) of a tensor, through its view and layout.
std::vector<DramAccess> box_accesses(const TensorLayout& t, const Box& box, int shuffle_groups,
                                     bool write);

// Weights [M][Cg][kh][kw]: output channels [m0, m0 + m) and per-group input channels [c0, c0 + c).
std::vector<DramAccess> weight_accesses(uint64_t base_bit, int bits, int cin_g, int kh, int kw,
                                        int m0, int m, int c0, int c);

}  // namespace palsim::frontend
