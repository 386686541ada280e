#pragma once
// The network as the accelerator runs it: IR layers fused into hardware
// operations. A convolution (or FC) absorbs the layers its post-processing
// unit can apply on the way out — batch norm (folded into the requantization),
// ReLU before or after a residual addition, the channel shuffle at the end of
// a PalQuant block (an output permutation), the residual addition itself —
// and the cyclic group permutation before it (an input group rotation).
// Pools run on the post-processing unit alone. Every tensor that crosses
// operations lives in DRAM with one integer encoding (bits per element).
//
// Channel split and concatenation cost no copies where the addressing can do
// them: a split is a view of its input (a channel range), and each input of a
// concatenation is written by its producer straight into its place in the
// concatenated tensor, a view with a channel offset. A concatenation whose
// only reader is a channel shuffle, with every input inside one shuffle block
// (the ShuffleNet v2 unit: two halves, 2 groups), is stored shuffled: each
// input is a view with an offset and a channel stride (the first half at even
// channels, the second at odd ones), so neither the concatenation nor the
// shuffle moves data. What the addressing cannot do is a copy op (kCopy): the
// post-processing unit passes each element through (DMA in to IBUF, PPU to
// OBUF, DMA out at the destination's offset and stride), so its DRAM traffic,
// buffer accesses and PPU energy count like any op's. Copies are made for a
// concatenation input no op writes (the identity half of a ShuffleNet basic
// unit, a split view of the unit's input) and for a channel shuffle no
// convolution or concatenation absorbs.
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/ir/network.h"

namespace palsim::frontend {

// How the full-precision stem and classifier run on a 2-bit machine: the paper
// does not say (docs/hardware.md §1), so it is an explicit option.
enum class FpLayerTreatment {
  kExclude,  // not simulated: the body starts from the stem's output in DRAM
  kInt8,     // quantized to 8-bit (LSQ-style) and bit-decomposed like any layer
};
std::string to_string(FpLayerTreatment t);
FpLayerTreatment parse_fp_layer_treatment(const std::string& s);

struct LoweringOptions {
  // Images per inference; a batch is a loop the program repeats, and past a
  // few thousand images the programs' size (not their timing) is the limit.
  static constexpr int kMaxBatch = 4096;
  FpLayerTreatment fp_layers = FpLayerTreatment::kExclude;
  int batch = 1;
  // Keep a block's intermediate (first conv -> second conv of the same groups)
  // on chip when it fits, instead of a DRAM round trip.
  bool onchip_intermediates = true;
};

struct HwTensor {
  int id = 0;
  std::string name;  // the IR layer whose output it is
  Shape shape;       // per sample
  int batch = 1;
  int bits = 8;           // unsigned integer encoding
  uint64_t dram_bit = 0;  // base address (bits), NCHW, elements packed
  // A view: channel c of this tensor is channel view_offset + view_stride * c
  // of tensor view_of, which owns the DRAM space (and is never a view itself).
  // A view has its owner's address and encoding. -1: the tensor owns its space.
  int view_of = -1;
  int view_offset = 0;
  int view_stride = 1;
  bool is_view() const { return view_of >= 0; }
  uint64_t size_bits() const { return static_cast<uint64_t>(shape.elements()) * batch * bits; }
};

// kCopy: the post-processing unit passes its input through to its output
// (both may be views; the output may be channel-shuffled).
enum class HwOpKind { kConv, kMaxPool, kAvgPool, kGlobalAvgPool, kCopy };
std::string to_string(HwOpKind k);

struct HwOp {
  std::string name;                 // the IR layer the op is built from (its conv or pool)
  std::vector<std::string> layers;  // every IR layer the op covers
  HwOpKind kind = HwOpKind::kConv;
  LayerRole role = LayerRole::kBody;
  int input = -1;  // tensor ids
  int output = -1;
  int residual = -1;  // -1: none
  // Geometry (conv / pool windows). FC is a conv whose kernel covers the input.
  Shape in, out;
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, groups = 1;
  int dh = 1, dw = 1;  // conv dilation (pools are dense)
  // Operands as the multipliers see them.
  int a_bits = 8, w_bits = 8;
  bool w_signed = true;
  bool uniform_quantizer = false;  // weights are unsigned levels; needs the activation sum
  // Input group rotation from a cyclic permutation: conv group g reads input
  // group (g - in_group_rotate) mod groups.
  int in_group_rotate = 0;
  // Post-processing.
  bool relu_before_residual = false;
  bool relu_after_residual = false;
  int out_shuffle_groups = 0;  // > 1: output channel c is written at its shuffled position
  uint64_t weight_dram_bit = 0;
  uint64_t weight_bits() const;  // all weights, packed
  int64_t macs() const;          // per batch element
  int in_channels_per_group() const { return in.c / groups; }
  int out_channels_per_group() const { return out.c / groups; }
};

struct HwGraph {
  std::string network;
  LoweringOptions options;
  std::vector<HwTensor> tensors;
  std::vector<HwOp> ops;  // in execution order
  int input_tensor = -1;  // what the host writes before the run
  int output_tensor = -1;
  std::vector<std::string> excluded_layers;  // not simulated (fp treatment)
  uint64_t dram_bits = 0;                    // end of the allocated address space

  // The tensor that owns the space of tensor `t` (t itself unless a view).
  int storage_of(int t) const {
    const HwTensor& x = tensors.at(static_cast<size_t>(t));
    return x.is_view() ? x.view_of : t;
  }
};

// Fuses and lays out `net`. Throws InputError for a network the accelerator
// cannot run (a full-precision conv in the body, a layer it cannot fuse, ...).
HwGraph build_hw_graph(const Network& net, const LoweringOptions& options);

}  // namespace palsim::frontend
