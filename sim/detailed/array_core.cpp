#include "sim/detailed/array_core.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "kernels/bit_decompose.h"
#include "kernels/bitbrick.h"
#include "kernels/nbve.h"

namespace palsim::sim {

using isa::Reg;

struct ArrayCore::Fold {
  int64_t index = 0;
  uint64_t start = 0;  // s_f
  int b = 0, i = 0, j = 0, kf = 0;
  int active_rows = 0, active_cols = 0, k_valid = 0, m_valid = 0;
  int shift = 0;
  bool first = false;           // the first contribution to its outputs (pass 0, k fold 0)
  std::vector<int64_t> colsum;  // [P][m_lanes]
};

struct ArrayCore::Flight {
  uint32_t id = 0;
  const Job* job = nullptr;
  Counts* counts = nullptr;
  uint64_t t0 = 0, done = 0;
  int64_t P = 0, K = 0, Kpad = 0, M = 0, Mpad = 0;
  int64_t k_folds = 0, m_blocks = 0, passes = 0, folds = 0, T = 0, W = 0;
  frontend::ArrayMode mode;
  bool a_signed = false, w_signed = true;
  int a_bits = 8, w_bits = 8;
  // Operand chunks: [chunk][P][Kpad] and [chunk][Mpad][Kpad], zero padded.
  std::vector<int16_t> a_chunks, w_chunks;
  int64_t next_fold = 0;  // folds created so far
  std::deque<Fold> live;
};

ArrayCore::ArrayCore(const frontend::HwConfig& hw, FunctionalState& state, bool exact)
    : hw_(hw), state_(state), exact_(exact) {}
ArrayCore::~ArrayCore() = default;

namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Chunk `index` of a `bits`-wide operand split into `width`-bit chunks: the
// lower chunks unsigned, the top chunk of a signed operand signed. The same
// values as kernels::bit_slice (which the kernels test exhaustively), without
// its argument checks, because it runs for every operand of every tile.
inline int16_t chunk(int32_t v, int bits, bool is_signed, int width, int index) {
  const int top = (bits + width - 1) / width - 1;
  const int32_t shifted = v >> (index * width);  // arithmetic shift keeps the sign
  if (is_signed && index == top) return static_cast<int16_t>(shifted);
  return static_cast<int16_t>(shifted & ((1 << width) - 1));
}
}  // namespace

void ArrayCore::start(const Job& job, uint32_t id, uint64_t cycle, Counts* counts) {
  auto f = std::make_unique<Flight>();
  f->id = id;
  f->job = &job;
  f->counts = counts;
  f->t0 = cycle;
  f->mode = job.mode;
  const frontend::ArrayMode& m = job.mode;
  const LayerRegisters& L = state_.layer(job.op);
  const Box& ob = job.out_box;
  f->P = static_cast<int64_t>(ob.n) * ob.h * ob.w;
  f->K = job.tile.k_elems;
  f->M = job.tile.m;
  f->k_folds = ceil_div(f->K, m.k_lanes());
  f->m_blocks = ceil_div(f->M, m.m_lanes());
  f->Kpad = f->k_folds * m.k_lanes();
  f->Mpad = f->m_blocks * m.m_lanes();
  f->passes = m.passes();
  f->folds = f->passes * f->m_blocks * f->k_folds;
  f->W = hw_.array.weight_load_cycles;
  f->T = std::max(f->P, f->W);
  f->a_bits = static_cast<int>(L.get(Reg::kABits));
  f->w_bits = static_cast<int>(L.get(Reg::kWBits));
  f->w_signed = L.get(Reg::kWSigned) != 0;
  const int64_t occupancy = f->W + (f->folds - 1) * f->T + f->P;
  f->done = cycle + occupancy + hw_.array.rows + hw_.array.cols - 2;
  busy_until_ = cycle + occupancy;

  // Gather the tile once (im2col of the inputs, the weights), then split every
  // operand into its chunks.
  const int kh = static_cast<int>(L.get(Reg::kKernelH)),
            kw = static_cast<int>(L.get(Reg::kKernelW));
  const int sh = static_cast<int>(L.get(Reg::kStrideH)),
            sw = static_cast<int>(L.get(Reg::kStrideW));
  const int ph = static_cast<int>(L.get(Reg::kPadH)), pw = static_cast<int>(L.get(Reg::kPadW));
  const int dh = static_cast<int>(L.get(Reg::kDilationH)),
            dw = static_cast<int>(L.get(Reg::kDilationW));
  const int G = static_cast<int>(L.get(Reg::kGroups));
  const int cin_g = static_cast<int>(L.get(Reg::kInC) / G);
  const int cout_g = static_cast<int>(L.get(Reg::kOutC) / G);
  const int src = static_cast<int>(((job.group - L.get(Reg::kInRotate)) % G + G) % G);
  const WeightTile& wt = state_.weights(job);
  f->a_chunks.assign(static_cast<size_t>(m.a_chunks * f->P * f->Kpad), 0);
  f->w_chunks.assign(static_cast<size_t>(m.w_chunks * f->Mpad * f->Kpad), 0);
  const ActTile& in = state_.input_tile(job);
  const int in_h = static_cast<int>(L.get(Reg::kInH)), in_w = static_cast<int>(L.get(Reg::kInW));
  const int c_first = (job.pack > 1 ? job.group * job.pack : src) * cin_g + job.c0;
  const int c_count = static_cast<int>(f->K / (kh * kw));
  if (c_first < in.box.c0 || c_first + c_count > in.box.c0 + in.box.c) {
    throw InternalError(
        fmt::format("op {}: the input tile does not hold the channels of a compute tile", job.op));
  }
  for (int64_t p = 0; p < f->P; ++p) {
    const int n = ob.n0 + static_cast<int>(p / (ob.h * ob.w));
    const int y = ob.h0 + static_cast<int>((p / ob.w) % ob.h);
    const int x = ob.w0 + static_cast<int>(p % ob.w);
    int64_t k = 0;
    for (int c_rel = 0; c_rel < c_count; ++c_rel) {
      for (int ky = 0; ky < kh; ++ky) {
        const int iy = y * sh - ph + ky * dh;
        for (int kx = 0; kx < kw; ++kx, ++k) {
          const int ix = x * sw - pw + kx * dw;
          if (iy < 0 || ix < 0 || iy >= in_h || ix >= in_w) continue;  // padding: zero chunks
          if (iy < in.box.h0 || iy >= in.box.h0 + in.box.h || ix < in.box.w0 ||
              ix >= in.box.w0 + in.box.w || n < in.box.n0 || n >= in.box.n0 + in.box.n) {
            throw InternalError(
                fmt::format("op {}: the input tile does not hold ({}, {}, {})", job.op, n, iy, ix));
          }
          const int32_t v = in.at(n, c_first + c_rel, iy, ix);
          for (int i = 0; i < m.a_chunks; ++i) {
            f->a_chunks[static_cast<size_t>((i * f->P + p) * f->Kpad + k)] =
                chunk(v, f->a_bits, false, m.fa, i);
          }
        }
      }
    }
  }
  for (int64_t mm = 0; mm < f->M; ++mm) {
    for (int64_t k = 0; k < f->K; ++k) {
      const int c_rel = static_cast<int>(k / (kh * kw));
      const int ky = static_cast<int>((k / kw) % kh), kx = static_cast<int>(k % kw);
      // Packed groups: a block-diagonal problem, zero between groups.
      int32_t v = 0;
      if (job.pack == 1) {
        v = wt.at(ob.c0 + static_cast<int>(mm), job.c0 + c_rel, ky, kx);
      } else if ((job.c0 + c_rel) / cin_g == static_cast<int>(mm) / cout_g) {
        v = wt.at(ob.c0 + static_cast<int>(mm), (job.c0 + c_rel) % cin_g, ky, kx);
      }
      for (int j = 0; j < m.w_chunks; ++j) {
        f->w_chunks[static_cast<size_t>((j * f->Mpad + mm) * f->Kpad + k)] =
            chunk(v, f->w_bits, f->w_signed, m.fw, j);
      }
    }
  }
  state_.open_accumulators(job);
  flights_.push_back(std::move(f));
}

void ArrayCore::make_fold(Flight& f, int64_t index, uint64_t start) {
  const frontend::ArrayMode& m = f.mode;
  Fold fold;
  fold.index = index;
  fold.start = start;
  fold.kf = static_cast<int>(index % f.k_folds);
  const int64_t pass = (index / f.k_folds) % f.passes;
  fold.b = static_cast<int>(index / (f.k_folds * f.passes));
  fold.i = static_cast<int>(pass / m.w_chunks);
  fold.j = static_cast<int>(pass % m.w_chunks);
  const int64_t k_valid = std::min<int64_t>(m.k_lanes(), f.K - fold.kf * m.k_lanes());
  fold.k_valid = static_cast<int>(k_valid);
  fold.m_valid = static_cast<int>(std::min<int64_t>(m.m_lanes(), f.M - fold.b * m.m_lanes()));
  fold.active_rows = static_cast<int>(ceil_div(k_valid, m.lanes_per_unit));
  fold.active_cols = static_cast<int>(ceil_div(fold.m_valid, m.outputs_per_unit));
  fold.shift = fold.i * m.fa + fold.j * m.fw;
  fold.first = pass == 0 && fold.kf == 0 && !f.job->tile.accumulate;
  fold.colsum.assign(static_cast<size_t>(f.P * m.m_lanes()), 0);
  // Each active unit loads its weights for the fold from WBUF.
  f.counts->wbuf_read_bits += static_cast<uint64_t>(fold.active_rows) * fold.active_cols *
                              m.lanes_per_unit * m.outputs_per_unit * m.fw;
  f.counts->folds += 1;
  f.live.push_back(std::move(fold));
}

void ArrayCore::step_fold(Flight& f, Fold& fold, uint64_t cycle) {
  const frontend::ArrayMode& m = f.mode;
  const int64_t rel = static_cast<int64_t>(cycle - fold.start);
  const int L = m.lanes_per_unit, opu = m.outputs_per_unit;
  const int R = hw_.array.rows, C = hw_.array.cols;
  const int acc_bits = hw_.accumulator_bits;
  const int16_t* A =
      f.a_chunks.data() + static_cast<size_t>(fold.i * f.P * f.Kpad + fold.kf * m.k_lanes());
  const int16_t* Wc =
      f.w_chunks.data() + static_cast<size_t>((fold.j * f.Mpad + fold.b * m.m_lanes()) * f.Kpad +
                                              fold.kf * m.k_lanes());
  Counts& cnt = *f.counts;
  const bool a_top_signed = false;
  const bool w_top_signed = f.w_signed && fold.j == m.w_chunks - 1;

  // Inputs entering each active row this cycle are read from IBUF once.
  for (int r = 0; r < fold.active_rows; ++r) {
    const int64_t p = rel - r;
    if (p >= 0 && p < f.P) cnt.ibuf_read_bits += static_cast<uint64_t>(L) * m.fa;
  }
  // Every unit on the wavefront computes its dot product.
  for (int r = 0; r < fold.active_rows; ++r) {
    const int64_t c_lo = std::max<int64_t>(0, rel - (f.P - 1) - r);
    const int64_t c_hi = std::min<int64_t>(fold.active_cols - 1, rel - r);
    for (int64_t c = c_lo; c <= c_hi; ++c) {
      const int64_t p = rel - r - c;
      const int16_t* a = A + p * f.Kpad + r * L;
      for (int o = 0; o < opu; ++o) {
        const int64_t ml = c * opu + o;
        if (ml >= fold.m_valid) break;
        const int16_t* w = Wc + ml * f.Kpad + r * L;
        int64_t dot = 0;
        if (exact_ && hw_.kind == frontend::AcceleratorKind::kBitFusion) {
          int32_t av[64], wv[64];
          for (int l = 0; l < L; ++l) {
            av[l] = a[l];
            wv[l] = w[l];
          }
          kernels::FusionMode mode{m.fa, m.fw, a_top_signed, w_top_signed};
          dot = kernels::fusion_unit_cycle(av, wv, mode);
        } else if (exact_) {
          // Each dot product of nbve_length lanes: in 2-bit mode one NBVE; for
          // wider chunks a CVU composes one NBVE per 2-bit slice pair with
          // shifters and its aggregator. Several are summed by the aggregator.
          const int V = hw_.array.nbve_length;
          std::vector<int32_t> av(static_cast<size_t>(V)), wv(static_cast<size_t>(V));
          for (int s = 0; s < L; s += V) {
            for (int l = 0; l < V; ++l) {
              av[static_cast<size_t>(l)] = a[s + l];
              wv[static_cast<size_t>(l)] = w[s + l];
            }
            if (m.fa == 2 && m.fw == 2) {
              dot += kernels::nbve_dot(av.data(), a_top_signed, wv.data(), w_top_signed, V);
            } else {
              kernels::CvuOperands ops{m.fa, a_top_signed, m.fw, w_top_signed};
              dot += kernels::cvu_dot(av.data(), wv.data(), V, ops);
            }
          }
        } else {
          int32_t d = 0;
          for (int l = 0; l < L; ++l) d += static_cast<int32_t>(a[l]) * w[l];
          dot = d;
        }
        fold.colsum[static_cast<size_t>(p * m.m_lanes() + ml)] += dot;
      }
      // The chunk products this unit formed: its valid lanes times its valid outputs.
      const int64_t lanes = std::min<int64_t>(L, fold.k_valid - static_cast<int64_t>(r) * L);
      const int64_t outs = std::min<int64_t>(opu, fold.m_valid - c * opu);
      cnt.chunk_products += static_cast<uint64_t>(lanes * outs);
      cnt.chunk_product_input_bits += static_cast<uint64_t>(lanes * outs * m.fa);
      ++cnt.unit_busy_cycles;
      ++unit_cycles_;
    }
  }
  AccTile& acc = state_.accumulators(*f.job);
  const Box& ob = f.job->out_box;
  // The activation-sum unit sums the input vector of the pixel entering the
  // array (first output block and first weight chunk only).
  if (f.job->tile.activation_sum && fold.b == 0 && fold.j == 0 && rel < f.P) {
    const int64_t p = rel;
    int64_t s = 0;
    const int16_t* a = A + p * f.Kpad;
    for (int k = 0; k < m.k_lanes(); ++k) s += a[k];
    const bool first = fold.i == 0 && fold.kf == 0 && !f.job->tile.accumulate;
    const int pn = ob.n0 + static_cast<int>(p / (ob.h * ob.w));
    const int py = ob.h0 + static_cast<int>((p / ob.w) % ob.h),
              px = ob.w0 + static_cast<int>(p % ob.w);
    int64_t& slot = acc.asum[acc.position(pn, py, px)];
    slot = (first ? 0 : slot) + (s << (fold.i * m.fa));
    ++cnt.asu_busy_cycles;
    cnt.obuf_write_bits += acc_bits;
    if (!first) cnt.obuf_read_bits += acc_bits;
  }
  // Column sums leave the bottom row into the accumulators.
  for (int c = 0; c < fold.active_cols; ++c) {
    const int64_t p = rel - (R - 1) - c;
    if (p < 0 || p >= f.P) continue;
    const int n = ob.n0 + static_cast<int>(p / (ob.h * ob.w));
    const int y = ob.h0 + static_cast<int>((p / ob.w) % ob.h),
              x = ob.w0 + static_cast<int>(p % ob.w);
    for (int o = 0; o < opu; ++o) {
      const int64_t ml = static_cast<int64_t>(c) * opu + o;
      if (ml >= fold.m_valid) break;
      const int64_t mm = fold.b * m.m_lanes() + ml;
      int64_t& a = acc.acc[acc.index(n, ob.c0 + static_cast<int>(mm), y, x)];
      const int64_t v =
          fold.colsum[static_cast<size_t>(p * m.m_lanes() + ml)] * (int64_t{1} << fold.shift);
      a = fold.first ? v : a + v;
      cnt.obuf_write_bits += acc_bits;
      if (!fold.first) cnt.obuf_read_bits += acc_bits;
    }
  }
  (void)C;
}

void ArrayCore::tick(uint64_t cycle, std::vector<uint32_t>& completed) {
  for (auto it = flights_.begin(); it != flights_.end();) {
    Flight& f = **it;
    const frontend::ArrayMode& m = f.mode;
    // Start the folds whose stream begins now.
    while (f.next_fold < f.folds) {
      const uint64_t s = f.t0 + static_cast<uint64_t>(f.W + f.next_fold * f.T);
      if (s > cycle) break;
      make_fold(f, f.next_fold, s);
      ++f.next_fold;
    }
    const uint64_t span = static_cast<uint64_t>(f.P + hw_.array.rows + hw_.array.cols - 2);
    for (auto& fold : f.live) {
      if (cycle >= fold.start && cycle < fold.start + span) step_fold(f, fold, cycle);
    }
    while (!f.live.empty() && cycle + 1 >= f.live.front().start + span) f.live.pop_front();
    (void)m;
    if (cycle + 1 >= f.done) {
      if (f.next_fold != f.folds || !f.live.empty())
        throw InternalError("array: a job finished with folds in flight");
      completed.push_back(f.id);
      it = flights_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace palsim::sim
