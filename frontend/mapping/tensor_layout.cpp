#include "frontend/mapping/tensor_layout.h"

#include <fmt/format.h>

#include <algorithm>

namespace palsim::frontend {

std::string layout_name(const LayoutChoice& l) {
  std::string s = l.block > 0 ? fmt::format("NCHW{}c", l.block) : "NCHW";
  if (l.group_major > 1) s += fmt::format("/g{}", l.group_major);
  return s;
}

int group_major_position(int p, int channels, int groups) {
  if (groups <= 1) return p;
  const int per = channels / groups;
  return (p % groups) * per + p / groups;
}

bool valid_block(int block_channels, int channels) {
  return block_channels == 0 ||
         (block_channels > 0 && channels > 0 && channels % block_channels == 0);
}

int physical_channel(int c, int channels, int shuffle_groups) {
  if (shuffle_groups <= 1) return c;
  const int per = channels / shuffle_groups;
  return (c % per) * shuffle_groups + c / per;
}

std::vector<ChannelSegment> channel_segments(int c0, int count, int channels, int shuffle_groups) {
  std::vector<ChannelSegment> out;
  if (shuffle_groups <= 1) {
    out.push_back({c0, count, c0, 1});
    return out;
  }
  const int per = channels / shuffle_groups;
  int c = c0;
  while (c < c0 + count) {
    const int block_end = (c / per + 1) * per;
    const int n = std::min(c0 + count, block_end) - c;
    out.push_back({c, n, physical_channel(c, channels, shuffle_groups), shuffle_groups});
    c += n;
  }
  return out;
}

namespace {

// The box's runs in a planar (NCHW) tensor: one access per segment and image.
void planar_accesses(const TensorLayout& t, const Box& b, const ChannelSegment& s, bool write,
                     std::vector<DramAccess>& out) {
  const uint64_t row_bits = static_cast<uint64_t>(t.w) * t.bits;
  const uint64_t plane_bits = row_bits * t.h;
  const uint64_t image_bits = plane_bits * static_cast<uint64_t>(t.stored_channels());
  for (int n = b.n0; n < b.n0 + b.n; ++n) {
    DramAccess a;
    a.write = write;
    a.base_bit = t.base_bit + static_cast<uint64_t>(n) * image_bits +
                 static_cast<uint64_t>(s.physical0) * plane_bits +
                 static_cast<uint64_t>(b.h0) * row_bits + static_cast<uint64_t>(b.w0) * t.bits;
    if (b.w == t.w) {
      // Whole rows: one contiguous run per channel.
      a.run_bits = static_cast<uint64_t>(b.h) * row_bits;
      a.inner_count = static_cast<uint32_t>(s.count);
      a.inner_stride_bits = plane_bits * s.stride;
      a.outer_count = 1;
    } else {
      a.run_bits = static_cast<uint64_t>(b.w) * t.bits;
      a.inner_count = static_cast<uint32_t>(b.h);
      a.inner_stride_bits = row_bits;
      a.outer_count = static_cast<uint32_t>(s.count);
      a.outer_stride_bits = plane_bits * s.stride;
    }
    if (a.total_bits() > 0) out.push_back(a);
  }
}

// The box's runs in a channel-blocked tensor. Whole blocks: a run per block
// (whole rows) or per row of each block; part of a block: a run of its
// channels at every position.
void blocked_accesses(const TensorLayout& t, const Box& b, const ChannelSegment& s, bool write,
                      std::vector<DramAccess>& out) {
  const uint64_t bs = static_cast<uint64_t>(t.block);
  const uint64_t pixel_bits = bs * t.bits;
  const uint64_t row_bits = static_cast<uint64_t>(t.w) * pixel_bits;
  const uint64_t block_bits = row_bits * t.h;
  const uint64_t image_bits = block_bits * static_cast<uint64_t>(t.stored_channels() / t.block);
  // Pieces of the segment inside one block each: (first channel, channels);
  // consecutive whole blocks are kept together.
  struct Piece {
    int p0, count;
    bool whole;
  };
  std::vector<Piece> pieces;
  if (s.stride == 1) {
    int p = s.physical0;
    const int end = s.physical0 + s.count;
    while (p < end) {
      const int block_end = (p / t.block + 1) * t.block;
      const int n = std::min(end, block_end) - p;
      const bool whole = n == t.block;
      if (whole && !pieces.empty() && pieces.back().whole) {
        pieces.back().count += n;
      } else {
        pieces.push_back({p, n, whole});
      }
      p += n;
    }
  } else {
    for (int k = 0; k < s.count; ++k)
      pieces.push_back({s.physical0 + k * s.stride, 1, t.block == 1});
  }
  for (int n = b.n0; n < b.n0 + b.n; ++n) {
    for (const Piece& pc : pieces) {
      DramAccess a;
      a.write = write;
      a.base_bit = t.base_bit + static_cast<uint64_t>(n) * image_bits +
                   static_cast<uint64_t>(pc.p0 / t.block) * block_bits +
                   static_cast<uint64_t>(b.h0) * row_bits +
                   static_cast<uint64_t>(b.w0) * pixel_bits +
                   static_cast<uint64_t>(pc.p0 % t.block) * t.bits;
      if (pc.whole) {
        const auto blocks = static_cast<uint32_t>(pc.count / t.block);
        if (b.w == t.w) {
          a.run_bits = static_cast<uint64_t>(b.h) * row_bits;
          a.inner_count = blocks;
          a.inner_stride_bits = block_bits;
        } else {
          a.run_bits = static_cast<uint64_t>(b.w) * pixel_bits;
          a.inner_count = static_cast<uint32_t>(b.h);
          a.inner_stride_bits = row_bits;
          a.outer_count = blocks;
          a.outer_stride_bits = block_bits;
        }
      } else {
        a.run_bits = static_cast<uint64_t>(pc.count) * t.bits;
        if (b.w == t.w) {
          a.inner_count = static_cast<uint32_t>(b.h * b.w);
          a.inner_stride_bits = pixel_bits;
        } else {
          a.inner_count = static_cast<uint32_t>(b.w);
          a.inner_stride_bits = pixel_bits;
          a.outer_count = static_cast<uint32_t>(b.h);
          a.outer_stride_bits = row_bits;
        }
      }
      if (a.total_bits() > 0) out.push_back(a);
    }
  }
}

}  // namespace

namespace {
// The stored positions of the box's channels when the tensor is stored
// group-major: each channel mapped (shuffle, view, storage order), the
// positions sorted (a DMA may fetch a tile's channels in any order: the
// buffer holds them by logical channel), then cut into segments of constant
// stride. A reader of the shuffled channels then fetches one run per writer
// group instead of alternating between them.
std::vector<ChannelSegment> stored_segments(const TensorLayout& t, const Box& b,
                                            int shuffle_groups) {
  std::vector<int> positions;
  positions.reserve(static_cast<size_t>(b.c));
  for (int k = 0; k < b.c; ++k) {
    positions.push_back(
        group_major_position(t.stored_channel(physical_channel(b.c0 + k, t.c, shuffle_groups)),
                             t.stored_channels(), t.group_major));
  }
  std::sort(positions.begin(), positions.end());
  std::vector<ChannelSegment> out;
  for (int q : positions) {
    if (!out.empty()) {
      ChannelSegment& s = out.back();
      const int last = s.physical0 + s.stride * (s.count - 1);
      if (s.count == 1 || q - last == s.stride) {
        s.stride = q - last;
        ++s.count;
        continue;
      }
    }
    out.push_back({-1, 1, q, 1});
  }
  return out;
}
}  // namespace

std::vector<DramAccess> box_accesses(const TensorLayout& t, const Box& b, int shuffle_groups,
                                     bool write) {
  std::vector<DramAccess> out;
  std::vector<ChannelSegment> segments;
  if (t.group_major > 1) {
    segments = stored_segments(t, b, shuffle_groups);
  } else {
    segments = channel_segments(b.c0, b.c, t.c, shuffle_groups);
    for (ChannelSegment& s : segments) {
      // Through the view: an affine map keeps a segment one constant stride.
      s.physical0 = t.stored_channel(s.physical0);
      if (t.c_total > 0) s.stride *= t.c_stride;
    }
  }
  for (const ChannelSegment& s : segments) {
    if (t.block > 0) {
      blocked_accesses(t, b, s, write, out);
    } else {
      planar_accesses(t, b, s, write, out);
    }
  }
  return out;
}

std::vector<DramAccess> weight_accesses(uint64_t base_bit, int bits, int cin_g, int kh, int kw,
                                        int m0, int m, int c0, int c) {
  DramAccess a;
  const uint64_t filter_bits = static_cast<uint64_t>(cin_g) * kh * kw * bits;
  a.base_bit = base_bit + static_cast<uint64_t>(m0) * filter_bits +
               static_cast<uint64_t>(c0) * kh * kw * bits;
  if (c == cin_g) {
    a.run_bits = filter_bits * m;
  } else {
    a.run_bits = static_cast<uint64_t>(c) * kh * kw * bits;
    a.inner_count = static_cast<uint32_t>(m);
    a.inner_stride_bits = filter_bits;
  }
  return {a};
}

}  // namespace palsim::frontend
