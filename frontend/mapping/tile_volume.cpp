#include <algorithm>
#include <tuple>

#include "frontend/mapping/mapping_cost_parts.h"

namespace palsim::frontend::cost {

namespace {

bool relevant(const MappingProblem& p, Operand x, LoopDim d) {
  switch (x) {
    case Operand::kInput:
      if (d == LoopDim::kM) return p.pool;  // pools: input channels are output channels
      return true;                          // N, H, W, C (C is trivial for pools)
    case Operand::kWeight:
      return !p.pool && (d == LoopDim::kM || d == LoopDim::kC);
    case Operand::kOutput:
      return d != LoopDim::kC;
  }
  return false;
}

// The box of operand x's tile at a DMA level with the loops `outside`
// around it: along each loop outside, the second tile when there are several
// (the first starts at the tensor's origin, more aligned than most), the
// whole extent along the loops inside. Weights: c = output channels, h = the
// reduction's input channels (as in the DMA jobs).
Box operand_box(const MappingProblem& p, const Tiling& t, Operand x, uint32_t outside) {
  auto range = [&](LoopDim d) -> std::pair<int, int> {
    const int e = loop_extent(p, d);
    if ((outside & (1u << static_cast<unsigned>(d))) == 0) return {0, e};
    const DimInfo& di = t.d[static_cast<size_t>(d)];
    const int start = di.trips > 1 ? static_cast<int>(di.tile) : 0;
    return {start, std::min(static_cast<int>(di.tile), e - start)};
  };
  Box b;
  std::tie(b.n0, b.n) = range(LoopDim::kN);
  if (x == Operand::kWeight) {
    std::tie(b.c0, b.c) = range(LoopDim::kM);
    std::tie(b.h0, b.h) = range(LoopDim::kC);
    b.n0 = 0;
    b.n = 1;
    return b;
  }
  auto [h0, h] = range(LoopDim::kH);
  auto [w0, w] = range(LoopDim::kW);
  if (x == Operand::kOutput) {
    std::tie(b.c0, b.c) = range(LoopDim::kM);
    b.h0 = h0, b.h = h, b.w0 = w0, b.w = w;
    return b;
  }
  std::tie(b.c0, b.c) = range(p.pool ? LoopDim::kM : LoopDim::kC);
  b.h0 = static_cast<int>(std::max<int64_t>(0, int64_t{h0} * p.sh - p.ph));
  b.h = static_cast<int>(input_span(h0, h, p.sh, p.kh, p.ph, p.in_h));
  b.w0 = static_cast<int>(std::max<int64_t>(0, int64_t{w0} * p.sw - p.pw));
  b.w = static_cast<int>(input_span(w0, w, p.sw, p.kw, p.pw, p.in_w));
  return b;
}

}  // namespace

void input_extents(const MappingProblem& p, LoopDim dim, int64_t tile, int64_t& in_tile,
                   int64_t& in_sum) {
  const bool h = dim == LoopDim::kH;
  // A dilated kernel reads inputs over its whole extent.
  const int s = h ? p.sh : p.sw, pad = h ? p.ph : p.pw, in = h ? p.in_h : p.in_w;
  const int k = h ? (p.kh - 1) * p.dh + 1 : (p.kw - 1) * p.dw + 1;
  const int64_t e = loop_extent(p, dim);
  in_tile = 0;
  in_sum = 0;
  for (int64_t o = 0; o < e; o += tile) {
    const int64_t span = input_span(o, std::min<int64_t>(tile, e - o), s, k, pad, in);
    in_tile = std::max(in_tile, span);
    in_sum += span;
  }
}

Tiling make_tiling(const MappingProblem& p, const Mapping& m, const SpanCache* spans) {
  Tiling t;
  for (int i = 0; i < kLoopDims; ++i) {
    const LoopDim dim = static_cast<LoopDim>(i);
    DimInfo& di = t.d[static_cast<size_t>(i)];
    const int e = loop_extent(p, dim);
    di.tile = std::min(m.tile(dim), e);
    di.trips = ceil_div64(e, di.tile);
    di.in_tile = di.tile;
    di.in_sum = e;
    di.in_full = e;
    if (dim == LoopDim::kH || dim == LoopDim::kW) {
      const bool h = dim == LoopDim::kH;
      const auto* cached = spans ? (h ? &spans->h : &spans->w) : nullptr;
      if (cached && static_cast<size_t>(di.tile) < cached->size() &&
          (*cached)[static_cast<size_t>(di.tile)].first) {
        di.in_tile = (*cached)[static_cast<size_t>(di.tile)].first;
        di.in_sum = (*cached)[static_cast<size_t>(di.tile)].second;
      } else {
        input_extents(p, dim, di.tile, di.in_tile, di.in_sum);
      }
      di.in_full =
          input_span(0, e, h ? p.sh : p.sw, h ? (p.kh - 1) * p.dh + 1 : (p.kw - 1) * p.dw + 1,
                     h ? p.ph : p.pw, h ? p.in_h : p.in_w);
    }
  }
  return t;
}

SpanCache::SpanCache(const MappingProblem& p, const std::vector<int>& h_tiles,
                     const std::vector<int>& w_tiles) {
  h.assign(static_cast<size_t>(p.out_h) + 1, {0, 0});
  w.assign(static_cast<size_t>(p.out_w) + 1, {0, 0});
  for (int t : h_tiles) {
    auto& e = h[static_cast<size_t>(t)];
    input_extents(p, LoopDim::kH, t, e.first, e.second);
  }
  for (int t : w_tiles) {
    auto& e = w[static_cast<size_t>(t)];
    input_extents(p, LoopDim::kW, t, e.first, e.second);
  }
}

OperandVolume volume_outside(const MappingProblem& p, const Tiling& t, Operand x,
                             uint32_t outside) {
  OperandVolume v;
  v.tile_elems = 1;
  v.total_elems = 1;
  v.executions = 1;
  for (int i = 0; i < kLoopDims; ++i) {
    const LoopDim dim = static_cast<LoopDim>(i);
    const DimInfo& di = t.d[static_cast<size_t>(i)];
    const bool inside = (outside & (1u << static_cast<unsigned>(i))) == 0;
    if (!inside) v.executions *= di.trips;
    if (!relevant(p, x, dim)) {
      if (!inside) {
        v.total_elems *= di.trips;
        if (x == Operand::kOutput) v.spill_factor *= di.trips;
      }
      continue;
    }
    const bool spatial_in = x == Operand::kInput && (dim == LoopDim::kH || dim == LoopDim::kW);
    int64_t tile_e, total_e;
    if (spatial_in) {
      tile_e = inside ? di.in_full : di.in_tile;
      total_e = inside ? di.in_full * 1 : di.in_sum;
    } else {
      const int64_t e = loop_extent(p, dim);
      tile_e = inside ? e : di.tile;
      total_e = e;
    }
    v.tile_elems *= tile_e;
    v.total_elems *= total_e;
  }
  if (x == Operand::kWeight) {
    v.tile_elems *= p.kh * p.kw;
    v.total_elems *= p.kh * p.kw;
  }
  return v;
}

namespace {
OperandVolume volume(const MappingProblem& p, const Mapping& m, const Tiling& t, Operand x,
                     int level) {
  return volume_outside(p, t, x, outside_dims(m, level));
}

}  // namespace

DramTraffic operand_traffic(const HwConfig& hw, const AccessCost& cost, const MappingProblem& p,
                            const Mapping& m, const Tiling& t, Operand x, uint32_t outside,
                            const OperandVolume& v, const ProblemTensors& tensors,
                            bool best_layout) {
  const Box box = operand_box(p, t, x, outside);
  // Prices a stream in `layout`, or in the cheapest of its candidates.
  auto priced = [&](TensorLayout layout, int shuffle, bool write, int tile_channels,
                    int group_channels, double bits, int64_t transfers) {
    if (bits <= 0) return DramTraffic{};
    if (!best_layout)
      return stream_traffic(cost, box_accesses(layout, box, shuffle, write), bits, transfers);
    DramTraffic best;
    bool first = true;
    for (int block : layout_candidates(layout.stored_channels(), tile_channels, group_channels)) {
      layout.block = block;
      const DramTraffic d =
          stream_traffic(cost, box_accesses(layout, box, shuffle, write), bits, transfers);
      if (first || d.cycles < best.cycles) best = d;
      first = false;
    }
    return best;
  };
  const int64_t outputs = static_cast<int64_t>(p.batch) * p.out_h * p.out_w * p.cout_g;
  switch (x) {
    case Operand::kInput:
      if (p.onchip_input) return {};
      return priced(tensors.input, 0, false, box.c, p.pool ? p.cout_g : p.cin_g,
                    static_cast<double>(v.total_elems) * p.in_bits, v.executions);
    case Operand::kWeight: {
      if (p.pool) return {};
      // A packed tile holds whole groups: one contiguous run of their weights.
      const int cin = p.pack > 1 ? p.cin_g / p.pack : p.cin_g;
      const int c0 = p.pack > 1 ? 0 : box.h0, c = p.pack > 1 ? cin : box.h;
      return stream_traffic(cost,
                            weight_accesses(0, p.w_bits, cin, p.kh, p.kw, box.c0, box.c, c0, c),
                            static_cast<double>(v.total_elems) * p.w_bits / p.pack, v.executions);
    }
    case Operand::kOutput: {
      const int64_t visits = std::max<int64_t>(1, v.spill_factor);
      const int64_t finals = v.executions / visits;
      DramTraffic d;
      if (!p.onchip_output) {
        d += priced(tensors.output, tensors.out_shuffle, true, box.c, p.cout_g,
                    static_cast<double>(outputs) * p.out_bits, finals);
      }
      if (visits > 1) {
        TensorLayout psum{0, hw.accumulator_bits, p.cout_g * p.groups, p.out_h, p.out_w};
        psum.block = psum_block(p, m);
        d += stream_traffic(cost, box_accesses(psum, box, 0, true),
                            static_cast<double>((visits - 1) * outputs) * hw.accumulator_bits * 2,
                            2 * (visits - 1) * finals);
      }
      if (p.res_bits > 0) {
        d += priced(tensors.residual, tensors.out_shuffle, false, box.c, p.cout_g,
                    static_cast<double>(outputs) * p.res_bits, finals);
      }
      return d;
    }
  }
  return {};
}

Volumes volumes_of(const MappingProblem& p, const Mapping& m, const Tiling& t) {
  Volumes v;
  v.in = volume(p, m, t, Operand::kInput, m.level[0]);
  v.out = volume(p, m, t, Operand::kOutput, m.level[2]);
  if (!p.pool) v.wt = volume(p, m, t, Operand::kWeight, m.level[1]);
  return v;
}

TileFootprint footprint_from(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
                             const Tiling& t, const Volumes& v) {
  TileFootprint f;
  f.ibuf_bits = input_footprint(p, v.in) + residual_footprint(p, v.out);
  f.wbuf_bits = weight_footprint(p, v.wt);
  f.obuf_bits = output_footprint(hw, p, m, t, v.out);
  return f;
}

}  // namespace palsim::frontend::cost
