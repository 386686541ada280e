#pragma once
// How a layer's operands meet the array, and what one tile of work costs.
// This is the single definition of the array's timing and access counts: the
// mapper ranks mappings with it, the fast simulation mode charges it, and the
// detailed mode (which steps every unit each cycle) is tested to reproduce it.
//
// The array is weight stationary. A "unit" is a Bit Fusion Fusion Unit or a
// BPVeC Composable Vector Unit. Each unit holds, for one fold, the weights of
// `lanes_per_unit` reduction elements for `outputs_per_unit` output channels;
// an input vector enters each unit row per cycle and flows along the row;
// partial sums flow down the columns into the OBUF accumulators.
//
// Operands wider than the mode's operand widths (fa, fw) are split into
// chunks (Eq. 4 slices when fa = fw = 2): every chunk pair is one temporal
// pass, and the accumulators shift-add each pass's partial sums.
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"

namespace palsim::frontend {

struct ArrayMode {
  int fa = 2, fw = 2;              // operand chunk widths inside a unit
  int a_chunks = 1, w_chunks = 1;  // temporal passes per operand
  int lanes_per_unit = 16;         // reduction elements per unit per cycle
  int outputs_per_unit = 1;        // output channels per unit (BPVeC NBVE grouping)
  int unit_rows = 1, unit_cols = 1;

  int passes() const { return a_chunks * w_chunks; }
  int k_lanes() const { return unit_rows * lanes_per_unit; }
  int m_lanes() const { return unit_cols * outputs_per_unit; }
  std::string describe() const;
};

// Every mode the configuration allows for operands of a_bits x w_bits.
std::vector<ArrayMode> array_modes(const HwConfig& hw, int a_bits, int w_bits);

// One compute job: `pixels` output positions streamed through the array,
// a reduction of `k_elems` (= c_t * kh * kw) and `m` output channels.
struct ComputeTile {
  int64_t pixels = 0;
  int64_t k_elems = 0;
  int64_t m = 0;
  bool accumulate = false;      // partial sums already in OBUF (not the tile's first contribution)
  bool activation_sum = false;  // uniform quantizer: the activation-sum unit runs
};

struct ComputeCost {
  // Cycles the array is occupied (it accepts the next tile after them) and
  // the further latency until the tile's last partial sum reaches the OBUF.
  int64_t cycles = 0;
  int64_t latency = 0;
  int64_t folds = 0;             // weight sets loaded (passes x m blocks x k folds)
  int64_t unit_busy_cycles = 0;  // sum over units of cycles with valid work
  int64_t asu_busy_cycles = 0;   // activation-sum unit
  int64_t macs = 0;              // chunk products (pixels x k x m x passes)
  int64_t mac_input_bits = 0;    // macs x the input chunk width (for per-MAC SRAM accounting)
  int64_t ibuf_read_bits = 0;
  int64_t wbuf_read_bits = 0;
  int64_t obuf_read_bits = 0;
  int64_t obuf_write_bits = 0;
  ComputeCost& operator+=(const ComputeCost& o);
  // `reps` identical tiles back to back: every count scales, the latency not.
  ComputeCost& operator*=(int64_t reps);
};

// Occupancy: W + (F - 1) * max(P, W) + P, with W the weight load cycles, F
// the folds and P the pixels: the first weights load, then folds stream back
// to back (weights are double-buffered in the units). Latency: rows + cols - 2,
// the skew of the last pixel through the rows and columns. The next tile may
// enter while this one drains (its partial sums go to the other OBUF half or,
// for the same outputs, arrive later than this tile's).
ComputeCost compute_tile_cost(const HwConfig& hw, const ArrayMode& mode, const ComputeTile& tile);
// Its parts alone (the mapper's pruning bound needs only the cycles):
// the weight sets it loads (passes x m blocks x k folds), and the cycles of
// `folds` weight sets over `pixels` positions.
int64_t tile_folds(const ArrayMode& mode, int64_t k_elems, int64_t m);
int64_t fold_cycles(const HwConfig& hw, int64_t folds, int64_t pixels);

// The post-processing unit on one finished output tile of `elements` values.
struct PostTile {
  int64_t elements = 0;   // output values (pixels x channels)
  int64_t window = 1;     // input values read per output (pools); 1 for conv requantization
  int in_bits = 32;       // what it reads per window element (accumulators for convs)
  bool from_obuf = true;  // conv: reads accumulators from OBUF; pools: read inputs from IBUF
  int residual_bits = 0;  // > 0: reads one residual value per output from IBUF
  int out_bits = 8;
  int64_t activation_sums = 0;  // uniform quantizer: per-pixel activation sums read from OBUF
};

struct PostCost {
  int64_t cycles = 0;
  int64_t elements = 0;
  int64_t ibuf_read_bits = 0;
  int64_t obuf_read_bits = 0;
  int64_t obuf_write_bits = 0;  // results written back for the DMA (or the on-chip region)
  PostCost& operator+=(const PostCost& o);
  PostCost& operator*=(int64_t reps);  // `reps` identical tiles
};

PostCost post_tile_cost(const HwConfig& hw, const PostTile& tile);
// Its cycles alone: `elements` x `window` reads through the PPU lanes.
int64_t post_tile_cycles(const HwConfig& hw, int64_t elements, int64_t window);

}  // namespace palsim::frontend
