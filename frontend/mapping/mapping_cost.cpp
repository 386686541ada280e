#include "frontend/mapping/mapping_cost.h"

#include <algorithm>

#include "frontend/arch/energy_model.h"
#include "frontend/mapping/mapping_cost_parts.h"

namespace palsim::frontend {

namespace cost {

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

}  // namespace

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

}  // namespace cost

using namespace cost;

namespace {

MappingEstimate finish_estimate(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
                                const TilingWork& w, const Tiling& t) {
  const Volumes v = volumes_of(p, m, t);
  const auto cost = make_access_cost(hw.offchip, hw.clock_mhz);
  return estimate_from(hw, p, w, v, footprint_from(hw, p, m, t, v), *cost,
                       traffic_of(hw, *cost, p, m, t, v, plain_tensors(p), true));
}

}  // namespace

TileFootprint tile_capacity(const HwConfig& hw, const MappingProblem& p) {
  TileFootprint c;
  const int64_t ibuf_total = hw.ibuf.size_bytes * 8 - p.ibuf_reserved_bits;
  c.ibuf_bits = std::max<int64_t>(0, ibuf_total) / (hw.ibuf.double_buffered ? 2 : 1);
  c.wbuf_bits = hw.wbuf.tile_capacity_bits();
  c.obuf_bits = hw.obuf.tile_capacity_bits();
  return c;
}

TileFootprint tile_footprint(const HwConfig& hw, const MappingProblem& p, const Mapping& m) {
  const cost::Tiling t = cost::make_tiling(p, m);
  return cost::footprint_from(hw, p, m, t, cost::volumes_of(p, m, t));
}

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
  const cost::Tiling t = cost::make_tiling(p, m);
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
  return finish_estimate(hw, p, m, cost::tiling_work(hw, p, m), cost::make_tiling(p, m));
}

}  // namespace palsim::frontend
