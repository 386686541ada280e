#include "frontend/mapping/array_model.h"

#include <fmt/format.h>

#include <algorithm>

namespace palsim::frontend {

namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
}  // namespace

std::string ArrayMode::describe() const {
  std::string s = fmt::format("{}x{}-bit units, {} pass{}, {} reduction lanes x {} outputs", fa, fw,
                              passes(), passes() == 1 ? "" : "es", k_lanes(), m_lanes());
  return s;
}

std::vector<ArrayMode> array_modes(const HwConfig& hw, int a_bits, int w_bits) {
  std::vector<ArrayMode> modes;
  for (int fa : hw.array.fusion_bits) {
    for (int fw : hw.array.fusion_bits) {
      // A chunk wider than the operand only wastes BitBricks.
      if (fa > 2 && fa / 2 >= a_bits) continue;
      if (fw > 2 && fw / 2 >= w_bits) continue;
      ArrayMode m;
      m.fa = fa;
      m.fw = fw;
      m.a_chunks = static_cast<int>(ceil_div(a_bits, fa));
      m.w_chunks = static_cast<int>(ceil_div(w_bits, fw));
      m.unit_rows = hw.array.rows;
      m.unit_cols = hw.array.cols;
      const int slice_pairs = (fa / 2) * (fw / 2);
      if (hw.kind == AcceleratorKind::kBitFusion) {
        if (hw.array.bitbricks_per_unit % slice_pairs != 0) continue;
        m.lanes_per_unit = hw.array.bitbricks_per_unit / slice_pairs;
        m.outputs_per_unit = 1;
        modes.push_back(m);
      } else {
        // A dot product of these widths takes one NBVE per slice pair; the
        // remaining engines form `engines` dot products, which the aggregator
        // may sum k at a time (longer reductions, fewer outputs).
        if (hw.array.nbves_per_unit % slice_pairs != 0) continue;
        const int engines = hw.array.nbves_per_unit / slice_pairs;
        for (int k = 1; k <= engines; k *= 2) {
          if (engines % k != 0) continue;
          ArrayMode g = m;
          g.lanes_per_unit = hw.array.nbve_length * k;
          g.outputs_per_unit = engines / k;
          modes.push_back(g);
        }
      }
    }
  }
  return modes;
}

ComputeCost& ComputeCost::operator+=(const ComputeCost& o) {
  cycles += o.cycles;
  latency = std::max(latency, o.latency);
  folds += o.folds;
  unit_busy_cycles += o.unit_busy_cycles;
  asu_busy_cycles += o.asu_busy_cycles;
  macs += o.macs;
  mac_input_bits += o.mac_input_bits;
  ibuf_read_bits += o.ibuf_read_bits;
  wbuf_read_bits += o.wbuf_read_bits;
  obuf_read_bits += o.obuf_read_bits;
  obuf_write_bits += o.obuf_write_bits;
  return *this;
}

ComputeCost& ComputeCost::operator*=(int64_t reps) {
  cycles *= reps;
  folds *= reps;
  unit_busy_cycles *= reps;
  asu_busy_cycles *= reps;
  macs *= reps;
  mac_input_bits *= reps;
  ibuf_read_bits *= reps;
  wbuf_read_bits *= reps;
  obuf_read_bits *= reps;
  obuf_write_bits *= reps;
  return *this;
}

// Each fold loads its weights (W cycles) and streams the pixels; a fold's
// weight load hides behind the previous fold's stream.
int64_t fold_cycles(const HwConfig& hw, int64_t folds, int64_t pixels) {
  const int64_t W = hw.array.weight_load_cycles;
  return W + (folds - 1) * std::max(pixels, W) + pixels;
}

int64_t tile_folds(const ArrayMode& mode, int64_t k_elems, int64_t m) {
  return mode.passes() * ceil_div(m, mode.m_lanes()) * ceil_div(k_elems, mode.k_lanes());
}

ComputeCost compute_tile_cost(const HwConfig& hw, const ArrayMode& mode, const ComputeTile& t) {
  ComputeCost c;
  if (t.pixels <= 0 || t.k_elems <= 0 || t.m <= 0) return c;
  const int64_t P = t.pixels;
  const int64_t k_folds = ceil_div(t.k_elems, mode.k_lanes());
  const int64_t m_blocks = ceil_div(t.m, mode.m_lanes());
  const int64_t passes = mode.passes();
  c.folds = passes * m_blocks * k_folds;  // tile_folds()
  c.cycles = fold_cycles(hw, c.folds, P);
  c.latency = mode.unit_rows + mode.unit_cols - 2;
  c.macs = P * t.k_elems * t.m * passes;
  c.mac_input_bits = c.macs * mode.fa;
  const int acc = hw.accumulator_bits;

  // Sum over folds of the unit rows (and over m blocks of the unit columns)
  // that hold valid work: full folds use every row, the last one what remains.
  const int64_t k_rem = t.k_elems - (k_folds - 1) * mode.k_lanes();
  const int64_t row_sum = (k_folds - 1) * mode.unit_rows + ceil_div(k_rem, mode.lanes_per_unit);
  const int64_t m_rem = t.m - (m_blocks - 1) * mode.m_lanes();
  const int64_t col_sum = (m_blocks - 1) * mode.unit_cols + ceil_div(m_rem, mode.outputs_per_unit);
  c.unit_busy_cycles = passes * P * row_sum * col_sum;
  // Each active unit row reads one input word per pixel per fold; the word
  // then travels along the row through the unit registers.
  c.ibuf_read_bits = passes * m_blocks * P * row_sum * mode.lanes_per_unit * mode.fa;
  // Each active unit loads its weights once per fold.
  c.wbuf_read_bits =
      passes * row_sum * col_sum * mode.lanes_per_unit * mode.outputs_per_unit * mode.fw;
  // One accumulator update per output per fold; the very first contribution
  // of a tile that starts its partial sums only writes.
  const int64_t updates = passes * k_folds * P * t.m;
  c.obuf_write_bits = updates * acc;
  c.obuf_read_bits = (updates - (t.accumulate ? 0 : P * t.m)) * acc;
  if (t.activation_sum) {
    // The activation sum depends on the input only: it runs during the first
    // m block and the first weight chunk, once per activation chunk and k fold.
    const int64_t asu_updates = static_cast<int64_t>(mode.a_chunks) * k_folds * P;
    c.asu_busy_cycles = asu_updates;
    c.obuf_write_bits += asu_updates * acc;
    c.obuf_read_bits += (asu_updates - (t.accumulate ? 0 : P)) * acc;
  }
  return c;
}

PostCost& PostCost::operator+=(const PostCost& o) {
  cycles += o.cycles;
  elements += o.elements;
  ibuf_read_bits += o.ibuf_read_bits;
  obuf_read_bits += o.obuf_read_bits;
  obuf_write_bits += o.obuf_write_bits;
  return *this;
}

int64_t post_tile_cycles(const HwConfig& hw, int64_t elements, int64_t window) {
  return elements <= 0 ? 0 : ceil_div(elements * window, hw.ppu.lanes);
}

PostCost& PostCost::operator*=(int64_t reps) {
  cycles *= reps;
  elements *= reps;
  ibuf_read_bits *= reps;
  obuf_read_bits *= reps;
  obuf_write_bits *= reps;
  return *this;
}

PostCost post_tile_cost(const HwConfig& hw, const PostTile& t) {
  PostCost c;
  if (t.elements <= 0) return c;
  c.elements = t.elements;
  const int64_t reads = t.elements * t.window;
  c.cycles = post_tile_cycles(hw, t.elements, t.window);
  if (t.from_obuf) {
    c.obuf_read_bits = reads * t.in_bits + t.activation_sums * hw.accumulator_bits;
  } else {
    c.ibuf_read_bits = reads * t.in_bits;
  }
  c.ibuf_read_bits += t.elements * t.residual_bits;
  c.obuf_write_bits = t.elements * t.out_bits;
  return c;
}

}  // namespace palsim::frontend
