#include "frontend/ir/network.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace palsim::frontend {

int Network::add(Layer layer) {
  if (layer.name.empty()) throw InputError(fmt::format("network '{}': a layer has no name", name_));
  if (index_.count(layer.name)) {
    throw InputError(fmt::format("network '{}': duplicate layer name '{}'", name_, layer.name));
  }
  for (int in : layer.inputs) {
    if (in < 0 || in >= size()) {
      throw InputError(fmt::format(
          "network '{}': layer '{}' reads a layer that does not precede it", name_, layer.name));
    }
  }
  const int index = size();
  index_[layer.name] = index;
  consumers_.emplace_back();
  for (size_t k = 0; k < layer.inputs.size(); ++k) {
    const int in = layer.inputs[k];
    // A layer reading one input twice is one consumer of it.
    if (std::find(layer.inputs.begin(), layer.inputs.begin() + static_cast<long>(k), in) ==
        layer.inputs.begin() + static_cast<long>(k))
      consumers_[static_cast<size_t>(in)].push_back(index);
  }
  layers_.push_back(std::move(layer));
  return index;
}

int Network::add(const std::string& name, LayerAttrs attrs, std::vector<int> inputs,
                 LayerRole role) {
  Layer l;
  l.name = name;
  l.attrs = std::move(attrs);
  l.inputs = std::move(inputs);
  l.role = role;
  return add(std::move(l));
}

int Network::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

const std::vector<int>& Network::consumers(int index) const {
  return consumers_.at(static_cast<size_t>(index));
}

namespace {

[[noreturn]] void shape_error(const Layer& l, const std::string& message) {
  throw InputError(fmt::format("layer '{}' ({}): {}", l.name, l.op(), message));
}

void expect_inputs(const Layer& l, size_t n) {
  if (l.inputs.size() != n) {
    shape_error(l,
                fmt::format("expects {} input{}, has {}", n, n == 1 ? "" : "s", l.inputs.size()));
  }
}

int window_output(const Layer& l, int in, int kernel, int stride, int pad, const char* axis,
                  int dilation = 1) {
  if (kernel <= 0 || stride <= 0 || pad < 0 || dilation <= 0)
    shape_error(l, "kernel, stride and dilation must be positive, padding >= 0");
  const int extent = (kernel - 1) * dilation + 1;
  const int span = in + 2 * pad - extent;
  if (span < 0) {
    const std::string taps = dilation == 1 ? fmt::format("{}", kernel)
                                           : fmt::format("{} (dilation {})", kernel, dilation);
    shape_error(
        l, fmt::format("kernel {} does not fit the {} {} with padding {}", taps, axis, in, pad));
  }
  return span / stride + 1;
}

void check_quant(const Layer& l, const QuantSpec& q) {
  if (!q.quantized()) return;
  if (q.w_bits < 2 || q.w_bits > 8 || q.a_bits < 2 || q.a_bits > 8) {
    shape_error(l,
                fmt::format("quantized widths must be 2..8 bits (w {} a {})", q.w_bits, q.a_bits));
  }
  if (q.slice_bits != 0 && q.slice_bits != 1 && q.slice_bits != 2 && q.slice_bits != 4) {
    shape_error(l, fmt::format("slice width must be 1, 2 or 4 bits, got {}", q.slice_bits));
  }
}

}  // namespace

void Network::infer_shapes() {
  for (auto& l : layers_) {
    auto in_shape = [&](size_t k) { return layers_[static_cast<size_t>(l.inputs[k])].out; };
    if (l.is<InputAttrs>()) {
      expect_inputs(l, 0);
      const Shape s = l.as<InputAttrs>().shape;
      if (s.c <= 0 || s.h <= 0 || s.w <= 0) shape_error(l, "input dimensions must be positive");
      l.out = s;
    } else if (l.is<ConvAttrs>()) {
      expect_inputs(l, 1);
      const auto& a = l.as<ConvAttrs>();
      const Shape in = in_shape(0);
      if (a.groups <= 0) shape_error(l, "groups must be positive");
      if (a.out_channels <= 0) shape_error(l, "out_channels must be positive");
      if (in.c % a.groups != 0) {
        shape_error(l,
                    fmt::format("groups {} do not divide the {} input channels", a.groups, in.c));
      }
      if (a.out_channels % a.groups != 0) {
        shape_error(l, fmt::format("groups {} do not divide the {} output channels", a.groups,
                                   a.out_channels));
      }
      check_quant(l, a.quant);
      l.out = Shape{a.out_channels,
                    window_output(l, in.h, a.kernel_h, a.stride_h, a.pad_h, "height", a.dilation_h),
                    window_output(l, in.w, a.kernel_w, a.stride_w, a.pad_w, "width", a.dilation_w)};
    } else if (l.is<BatchNormAttrs>() || l.is<ReluAttrs>()) {
      expect_inputs(l, 1);
      l.out = in_shape(0);
    } else if (l.is<ClipAttrs>()) {
      expect_inputs(l, 1);
      const auto& a = l.as<ClipAttrs>();
      if (!(a.min < a.max))
        shape_error(l, fmt::format("min {} must be below max {}", a.min, a.max));
      l.out = in_shape(0);
    } else if (l.is<MaxPoolAttrs>()) {
      expect_inputs(l, 1);
      const auto& a = l.as<MaxPoolAttrs>();
      const Shape in = in_shape(0);
      if (a.pad * 2 > a.kernel) shape_error(l, "padding must be at most half the kernel");
      l.out = Shape{in.c, window_output(l, in.h, a.kernel, a.stride, a.pad, "height"),
                    window_output(l, in.w, a.kernel, a.stride, a.pad, "width")};
    } else if (l.is<AvgPoolAttrs>()) {
      expect_inputs(l, 1);
      const auto& a = l.as<AvgPoolAttrs>();
      const Shape in = in_shape(0);
      if (a.pad * 2 > a.kernel) shape_error(l, "padding must be at most half the kernel");
      l.out = Shape{in.c, window_output(l, in.h, a.kernel, a.stride, a.pad, "height"),
                    window_output(l, in.w, a.kernel, a.stride, a.pad, "width")};
    } else if (l.is<GlobalAvgPoolAttrs>()) {
      expect_inputs(l, 1);
      l.out = Shape{in_shape(0).c, 1, 1};
    } else if (l.is<AddAttrs>()) {
      expect_inputs(l, 2);
      if (in_shape(0) != in_shape(1)) {
        shape_error(l, fmt::format("adds tensors of different shapes {} and {}",
                                   to_string(in_shape(0)), to_string(in_shape(1))));
      }
      l.out = in_shape(0);
    } else if (l.is<ChannelShuffleAttrs>() || l.is<CyclicPermuteAttrs>()) {
      expect_inputs(l, 1);
      const int g = l.is<ChannelShuffleAttrs>() ? l.as<ChannelShuffleAttrs>().groups
                                                : l.as<CyclicPermuteAttrs>().groups;
      if (g <= 0) shape_error(l, "groups must be positive");
      if (in_shape(0).c % g != 0) {
        shape_error(l, fmt::format("groups {} do not divide the {} channels", g, in_shape(0).c));
      }
      if (l.is<CyclicPermuteAttrs>()) {
        const int d = l.as<CyclicPermuteAttrs>().direction;
        if (d != 1 && d != -1)
          shape_error(l, "direction must be +1 (paper) or -1 (reference code)");
      }
      l.out = in_shape(0);
    } else if (l.is<FcAttrs>()) {
      expect_inputs(l, 1);
      const auto& a = l.as<FcAttrs>();
      if (a.out_features <= 0) shape_error(l, "out_features must be positive");
      check_quant(l, a.quant);
      l.out = Shape{a.out_features, 1, 1};
    } else if (l.is<FlattenAttrs>()) {
      expect_inputs(l, 1);
      const Shape in = in_shape(0);
      l.out = Shape{static_cast<int>(in.elements()), 1, 1};
    } else if (l.is<SplitAttrs>()) {
      expect_inputs(l, 1);
      const auto& a = l.as<SplitAttrs>();
      const Shape in = in_shape(0);
      if (a.offset < 0) shape_error(l, fmt::format("offset must be >= 0, got {}", a.offset));
      if (a.channels <= 0)
        shape_error(l, fmt::format("channels must be positive, got {}", a.channels));
      if (a.offset + a.channels > in.c) {
        shape_error(l, fmt::format("channels [{}, {}) lie outside the input's {} channels",
                                   a.offset, a.offset + a.channels, in.c));
      }
      l.out = Shape{a.channels, in.h, in.w};
    } else if (l.is<ConcatAttrs>()) {
      if (l.inputs.size() < 2) {
        shape_error(l, fmt::format("expects at least 2 inputs, has {}", l.inputs.size()));
      }
      Shape out = in_shape(0);
      for (size_t k = 1; k < l.inputs.size(); ++k) {
        const Shape s = in_shape(k);
        if (s.h != out.h || s.w != out.w) {
          shape_error(l,
                      fmt::format("joins tensors of different heights or widths: {} and {} ('{}')",
                                  to_string(in_shape(0)), to_string(s),
                                  layers_[static_cast<size_t>(l.inputs[k])].name));
        }
        out.c += s.c;
      }
      l.out = out;
    } else {
      shape_error(l, "unknown layer kind");
    }
  }
}

}  // namespace palsim::frontend
