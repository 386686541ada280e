#pragma once
// The layers of palsim's network IR. A layer's shape parameters are data; a
// grouped convolution is a convolution with groups > 1, never a separate kind
// (a depthwise convolution is one with groups = in channels = out channels).
// Every layer has one output: a channel split is a layer that takes one
// contiguous channel range of its input (a ShuffleNet chunk(2) is two such
// layers), and a concatenation joins its inputs along channels.
#include <string>
#include <variant>
#include <vector>

namespace palsim::frontend {

// Per-sample activation shape (channels, height, width).
struct Shape {
  int c = 0;
  int h = 0;
  int w = 0;
  long long elements() const { return static_cast<long long>(c) * h * w; }
  bool operator==(const Shape& o) const { return c == o.c && h == o.h && w == o.w; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
};
std::string to_string(const Shape& s);

// How a convolution's operands are quantized.
enum class Quantizer {
  kNone,     // full precision (float reference; the stem and classifier)
  kLsq,      // LSQ: signed weights, unsigned activations
  kUniform,  // PalQuant / EWGS uniform: unsigned weight levels mapped to [-1, 1]
};
std::string to_string(Quantizer q);

struct QuantSpec {
  Quantizer quantizer = Quantizer::kNone;
  int w_bits = 0;  // 2..8 when quantized
  int a_bits = 0;  // 2..8 when quantized
  // > 0: the layer runs bit-decomposed into slices of this many bits (Eq. 4).
  int slice_bits = 0;

  bool quantized() const { return quantizer != Quantizer::kNone; }
  // Integer weights the multipliers see: signed for LSQ; unsigned levels for
  // the uniform quantizer (the signed mapping is a correction, see kernels).
  bool weights_signed() const { return quantizer == Quantizer::kLsq; }
  bool operator==(const QuantSpec& o) const {
    return quantizer == o.quantizer && w_bits == o.w_bits && a_bits == o.a_bits &&
           slice_bits == o.slice_bits;
  }
};

struct InputAttrs {
  Shape shape;
};
struct ConvAttrs {
  int out_channels = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  // Taps `dilation` input positions apart (atrous convolution); 1: dense.
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
  bool bias = false;
  QuantSpec quant;
};
struct BatchNormAttrs {};
struct ReluAttrs {};
// Clamps to [min, max] (ReLU6 is clip 0..6). On the accelerator's unsigned
// activations the lower bound must be 0 (a ReLU); the upper bound is where the
// next tensor's quantizer saturates, so the integer datapath needs no extra step.
struct ClipAttrs {
  double min = 0;
  double max = 6;
};
struct MaxPoolAttrs {
  int kernel = 2, stride = 2, pad = 0;
};
struct AvgPoolAttrs {
  int kernel = 2, stride = 2, pad = 0;
};
struct GlobalAvgPoolAttrs {};
struct AddAttrs {};
// ShuffleNet channel shuffle (transpose of a (groups, C/groups) view).
struct ChannelShuffleAttrs {
  int groups = 1;
};
// Cyclic permutation of channel groups (PalQuant Eq. 8). direction +1: group
// i moves to position i+1 (the paper); -1: output group i is input group i+1
// (the reference code).
struct CyclicPermuteAttrs {
  int groups = 1;
  int direction = +1;
};
struct FcAttrs {
  int out_features = 0;
  bool bias = true;
  QuantSpec quant;
};
struct FlattenAttrs {};
// Channels [offset, offset + channels) of the input.
struct SplitAttrs {
  int offset = 0;
  int channels = 0;
};
// The inputs joined along channels, in input order (same height and width).
struct ConcatAttrs {};

using LayerAttrs =
    std::variant<InputAttrs, ConvAttrs, BatchNormAttrs, ReluAttrs, MaxPoolAttrs, AvgPoolAttrs,
                 GlobalAvgPoolAttrs, AddAttrs, ChannelShuffleAttrs, CyclicPermuteAttrs, FcAttrs,
                 FlattenAttrs, SplitAttrs, ConcatAttrs, ClipAttrs>;

// The op names used in YAML and reports, in LayerAttrs order.
const std::vector<std::string>& op_names();
std::string op_name(const LayerAttrs& attrs);

// What a layer is for in the network; the hardware study treats the
// full-precision stem and classifier specially.
enum class LayerRole { kBody, kStem, kClassifier };
std::string to_string(LayerRole r);

struct Layer {
  std::string name;
  LayerAttrs attrs;
  std::vector<int> inputs;  // indices of producer layers, earlier in the network
  LayerRole role = LayerRole::kBody;
  Shape out;  // filled by shape inference

  template <typename T>
  bool is() const {
    return std::holds_alternative<T>(attrs);
  }
  template <typename T>
  const T& as() const {
    return std::get<T>(attrs);
  }
  template <typename T>
  T& as() {
    return std::get<T>(attrs);
  }
  std::string op() const { return op_name(attrs); }
};

}  // namespace palsim::frontend
