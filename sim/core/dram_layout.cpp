#include "sim/core/dram_layout.h"

namespace palsim::sim {

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

std::vector<DramAccess> box_accesses(const TensorLayout& t, const Box& b, int shuffle_groups,
                                     bool write) {
  std::vector<DramAccess> out;
  const uint64_t row_bits = static_cast<uint64_t>(t.w) * t.bits;
  const uint64_t plane_bits = row_bits * t.h;
  const uint64_t image_bits = plane_bits * static_cast<uint64_t>(t.stored_channels());
  for (ChannelSegment s : channel_segments(b.c0, b.c, t.c, shuffle_groups)) {
    // Through the view: an affine map keeps a segment one constant stride.
    s.physical0 = t.stored_channel(s.physical0);
    if (t.c_total > 0) s.stride *= t.c_stride;
    for (int n = b.n0; n < b.n0 + b.n; ++n) {
      DramAccess a;
      a.write = write;
      const uint64_t first = t.base_bit + static_cast<uint64_t>(n) * image_bits +
                             static_cast<uint64_t>(s.physical0) * plane_bits +
                             static_cast<uint64_t>(b.h0) * row_bits +
                             static_cast<uint64_t>(b.w0) * t.bits;
      a.base_bit = first;
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

}  // namespace palsim::sim
