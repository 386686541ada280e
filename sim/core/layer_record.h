#pragma once
// The shape and the mapping of each op as its program states them: the layer
// registers (shape, bits, tiles, array mode, group packing) and the loop nest
// (the order of the tile loops and the depth of each LOAD and STORE). The
// per-layer reports show these beside the measured figures; reading them from
// the program, not from the compiler's data, makes a report of
// `simulate --program FILE` as complete as one of a compiled network.
#include <string>
#include <vector>

#include "frontend/isa/program.h"

namespace palsim::sim {

struct LayerShape {
  bool conv = false;  // a convolution (weights, activation and weight bits); else a pool or copy
  int in_c = 0, in_h = 0, in_w = 0;
  int out_c = 0, out_h = 0, out_w = 0;
  int kernel_h = 0, kernel_w = 0, stride_h = 0, stride_w = 0;
  int pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int groups = 1;
  int a_bits = 0, w_bits = 0;  // conv only
};

// What frontend::Mapping holds, as the program executes it.
struct MappingRecord {
  std::string order;  // the tile loops, outermost first, e.g. "NHWMC"
  int tile_n = 0, tile_h = 0, tile_w = 0, tile_m = 0, tile_c = 0;
  int pack = 1;  // groups packed into one tile
  // Enclosing tile loops of each operand's DMA; -1: none (an input on chip,
  // a pool's weights).
  int level_in = -1, level_wt = -1, level_out = -1;
  int mode_fa = 0, mode_fw = 0;  // activation and weight bits per unit pass
  int lanes_per_unit = 0, outputs_per_unit = 0;
};

struct LayerRecord {
  LayerShape shape;
  MappingRecord mapping;
};

// One record per op, in op order (ops the program does not run: empty records).
std::vector<LayerRecord> decode_layer_records(const isa::Program& program);

}  // namespace palsim::sim
