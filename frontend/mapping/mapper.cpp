#include "frontend/mapping/mapper.h"

#include "frontend/arch/energy_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <tuple>

#include "frontend/util/error.h"

namespace palsim::frontend {

namespace {

constexpr std::array<std::array<LoopDim, kLoopDims>, 6> kOrders = {{
    {LoopDim::kN, LoopDim::kH, LoopDim::kW, LoopDim::kM, LoopDim::kC},
    {LoopDim::kN, LoopDim::kH, LoopDim::kW, LoopDim::kC, LoopDim::kM},
    {LoopDim::kM, LoopDim::kN, LoopDim::kH, LoopDim::kW, LoopDim::kC},
    {LoopDim::kM, LoopDim::kC, LoopDim::kN, LoopDim::kH, LoopDim::kW},
    {LoopDim::kC, LoopDim::kN, LoopDim::kH, LoopDim::kW, LoopDim::kM},
    {LoopDim::kC, LoopDim::kM, LoopDim::kN, LoopDim::kH, LoopDim::kW},
}};

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

// Per-dimension facts for one tiling, computed once per candidate.
struct DimInfo {
  int64_t trips = 1;
  int64_t tile = 1;
  // Input extent along H/W: of the largest tile and summed over all tiles.
  int64_t in_tile = 1, in_sum = 1, in_full = 1;
};

struct Tiling {
  std::array<DimInfo, kLoopDims> d;
};

// Input extents along H or W for one output tile size: the largest tile's
// span and the sum over all tiles (halos counted once per tile).
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

// Cache of input_extents per (dimension, tile) for the problem being searched.
struct SpanCache {
  std::vector<std::pair<int64_t, int64_t>> h, w;  // indexed by tile size
};
thread_local const SpanCache* t_spans = nullptr;

Tiling make_tiling(const MappingProblem& p, const Mapping& m) {
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
      const auto* cached = t_spans ? (h ? &t_spans->h : &t_spans->w) : nullptr;
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

int position(const Mapping& m, LoopDim d) {
  for (int i = 0; i < kLoopDims; ++i) {
    if (m.order[static_cast<size_t>(i)] == d) return i;
  }
  return 0;
}

// Elements of operand x held per DMA execution at `level` (largest tile) and
// moved in total over the whole loop nest.
struct OperandVolume {
  int64_t tile_elems = 0;
  int64_t total_elems = 0;
  int64_t executions = 0;
  int64_t spill_factor = 1;  // output only: visits per output tile
};

// The dimensions outside a DMA level: the first `level` loops of the order.
// A volume depends on this set only, not on the order within it.
uint32_t outside_dims(const Mapping& m, int level) {
  uint32_t mask = 0;
  for (int i = 0; i < level; ++i)
    mask |= 1u << static_cast<unsigned>(m.order[static_cast<size_t>(i)]);
  return mask;
}
constexpr size_t kDimSets = size_t{1} << kLoopDims;

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

OperandVolume volume(const MappingProblem& p, const Mapping& m, const Tiling& t, Operand x,
                     int level) {
  return volume_outside(p, t, x, outside_dims(m, level));
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

// The traffic of one operand (one group's share) at the DMA level with the
// loops `outside` around it and the volume `v` there, with the tensors in
// `tensors`; `best_layout`: try the layout candidates of each activation
// tensor and keep the cheapest (the mapper's assumption, see mapper.h).
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

// The volumes of one tiling, each computed once: the loop orders of the
// search share most of their sets of outer loops. One cache serves the whole
// search (start() per tiling), so its 3 KB are not cleared for every tiling.
// With a memory that prices transfers by their shape, the traffic of each
// volume is cached beside it.
class VolumeCache {
 public:
  VolumeCache(const HwConfig& hw, const MappingProblem& p, const AccessCost& cost)
      : hw_(hw), p_(p), cost_(cost), tensors_(plain_tensors(p)) {}
  void start(const Tiling& t, const Mapping& m) {
    t_ = &t;
    m_ = &m;
    known_ = {};
    priced_ = {};
  }
  const OperandVolume& get(Operand x, uint32_t outside) {
    const size_t xi = static_cast<size_t>(x);
    if (!(known_[xi] & (uint64_t{1} << outside))) {
      v_[xi][outside] = volume_outside(p_, *t_, x, outside);
      known_[xi] |= uint64_t{1} << outside;
    }
    return v_[xi][outside];
  }
  const DramTraffic& traffic(Operand x, uint32_t outside) {
    const size_t xi = static_cast<size_t>(x);
    if (!(priced_[xi] & (uint64_t{1} << outside))) {
      d_[xi][outside] =
          operand_traffic(hw_, cost_, p_, *m_, *t_, x, outside, get(x, outside), tensors_, true);
      priced_[xi] |= uint64_t{1} << outside;
    }
    return d_[xi][outside];
  }

 private:
  const HwConfig& hw_;
  const MappingProblem& p_;
  const AccessCost& cost_;
  const ProblemTensors tensors_;
  const Tiling* t_ = nullptr;
  const Mapping* m_ = nullptr;
  std::array<std::array<OperandVolume, kDimSets>, 3> v_;
  std::array<std::array<DramTraffic, kDimSets>, 3> d_;
  std::array<uint64_t, 3> known_{}, priced_{};
};

}  // namespace

TileFootprint tile_capacity(const HwConfig& hw, const MappingProblem& p) {
  TileFootprint c;
  const int64_t ibuf_total = hw.ibuf.size_bytes * 8 - p.ibuf_reserved_bits;
  c.ibuf_bits = std::max<int64_t>(0, ibuf_total) / (hw.ibuf.double_buffered ? 2 : 1);
  c.wbuf_bits = hw.wbuf.tile_capacity_bits();
  c.obuf_bits = hw.obuf.tile_capacity_bits();
  return c;
}

namespace {
// The volumes of the three operands at the mapping's levels (weights: none for pools).
struct Volumes {
  OperandVolume in, wt, out;
};

Volumes volumes_of(const MappingProblem& p, const Mapping& m, const Tiling& t) {
  Volumes v;
  v.in = volume(p, m, t, Operand::kInput, m.level[0]);
  v.out = volume(p, m, t, Operand::kOutput, m.level[2]);
  if (!p.pool) v.wt = volume(p, m, t, Operand::kWeight, m.level[1]);
  return v;
}

// Each operand's share of the footprint: input and residual in IBUF, weights
// in WBUF, accumulators (pools: outputs) in OBUF.
int64_t input_footprint(const MappingProblem& p, const OperandVolume& in) {
  return p.onchip_input ? 0 : in.tile_elems * p.in_bits;
}
// A packed (block-diagonal) weight tile holds only its groups' own weights:
// 1/pack of the dense tile (packed tiles always cover whole groups).
int64_t weight_footprint(const MappingProblem& p, const OperandVolume& wt) {
  return p.pool ? 0 : wt.tile_elems * p.w_bits / p.pack;
}
int64_t residual_footprint(const MappingProblem& p, const OperandVolume& out) {
  return out.tile_elems * p.res_bits;  // the residual tile rides with the output
}
int64_t output_footprint(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
                         const Tiling& t, const OperandVolume& out) {
  if (p.pool) return out.tile_elems * p.out_bits;
  // Accumulators, plus one activation sum per output position.
  const int64_t positions =
      out.tile_elems / std::max<int64_t>(1, m.level[2] <= position(m, LoopDim::kM)
                                                ? p.cout_g
                                                : t.d[static_cast<size_t>(LoopDim::kM)].tile);
  return (out.tile_elems + (p.uniform ? positions : 0)) * hw.accumulator_bits;
}

TileFootprint footprint_from(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
                             const Tiling& t, const Volumes& v) {
  TileFootprint f;
  f.ibuf_bits = input_footprint(p, v.in) + residual_footprint(p, v.out);
  f.wbuf_bits = weight_footprint(p, v.wt);
  f.obuf_bits = output_footprint(hw, p, m, t, v.out);
  return f;
}

TileFootprint footprint_of(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
                           const Tiling& t) {
  return footprint_from(hw, p, m, t, volumes_of(p, m, t));
}
}  // namespace

TileFootprint tile_footprint(const HwConfig& hw, const MappingProblem& p, const Mapping& m) {
  return footprint_of(hw, p, m, make_tiling(p, m));
}

namespace {

// A tiling splits each dimension into classes of equal tiles: full tiles and
// one remainder tile. Along C the first tile starts the partial sums and the
// others accumulate.
struct TileClass {
  int64_t size = 0, count = 0;
  bool accumulate = false;
};
struct TileClasses {
  TileClass c[3];
  int n = 0;
  const TileClass* begin() const { return c; }
  const TileClass* end() const { return c + n; }
};

int64_t tile_size(const MappingProblem& p, const Mapping& m, LoopDim d) {
  return std::min<int64_t>(m.tile(d), loop_extent(p, d));
}

TileClasses dim_classes(const MappingProblem& p, const Mapping& m, LoopDim d) {
  TileClasses c;
  const int64_t E = loop_extent(p, d), T = tile_size(p, m, d);
  if (E / T > 0) c.c[c.n++] = {T, E / T, false};
  if (E % T) c.c[c.n++] = {E % T, 1, false};
  return c;
}

TileClasses c_classes(const MappingProblem& p, const Mapping& m) {
  TileClasses c;
  const int64_t C = loop_extent(p, LoopDim::kC), T = tile_size(p, m, LoopDim::kC);
  const int64_t full = C / T, rem = C % T;
  if (full > 0) {
    c.c[c.n++] = {T, 1, false};
    if (full > 1) c.c[c.n++] = {T, full - 1, true};
    if (rem) c.c[c.n++] = {rem, 1, true};
  } else {
    c.c[c.n++] = {rem, 1, false};
  }
  return c;
}

// Calls visit(pixels, count, m, i) for every class of output tiles: `count`
// tiles of `pixels` positions and `m` channels, of M class i.
template <typename Visit>
void for_each_output_class(const MappingProblem& p, const Mapping& m, Visit&& visit) {
  const TileClasses cn = dim_classes(p, m, LoopDim::kN), ch = dim_classes(p, m, LoopDim::kH),
                    cw = dim_classes(p, m, LoopDim::kW), cm = dim_classes(p, m, LoopDim::kM);
  for (const auto& a : cn) {
    for (const auto& b : ch) {
      for (const auto& c : cw) {
        const int64_t pixels = a.size * b.size * c.size;
        const int64_t ptiles = a.count * b.count * c.count;
        for (int i = 0; i < cm.n; ++i) visit(pixels, ptiles * cm.c[i].count, cm.c[i].size, i);
      }
    }
  }
}

// The order-independent work of one tiling: array and post-processing costs
// summed exactly over its tile classes.
struct TilingWork {
  ComputeCost compute;
  PostCost post;
};

TilingWork tiling_work(const HwConfig& hw, const MappingProblem& p, const Mapping& m) {
  TilingWork w;
  const TileClasses cc = c_classes(p, m);
  for_each_output_class(p, m, [&](int64_t pixels, int64_t count, int64_t channels, int) {
    PostTile pt;
    pt.elements = pixels * channels;
    pt.out_bits = p.out_bits;
    if (p.pool) {
      pt.window = static_cast<int64_t>(p.kh) * p.kw;
      pt.in_bits = p.in_bits;
      pt.from_obuf = false;
    } else {
      for (const TileClass& c : cc) {
        ComputeTile ct;
        ct.pixels = pixels;
        ct.k_elems = c.size * p.kh * p.kw;
        ct.m = channels;
        ct.accumulate = c.accumulate;
        ct.activation_sum = p.uniform;
        ComputeCost one = compute_tile_cost(hw, m.mode, ct);
        one *= count * c.count;
        w.compute += one;
      }
      pt.in_bits = hw.accumulator_bits;
      pt.residual_bits = p.res_bits;
      pt.activation_sums = p.uniform ? pixels : 0;
    }
    PostCost pc = post_tile_cost(hw, pt);
    pc *= count;
    w.post += pc;
  });
  return w;
}

// max(compute cycles, post cycles) of tiling_work, from the cycle formulas
// alone: every loop order of the tiling takes at least this long, and the
// search prunes most tilings with it before their full work is computed.
int64_t tiling_cycle_bound(const HwConfig& hw, const MappingProblem& p, const Mapping& m) {
  int64_t compute = 0, post = 0;
  const TileClasses cc = c_classes(p, m);
  const int64_t window = p.pool ? static_cast<int64_t>(p.kh) * p.kw : 1;
  // Folds per (M class, C class): they do not depend on the pixels.
  std::array<std::array<int64_t, 3>, 3> folds{};
  if (!p.pool) {
    const TileClasses cm = dim_classes(p, m, LoopDim::kM);
    for (int i = 0; i < cm.n; ++i)
      for (int j = 0; j < cc.n; ++j)
        folds[i][j] = tile_folds(m.mode, cc.c[j].size * p.kh * p.kw, cm.c[i].size);
  }
  for_each_output_class(p, m, [&](int64_t pixels, int64_t count, int64_t channels, int mi) {
    post += count * post_tile_cycles(hw, pixels * channels, window);
    if (p.pool) return;
    for (int j = 0; j < cc.n; ++j)
      compute += count * cc.c[j].count * fold_cycles(hw, folds[mi][j], pixels);
  });
  return std::max(compute, post);
}

// The estimate from the operand volumes and the footprint at the mapping's
// levels (the search computes them once per level and operand).
MappingEstimate estimate_from(const HwConfig& hw, const MappingProblem& p, const TilingWork& w,
                              const Volumes& v, const TileFootprint& f, const AccessCost& cost,
                              const std::array<DramTraffic, 3>& traffic) {
  MappingEstimate e;
  const OperandVolume& in = v.in;
  const OperandVolume& out = v.out;
  const OperandVolume& wt = v.wt;
  const int acc = hw.accumulator_bits;
  const int64_t outputs = static_cast<int64_t>(p.batch) * p.out_h * p.out_w * p.cout_g;

  const int64_t in_bits = p.onchip_input ? 0 : in.total_elems * p.in_bits;
  const int64_t wt_bits = wt.total_elems * p.w_bits / p.pack;
  const int64_t final_out_bits = p.onchip_output ? 0 : outputs * p.out_bits;
  const int64_t spill_bits = (out.spill_factor - 1) * outputs * acc * 2;
  const int64_t res_bits = outputs * p.res_bits;
  e.dram_bits = in_bits + wt_bits + final_out_bits + spill_bits + res_bits;
  const double bw = cost.sequential_bits_per_cycle();
  const auto latency = static_cast<int64_t>(cost.latency_cycles());
  if (cost.prices_by_shape()) {
    double cycles = 0, moved = 0;
    for (const DramTraffic& d : traffic) {
      cycles += d.cycles;
      moved += d.moved_bits;
    }
    e.dram_cycles = static_cast<int64_t>(cycles);
    e.dram_moved_bits = static_cast<int64_t>(moved);
  } else {
    const int64_t dma_count = (p.onchip_input ? 0 : in.executions) + (p.pool ? 0 : wt.executions) +
                              out.executions * (p.res_bits ? 2 : 1) +
                              (out.spill_factor - 1) * out.executions;
    e.dram_cycles =
        static_cast<int64_t>(static_cast<double>(e.dram_bits) / bw) + dma_count * latency;
    e.dram_moved_bits = e.dram_bits;
  }
  e.compute_cycles = w.compute.cycles;
  const int64_t prologue =
      static_cast<int64_t>(static_cast<double>(f.ibuf_bits + f.wbuf_bits) / bw) + latency;
  const int64_t epilogue = static_cast<int64_t>(static_cast<double>(f.obuf_bits) / bw) + latency;
  e.cycles = std::max({w.compute.cycles, e.dram_cycles, w.post.cycles}) + w.compute.latency +
             prologue + epilogue;

  // Energy: the action counts of one group priced by the same formula the
  // statistics use (energy_of), so that candidates are ranked by the energy
  // they will be reported with, under any SRAM accounting.
  ActionCounts c;
  c.dram_read_bits = static_cast<uint64_t>(in_bits + wt_bits + res_bits + spill_bits / 2);
  c.dram_write_bits = static_cast<uint64_t>(final_out_bits + spill_bits / 2);
  c.dram_moved_bits = static_cast<uint64_t>(e.dram_moved_bits);
  c.ibuf_write_bits = static_cast<uint64_t>(in_bits + res_bits);
  c.ibuf_read_bits = static_cast<uint64_t>(w.compute.ibuf_read_bits + w.post.ibuf_read_bits);
  c.wbuf_write_bits = static_cast<uint64_t>(wt_bits);
  c.wbuf_read_bits = static_cast<uint64_t>(w.compute.wbuf_read_bits);
  c.obuf_write_bits =
      static_cast<uint64_t>(w.compute.obuf_write_bits + w.post.obuf_write_bits + spill_bits / 2);
  c.obuf_read_bits = static_cast<uint64_t>(w.compute.obuf_read_bits + w.post.obuf_read_bits +
                                           final_out_bits + spill_bits / 2);
  c.unit_busy_cycles = static_cast<uint64_t>(w.compute.unit_busy_cycles);
  c.asu_busy_cycles = static_cast<uint64_t>(w.compute.asu_busy_cycles);
  c.ppu_elements = static_cast<uint64_t>(w.post.elements);
  c.chunk_products = static_cast<uint64_t>(w.compute.macs);
  c.chunk_product_input_bits = static_cast<uint64_t>(w.compute.mac_input_bits);
  e.energy_pj = energy_of(hw, c, static_cast<uint64_t>(e.cycles)).total();
  // The figures above are for one group (tile); the estimate covers the op.
  const int64_t g = p.groups;
  e.cycles *= g;
  e.compute_cycles *= g;
  e.dram_cycles *= g;
  e.dram_bits *= g;
  e.dram_moved_bits *= g;
  e.energy_pj *= static_cast<double>(g);
  return e;
}

// Each operand's traffic at the mapping's levels (one group's share).
std::array<DramTraffic, 3> traffic_of(const HwConfig& hw, const AccessCost& cost,
                                      const MappingProblem& p, const Mapping& m, const Tiling& t,
                                      const Volumes& v, const ProblemTensors& tensors,
                                      bool best_layout) {
  std::array<DramTraffic, 3> d;
  if (!cost.prices_by_shape()) return d;
  const OperandVolume* vols[3] = {&v.in, &v.wt, &v.out};
  for (int x = 0; x < 3; ++x) {
    const Operand op = static_cast<Operand>(x);
    d[static_cast<size_t>(x)] =
        operand_traffic(hw, cost, p, m, t, op, outside_dims(m, m.level[static_cast<size_t>(x)]),
                        *vols[x], tensors, best_layout);
  }
  return d;
}

MappingEstimate finish_estimate(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
                                const TilingWork& w, const Tiling& t) {
  const Volumes v = volumes_of(p, m, t);
  const auto cost = make_access_cost(hw.offchip, hw.clock_mhz);
  return estimate_from(hw, p, w, v, footprint_from(hw, p, m, t, v), *cost,
                       traffic_of(hw, *cost, p, m, t, v, plain_tensors(p), true));
}

}  // namespace

ProblemTensors plain_tensors(const MappingProblem& p) {
  ProblemTensors t;
  const int cin = p.pool ? p.cout_g : p.cin_g;
  t.input = TensorLayout{0, p.in_bits, cin * p.groups, p.in_h, p.in_w};
  t.output = TensorLayout{0, p.out_bits, p.cout_g * p.groups, p.out_h, p.out_w};
  t.residual = TensorLayout{0, std::max(1, p.res_bits), p.cout_g * p.groups, p.out_h, p.out_w};
  return t;
}

std::vector<int> layout_candidates(int channels, int tile_channels, int group_channels) {
  std::vector<int> out = {0};
  for (int b : {tile_channels, group_channels, channels}) {
    if (b > 0 && valid_block(b, channels) && std::find(out.begin(), out.end(), b) == out.end())
      out.push_back(b);
  }
  return out;
}

int psum_block(const MappingProblem& p, const Mapping& m) {
  const int channels = p.cout_g * p.groups;
  const int b = std::min(m.m_t, p.cout_g);
  return valid_block(b, channels) ? b : 0;
}

DramTraffic MappingTraffic::total() const {
  DramTraffic t = input;
  t += weight;
  t += output;
  return t;
}

MappingTraffic mapping_traffic(const HwConfig& hw, const AccessCost& cost, const MappingProblem& p,
                               const Mapping& m, const ProblemTensors& tensors) {
  const Tiling t = make_tiling(p, m);
  const Volumes v = volumes_of(p, m, t);
  MappingTraffic r;
  const OperandVolume* vols[3] = {&v.in, &v.wt, &v.out};
  DramTraffic* outs[3] = {&r.input, &r.weight, &r.output};
  for (int x = 0; x < 3; ++x) {
    *outs[x] =
        operand_traffic(hw, cost, p, m, t, static_cast<Operand>(x),
                        outside_dims(m, m.level[static_cast<size_t>(x)]), *vols[x], tensors, false);
    const double g = p.groups;
    outs[x]->requested_bits *= g;
    outs[x]->moved_bits *= g;
    outs[x]->cycles *= g;
  }
  return r;
}

MappingEstimate estimate_mapping(const HwConfig& hw, const MappingProblem& p, const Mapping& m) {
  return finish_estimate(hw, p, m, tiling_work(hw, p, m), make_tiling(p, m));
}

Mapping find_mapping(const HwConfig& hw, const MappingProblem& p, const std::string& op_name) {
  return find_mappings(hw, p, op_name, 1).front();
}

namespace {
// Energy-lean candidates are kept only within this factor of the fastest
// estimate: slower ones cannot meet a cycle tolerance of a few percent.
constexpr double kLeanSlack = 1.25;
}  // namespace

namespace {
std::vector<Mapping> search_mappings(const HwConfig& hw, const MappingProblem& p,
                                     const std::string& op_name, size_t count);
}  // namespace

std::vector<Mapping> find_mappings(const HwConfig& hw, const MappingProblem& p,
                                   const std::string& op_name, size_t count) {
  std::vector<Mapping> all = search_mappings(hw, p, op_name, count);
  // Group packing: small groups (depthwise convolutions above all) run
  // several at a time as one block-diagonal problem. Not for layers with the
  // activation-sum correction (one sum per group) or a rotated input.
  if (p.groups > 1 && p.pack == 1 && !p.pool && !p.uniform && p.in_rotate == 0 && !p.onchip_input &&
      !p.onchip_output) {
    int64_t lanes = 1;
    for (const ArrayMode& m : array_modes(hw, p.a_bits, p.w_bits))
      lanes = std::max<int64_t>(lanes, m.k_lanes());
    for (int pack = 2; pack <= p.groups; ++pack) {
      if (p.groups % pack != 0) continue;
      // Beyond what the array's lanes can hold, packing only adds folds.
      if (static_cast<int64_t>(pack / 2) * p.cin_g * p.kh * p.kw > lanes) break;
      MappingProblem q = p;
      q.pack = pack;
      q.groups = p.groups / pack;
      q.cin_g = p.cin_g * pack;
      q.cout_g = p.cout_g * pack;
      std::vector<Mapping> c;
      try {
        c = search_mappings(hw, q, op_name, count);
      } catch (const InputError&) {
        continue;  // no tiling of this pack fits
      }
      for (auto& m : c) m.pack = pack;
      all.insert(all.end(), c.begin(), c.end());
    }
    // Best first, by (cycles, energy); keep the fastest `count` and the
    // leanest `count` as search_mappings does.
    std::stable_sort(all.begin(), all.end(), [](const Mapping& a, const Mapping& b) {
      if (a.estimate.cycles != b.estimate.cycles) return a.estimate.cycles < b.estimate.cycles;
      return a.estimate.energy_pj < b.estimate.energy_pj;
    });
    if (all.size() > 2 * count) all.resize(2 * count);
  }
  return all;
}

namespace {

std::vector<Mapping> search_mappings(const HwConfig& hw, const MappingProblem& p,
                                     const std::string& op_name, size_t count) {
  count = std::max<size_t>(1, count);
  const TileFootprint cap = tile_capacity(hw, p);
  std::vector<ArrayMode> modes;
  if (p.pool) {
    modes.push_back(ArrayMode{});
  } else {
    modes = array_modes(hw, p.a_bits, p.w_bits);
    if (modes.empty()) {
      throw InputError(
          fmt::format("operation '{}': no array mode of '{}' handles {}-bit x {}-bit operands",
                      op_name, hw.name, p.a_bits, p.w_bits));
    }
  }
  const auto cn = tile_candidates(p.batch), ch = tile_candidates(p.out_h),
             cw = tile_candidates(p.out_w);
  // A packed group tile covers whole groups: no tiling of M or C inside it.
  const auto cm = p.pack > 1 ? std::vector<int>{p.cout_g} : tile_candidates(p.cout_g);
  const auto cc = p.pool       ? std::vector<int>{1}
                  : p.pack > 1 ? std::vector<int>{p.cin_g}
                               : tile_candidates(p.cin_g);

  SpanCache spans;
  spans.h.assign(static_cast<size_t>(p.out_h) + 1, {0, 0});
  spans.w.assign(static_cast<size_t>(p.out_w) + 1, {0, 0});
  for (int h : ch)
    input_extents(p, LoopDim::kH, h, spans.h[static_cast<size_t>(h)].first,
                  spans.h[static_cast<size_t>(h)].second);
  for (int w : cw)
    input_extents(p, LoopDim::kW, w, spans.w[static_cast<size_t>(w)].first,
                  spans.w[static_cast<size_t>(w)].second);
  struct SpanScope {
    explicit SpanScope(const SpanCache* c) { t_spans = c; }
    ~SpanScope() { t_spans = nullptr; }
  } scope(&spans);
  // The `count` best so far, best first; `best` is the worst of them once full.
  std::vector<Mapping> top;
  // The `count` most energy-lean (no pruning by cycles applies to them).
  std::vector<Mapping> lean;
  auto leaner = [](const MappingEstimate& a, const MappingEstimate& b) {
    if (a.energy_pj != b.energy_pj) return a.energy_pj < b.energy_pj;
    return a.cycles < b.cycles;
  };
  Mapping best;
  bool found = false;
  int64_t evaluated = 0, rejected = 0;
  auto better = [](const MappingEstimate& a, const MappingEstimate& b) {
    if (a.cycles != b.cycles) return a.cycles < b.cycles;
    if (a.energy_pj != b.energy_pj) return a.energy_pj < b.energy_pj - 1e-9 * std::abs(b.energy_pj);
    return a.dram_bits < b.dram_bits;
  };
  const auto cost = make_access_cost(hw.offchip, hw.clock_mhz);
  const bool shaped = cost->prices_by_shape();
  VolumeCache volumes(hw, p, *cost);
  for (const ArrayMode& mode : modes) {
    for (int n : cn) {
      for (int h : ch) {
        for (int w : cw) {
          for (int mt : cm) {
            for (int c : cc) {
              Mapping base;
              base.mode = mode;
              base.n_t = n;
              base.h_t = h;
              base.w_t = w;
              base.m_t = mt;
              base.c_t = c;
              // Every order of this tiling takes at least its compute time.
              // With several candidates, energy-lean ones within kLeanSlack of
              // the fastest estimate stay in play (the final choice is made by
              // simulation, which may differ from the estimate).
              // (Per group, like the work; estimates cover all the op's groups.)
              const int64_t bound = tiling_cycle_bound(hw, p, base) * p.groups;
              if (count == 1 && found && bound > best.estimate.cycles) continue;
              if (count > 1 && !top.empty() &&
                  static_cast<double>(bound) >
                      kLeanSlack * static_cast<double>(top.front().estimate.cycles)) {
                continue;
              }
              const TilingWork work = tiling_work(hw, p, base);
              const Tiling t = make_tiling(p, base);
              volumes.start(t, base);
              for (const auto& order : kOrders) {
                // Every DMA level of every operand: each operand's levels that
                // fit its buffer, then every combination of them that fits.
                Mapping m = base;
                m.order = order;
                struct Option {
                  int level = 0;
                  OperandVolume v;
                  int64_t bits = 0;      // input: IBUF bits; weights: WBUF; output: OBUF
                  int64_t res_bits = 0;  // output: the residual tile's IBUF bits
                  DramTraffic d;         // priced on a memory that prices by shape
                };
                std::array<std::array<Option, kLoopDims + 1>, 3> opts;
                std::array<int, 3> n_opts = {0, 0, 0};
                for (int x = 0; x < 3; ++x) {
                  const Operand op = static_cast<Operand>(x);
                  if (op == Operand::kWeight && p.pool) {
                    opts[1][0].level = m.level[1];
                    n_opts[1] = 1;
                    continue;
                  }
                  // Innermost first: ties keep the smallest tile.
                  for (int level = kLoopDims; level >= 0; --level) {
                    m.level[static_cast<size_t>(x)] = level;
                    Option o;
                    o.level = level;
                    o.v = volumes.get(op, outside_dims(m, level));
                    if (op == Operand::kInput) {
                      o.bits = input_footprint(p, o.v);
                      if (o.bits > cap.ibuf_bits) continue;
                    } else if (op == Operand::kWeight) {
                      o.bits = weight_footprint(p, o.v);
                      if (o.bits > cap.wbuf_bits) continue;
                    } else {
                      if (p.onchip_output && o.v.spill_factor > 1) continue;
                      o.bits = output_footprint(hw, p, m, t, o.v);
                      o.res_bits = residual_footprint(p, o.v);
                      if (o.bits > cap.obuf_bits || o.res_bits > cap.ibuf_bits) continue;
                    }
                    if (shaped) o.d = volumes.traffic(op, outside_dims(m, level));
                    opts[static_cast<size_t>(x)]
                        [static_cast<size_t>(n_opts[static_cast<size_t>(x)]++)] = o;
                  }
                  // Keep the Pareto-optimal levels: one with no less traffic
                  // and no smaller tiles than another can never win (the
                  // estimate grows with both), so dropping it is exact.
                  auto& ox = opts[static_cast<size_t>(x)];
                  int& nx = n_opts[static_cast<size_t>(x)];
                  // Every quantity the estimate takes from an operand's level.
                  auto components = [&](const Option& q) {
                    const int64_t moved =
                        op == Operand::kOutput ? q.v.spill_factor : q.v.total_elems;
                    return std::array<int64_t, 5>{moved, q.v.executions, q.bits, q.res_bits,
                                                  static_cast<int64_t>(q.d.cycles)};
                  };
                  int kept = 0;
                  for (int i = 0; i < nx; ++i) {
                    bool dominated = false;
                    for (int k = 0; k < nx && !dominated; ++k) {
                      if (k == i) continue;
                      const auto a = components(ox[static_cast<size_t>(k)]),
                                 b = components(ox[static_cast<size_t>(i)]);
                      bool no_worse = true, better = false;
                      for (size_t q = 0; q < a.size(); ++q) {
                        no_worse = no_worse && a[q] <= b[q];
                        better = better || a[q] < b[q];
                      }
                      // Ties: keep the first (innermost) of equal options.
                      dominated = no_worse && (better || k < i);
                    }
                    if (!dominated) ox[static_cast<size_t>(kept++)] = ox[static_cast<size_t>(i)];
                  }
                  nx = kept;
                }
                const int64_t combos =
                    (p.pool ? 1 : kLoopDims + 1) * (kLoopDims + 1) * (kLoopDims + 1);
                int64_t fitting = 0;
                for (int a = 0; a < n_opts[0]; ++a) {
                  const Option& oi = opts[0][static_cast<size_t>(a)];
                  for (int b = 0; b < n_opts[1]; ++b) {
                    const Option& ow = opts[1][static_cast<size_t>(b)];
                    for (int c = 0; c < n_opts[2]; ++c) {
                      const Option& oo = opts[2][static_cast<size_t>(c)];
                      if (oi.bits + oo.res_bits > cap.ibuf_bits) continue;
                      ++fitting;
                      const TileFootprint f{oi.bits + oo.res_bits, ow.bits, oo.bits};
                      const std::array<DramTraffic, 3> traffic =
                          shaped ? std::array<DramTraffic, 3>{oi.d, ow.d, oo.d}
                                 : std::array<DramTraffic, 3>{};
                      const MappingEstimate e =
                          estimate_from(hw, p, work, Volumes{oi.v, ow.v, oo.v}, f, *cost, traffic);
                      const bool fast_enough =
                          top.empty() ||
                          static_cast<double>(e.cycles) <=
                              kLeanSlack * static_cast<double>(top.front().estimate.cycles);
                      if (count > 1 && fast_enough &&
                          (lean.size() < count || leaner(e, lean.back().estimate))) {
                        Mapping l = m;
                        l.level = {oi.level, ow.level, oo.level};
                        l.estimate = e;
                        auto pos = std::find_if(lean.begin(), lean.end(), [&](const Mapping& x) {
                          return leaner(e, x.estimate);
                        });
                        lean.insert(pos, l);
                        if (lean.size() > count) lean.pop_back();
                      }
                      if (!found || better(e, best.estimate)) {
                        m.level = {oi.level, ow.level, oo.level};
                        m.estimate = e;
                        auto pos = std::find_if(top.begin(), top.end(), [&](const Mapping& x) {
                          return better(e, x.estimate);
                        });
                        top.insert(pos, m);
                        if (top.size() > count) top.pop_back();
                        // Prune against the worst kept once the list is full.
                        found = top.size() == count;
                        if (found) best = top.back();
                      }
                    }
                  }
                }
                evaluated += fitting;
                rejected += combos - fitting;
              }
            }
          }
        }
      }
    }
  }
  if (top.empty()) {
    throw InputError(fmt::format(
        "operation '{}': no tiling fits the buffers of '{}' (IBUF {} B, WBUF {} B, OBUF {} B{}); "
        "the smallest tile "
        "needs one output position, one channel and a {}x{} kernel",
        op_name, hw.name, hw.ibuf.size_bytes, hw.wbuf.size_bytes, hw.obuf.size_bytes,
        p.ibuf_reserved_bits ? fmt::format(", {} B of IBUF held on chip", p.ibuf_reserved_bits / 8)
                             : "",
        p.kh, p.kw));
  }
  for (const Mapping& l : lean) {
    if (static_cast<double>(l.estimate.cycles) >
        kLeanSlack * static_cast<double>(top.front().estimate.cycles)) {
      continue;
    }
    const bool listed = std::any_of(top.begin(), top.end(), [&](const Mapping& t) {
      return t.mode.fa == l.mode.fa && t.mode.fw == l.mode.fw &&
             t.mode.lanes_per_unit == l.mode.lanes_per_unit && t.n_t == l.n_t && t.h_t == l.h_t &&
             t.w_t == l.w_t && t.m_t == l.m_t && t.c_t == l.c_t && t.order == l.order &&
             t.level == l.level;
    });
    if (!listed) top.push_back(l);
  }
  for (auto& m : top) {
    m.candidates_evaluated = evaluated;
    m.candidates_rejected_capacity = rejected;
  }
  return top;
}

}  // namespace

}  // namespace palsim::frontend
