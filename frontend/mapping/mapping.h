#pragma once
// A mapping: how one hardware operation (per group) is tiled, in which loop
// order the tiles run, where each operand's DMA sits in that loop nest, and
// which array mode computes it. The mapper chooses it; the code generator
// writes it into the instruction stream; the simulator only executes it.
#include <array>
#include <cstdint>
#include <string>

#include "frontend/mapping/array_model.h"

namespace palsim::frontend {

// Tile loops, outer to inner. N, H, W (output positions) always appear
// together in that order; a group loop G encloses them all.
enum class LoopDim : uint8_t { kN = 0, kH = 1, kW = 2, kM = 3, kC = 4 };
constexpr int kLoopDims = 5;
using LoopOrder = std::array<LoopDim, kLoopDims>;  // outer to inner
char loop_dim_letter(LoopDim d);

// Operands moved by DMA.
enum class Operand : uint8_t { kInput = 0, kWeight = 1, kOutput = 2 };

// What the mapper needs to know of one operation (one group of it).
struct MappingProblem {
  bool pool = false;  // post-processing only (no weights, channels map 1:1)
  int groups = 1;
  int batch = 1;
  int cin_g = 1, cout_g = 1;  // channels per group
  int in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  int dh = 1, dw = 1;  // dilation: kernel taps this many input positions apart
  int a_bits = 8, w_bits = 8;
  int in_bits = 8;       // input tensor encoding
  int out_bits = 8;      // output tensor encoding
  int res_bits = 0;      // residual tensor encoding (0: no residual)
  bool uniform = false;  // activation-sum unit needed
  int in_rotate = 0;     // cyclic group rotation of the input (packing needs 0)
  // > 1: `pack` groups run together as one block-diagonal problem (their
  // reductions stacked on the array's rows, their outputs on its columns,
  // zero weights between groups). cin_g, cout_g are then the packed extents
  // and groups the number of packed group tiles.
  int pack = 1;
  bool onchip_input = false;       // input already resident in the on-chip region (fused consumer)
  bool onchip_output = false;      // output goes to the on-chip region (fused producer)
  int64_t ibuf_reserved_bits = 0;  // IBUF bits held by an on-chip region
  std::string key() const;         // identity for caching
};

struct MappingEstimate {
  int64_t cycles = 0;
  int64_t compute_cycles = 0;
  int64_t dram_cycles = 0;
  int64_t dram_bits = 0;        // requested (what the energy per bit is charged on)
  int64_t dram_moved_bits = 0;  // on the bus (whole bursts on DDR4)
  double energy_pj = 0;
};

struct Mapping {
  ArrayMode mode;
  int pack = 1;  // groups per group tile (see MappingProblem::pack)
  int n_t = 1, h_t = 1, w_t = 1, m_t = 1, c_t = 1;
  LoopOrder order = {LoopDim::kN, LoopDim::kH, LoopDim::kW, LoopDim::kM, LoopDim::kC};
  // Number of enclosing tile loops of each operand's DMA (0: once per group,
  // 5: every step). The operand tile covers the whole span of the loops
  // inside it. Output: where partial sums leave OBUF (and the residual loads).
  std::array<int, 3> level = {5, 5, 5};
  MappingEstimate estimate;

  int tile(LoopDim d) const;
  std::string order_string() const;  // e.g. "NHWMC"
  std::string describe() const;
};

int64_t ceil_div64(int64_t a, int64_t b);
// Distinct tile sizes ceil(extent / k), k = 1..extent: one per distinct tile count.
std::vector<int> tile_candidates(int extent);
// The trip count of loop `d` of problem `p` (C is 1 for pools). Inline: the
// mapping search asks for it in its innermost loops.
inline int loop_extent(const MappingProblem& p, LoopDim d) {
  switch (d) {
    case LoopDim::kN:
      return p.batch;
    case LoopDim::kH:
      return p.out_h;
    case LoopDim::kW:
      return p.out_w;
    case LoopDim::kM:
      return p.cout_g;
    case LoopDim::kC:
      return p.pool ? 1 : p.cin_g;
  }
  return 1;
}

// Extent of the input along one axis needed by output rows [o0, o0 + n).
int64_t input_span(int64_t o0, int64_t n, int stride, int kernel, int pad, int in_extent);

}  // namespace palsim::frontend
