#include "frontend/mapping/mapper.h"

#include "frontend/arch/energy_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

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

// The volumes of one tiling, each computed once: the loop orders of the
// search share most of their sets of outer loops. One cache serves the whole
// search (start() per tiling), so its 3 KB are not cleared for every tiling.
class VolumeCache {
 public:
  explicit VolumeCache(const MappingProblem& p) : p_(p) {}
  void start(const Tiling& t) {
    t_ = &t;
    known_ = {};
  }
  const OperandVolume& get(Operand x, uint32_t outside) {
    const size_t xi = static_cast<size_t>(x);
    if (!(known_[xi] & (uint64_t{1} << outside))) {
      v_[xi][outside] = volume_outside(p_, *t_, x, outside);
      known_[xi] |= uint64_t{1} << outside;
    }
    return v_[xi][outside];
  }

 private:
  const MappingProblem& p_;
  const Tiling* t_ = nullptr;
  std::array<std::array<OperandVolume, kDimSets>, 3> v_;
  std::array<uint64_t, 3> known_{};
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
                              const Volumes& v, const TileFootprint& f) {
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
  const int64_t dma_count = (p.onchip_input ? 0 : in.executions) + (p.pool ? 0 : wt.executions) +
                            out.executions * (p.res_bits ? 2 : 1) +
                            (out.spill_factor - 1) * out.executions;
  const double bw = hw.offchip.bits_per_cycle;
  e.dram_cycles = static_cast<int64_t>(static_cast<double>(e.dram_bits) / bw) +
                  dma_count * hw.offchip.latency_cycles;
  e.compute_cycles = w.compute.cycles;
  const int64_t prologue =
      static_cast<int64_t>(static_cast<double>(f.ibuf_bits + f.wbuf_bits) / bw) +
      hw.offchip.latency_cycles;
  const int64_t epilogue =
      static_cast<int64_t>(static_cast<double>(f.obuf_bits) / bw) + hw.offchip.latency_cycles;
  e.cycles = std::max({w.compute.cycles, e.dram_cycles, w.post.cycles}) + w.compute.latency +
             prologue + epilogue;

  // Energy: the action counts of one group priced by the same formula the
  // statistics use (energy_of), so that candidates are ranked by the energy
  // they will be reported with, under any SRAM accounting.
  ActionCounts c;
  c.dram_read_bits = static_cast<uint64_t>(in_bits + wt_bits + res_bits + spill_bits / 2);
  c.dram_write_bits = static_cast<uint64_t>(final_out_bits + spill_bits / 2);
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
  e.energy_pj *= static_cast<double>(g);
  return e;
}

MappingEstimate finish_estimate(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
                                const TilingWork& w, const Tiling& t) {
  const Volumes v = volumes_of(p, m, t);
  return estimate_from(hw, p, w, v, footprint_from(hw, p, m, t, v));
}

}  // namespace

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
  VolumeCache volumes(p);
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
              volumes.start(t);
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
                    return std::array<int64_t, 4>{moved, q.v.executions, q.bits, q.res_bits};
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
                      const MappingEstimate e =
                          estimate_from(hw, p, work, Volumes{oi.v, ow.v, oo.v}, f);
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
