#pragma once
// BitOps with the counting rule of docs/method.md §4: MACs counted the way
// the common PyTorch op counter (thop) does over the whole network, rounded to
// 3 decimals in units of 1e9, times b_w x b_a, printed with 2 decimals.
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/ir/network.h"

namespace palsim::frontend {

struct LayerMacs {
  std::string name;
  std::string op;
  int64_t macs = 0;
  // 2-bit (slice) multiplies the layer needs when its operands are split into
  // slices (bit-decomposed layers); equals macs otherwise.
  int64_t slice_products = 0;
  // The layer's own quantization (convs and FCs; none for the others).
  QuantSpec quant;
  // The layer's BitOps in units of 1e9: its MACs times its own widths when
  // quantized (a mixed-precision network), the network's b_w x b_a otherwise.
  double bitops_g(int network_w_bits, int network_a_bits) const;
};

struct BitOpsReport {
  int w_bits = 0;
  int a_bits = 0;
  int64_t macs = 0;               // exact sum over layers
  double macs_g_rounded = 0;      // round(macs / 1e9, 3)
  double bitops_g = 0;            // macs_g_rounded * w_bits * a_bits, as printed (2 decimals)
  std::vector<LayerMacs> layers;  // every layer with a nonzero count
  // Whether the quantized layers have more than one (w_bits, a_bits) pair.
  bool mixed_precision() const;
  // Sum of the layers' bitops_g (unrounded).
  double layer_bitops_g() const;
};

// thop's count for one layer (0 for ReLU, max pool, additions, shuffles, flatten).
int64_t layer_macs(const Network& net, int index);

BitOpsReport count_bitops(const Network& net, int w_bits, int a_bits);

// Rounds to `decimals` decimals, half away from zero, on the decimal value
// (so that 116.415 prints as 116.42 the way the paper's tables do).
double round_decimal(double value, int decimals);

}  // namespace palsim::frontend
