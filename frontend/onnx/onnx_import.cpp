#include "frontend/onnx/onnx_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <variant>

#include "common/error.h"
#include "common/input_file.h"
#include "frontend/onnx/onnx_model.h"
#include "frontend/onnx/onnx_roles.h"
#include "frontend/onnx/onnx_tensors.h"

namespace palsim::frontend {

using namespace onnx_import;

std::pair<std::string, LayerRole> parse_role_override(const std::string& text) {
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(
        fmt::format("--role: expected NAME=ROLE (body, stem, classifier), got '{}'", text));
  }
  const std::string role = text.substr(eq + 1);
  LayerRole r;
  if (role == "body")
    r = LayerRole::kBody;
  else if (role == "stem")
    r = LayerRole::kStem;
  else if (role == "classifier")
    r = LayerRole::kClassifier;
  else
    throw InputError(
        fmt::format("--role: unknown role '{}' in '{}' (body, stem, classifier)", role, text));
  return {text.substr(0, eq), r};
}

namespace {

// The largest dimension, count or window palsim accepts from a model (the
// network YAML's limit).
constexpr int64_t kMaxExtent = int64_t{1} << 20;

// Operand precision from a quantization node.
struct QuantInfo {
  int bits = 8;
  bool is_signed = false;
};
bool same_quant(const std::optional<QuantInfo>& a, const std::optional<QuantInfo>& b) {
  if (!a || !b) return !a && !b;
  return a->bits == b->bits && a->is_signed == b->is_signed;
}

// A tensor produced by a layer. rank: 4 (N, C, H, W) or 2 (N, C) after a
// flatten. `grouped` > 0: the (N, g, C/g, H, W) view of a channel shuffle,
// `transposed` once its two group axes are swapped.
struct Activation {
  int layer = -1;
  int rank = 4;
  std::optional<QuantInfo> quant;
  int grouped = 0;
  bool transposed = false;
};
// A float or integer constant (initializer or Constant output).
struct Constant {
  const onnx::TensorProto* tensor = nullptr;
  std::optional<QuantInfo> quant;  // a quantized weight
};
// An integer vector computed from shapes and constants.
struct Ints {
  std::vector<int64_t> v;
};
using Value = std::variant<Activation, Constant, Ints>;

class Converter {
 public:
  Converter(OnnxModel& m, const OnnxImportOptions& o) : m_(m), opt_(o) {}

  OnnxImport run() {
    try {
      return convert();
    } catch (const ArgumentError& e) {
      // A kernel's precondition broken by the model's values (an ArgumentError
      // is an InputError without a location): named by its node, as before.
      fail_file(fmt::format("node {}: {}", index_, e.what()));
    } catch (const InputError&) {
      throw;
    } catch (const InternalError&) {
      throw;
    } catch (const std::exception& e) {
      // libonnx's own checks (a tensor whose data does not match its type, ...).
      fail_file(fmt::format("node {}: {}", index_, e.what()));
    }
  }

 private:
  OnnxImport convert() {
    const auto& g = m_.proto.graph();
    // Named after the file (exporters name graphs "torch_jit" or "main_graph"),
    // with the form a float model was given, as the built-ins are.
    std::string name = std::filesystem::path(m_.path).stem().string();
    if (name.empty()) name = "onnx-model";
    if (opt_.method_given) name += "-" + opt_.method.label();
    net_ = Network(name);
    for (const auto& t : g.initializer()) values_[t.name()] = Constant{&t, std::nullopt};
    add_input();
    for (int i = 0; i < g.node_size(); ++i) {
      index_ = i;
      node(g.node(i));
    }
    finish_output();
    infer_onnx_shapes(m_);
    check_against_onnx_shapes();
    infer_roles(net_);
    apply_role_overrides(net_, opt_.roles);
    apply_precision();
    OnnxImport r;
    r.network = net_;
    r.opset = m_.opset;
    r.quantization = qonnx_ ? "QONNX" : qdq_ ? "QDQ" : "float";
    return r;
  }

  // ---- errors ---------------------------------------------------------------
  [[noreturn]] void fail(const onnx::NodeProto& n, const std::string& message) const {
    throw InputError(
        fmt::format("{}: node {} '{}' ({}): {}", m_.path, index_, n.name(), n.op_type(), message));
  }
  [[noreturn]] void fail_file(const std::string& message) const {
    throw InputError(fmt::format("{}: {}", m_.path, message));
  }

  // ---- values ---------------------------------------------------------------
  bool present(const onnx::NodeProto& n, int k) const {
    return n.input_size() > k && !n.input(k).empty();
  }
  const Value& value(const onnx::NodeProto& n, int k) const {
    if (!present(n, k)) fail(n, fmt::format("input {} is missing", k));
    auto it = values_.find(n.input(k));
    if (it == values_.end()) {
      fail(n, fmt::format("input '{}' is not produced by any earlier node, initializer or graph "
                          "input",
                          n.input(k)));
    }
    return it->second;
  }
  Activation activation(const onnx::NodeProto& n, int k) const {
    const Value& v = value(n, k);
    if (!std::holds_alternative<Activation>(v))
      fail(n, fmt::format("input '{}' must be an activation tensor, not a constant", n.input(k)));
    return std::get<Activation>(v);
  }
  const Constant& constant(const onnx::NodeProto& n, int k) const {
    const Value& v = value(n, k);
    if (!std::holds_alternative<Constant>(v)) {
      fail(n, fmt::format("input '{}' must be a constant (initializer or Constant), not a "
                          "computed tensor",
                          n.input(k)));
    }
    return std::get<Constant>(v);
  }
  // An integer vector input: a constant, or computed from shapes. A value
  // that depends on the data cannot be resolved.
  std::vector<int64_t> ints(const onnx::NodeProto& n, int k) const {
    const Value& v = value(n, k);
    if (const auto* i = std::get_if<Ints>(&v)) return i->v;
    if (const auto* c = std::get_if<Constant>(&v)) return int_values(*c->tensor);
    fail(n, fmt::format("input '{}' is a dynamic shape that cannot be resolved (it depends on "
                        "the data, not only on tensor shapes)",
                        n.input(k)));
  }
  double scalar(const onnx::NodeProto& n, int k) const {
    const Constant& c = constant(n, k);
    const std::vector<double> v = float_values(*c.tensor);
    if (v.size() != 1) fail(n, fmt::format("input '{}' must be a scalar", n.input(k)));
    return v[0];
  }
  void set(const std::string& name, Value v) { values_[name] = std::move(v); }
  // A dimension or count as palsim's IR holds it.
  int extent(const onnx::NodeProto& n, int64_t v, const char* what) const {
    if (v < 1 || v > kMaxExtent) fail(n, fmt::format("{} {} outside 1..{}", what, v, kMaxExtent));
    return static_cast<int>(v);
  }
  const Shape& shape(const Activation& a) const { return net_.layer(a.layer).out; }
  // The tensor's dimensions with the file's batch size (rank 4 or 2).
  std::vector<int64_t> dims(const Activation& a) const {
    const Shape s = shape(a);
    if (a.rank == 2) return {batch_, s.c};
    return {batch_, s.c, s.h, s.w};
  }

  // ---- layers ---------------------------------------------------------------
  // A readable unique name: a conv, BN or FC is named after its weight
  // (PyTorch's module path, "layer1.0.conv1"); other layers after the node's
  // scope ("/layer1/layer1.0/relu/Relu" -> "layer1.0.relu").
  std::string layer_name(const onnx::NodeProto& n, const std::string& param) const {
    std::string base;
    const std::string suffix = ".weight";
    if (!param.empty() && param.rfind("onnx::", 0) != 0 && param.size() > suffix.size() &&
        param.compare(param.size() - suffix.size(), suffix.size(), suffix) == 0) {
      base = param.substr(0, param.size() - suffix.size());
    }
    if (base.empty() && !n.name().empty()) {
      std::vector<std::string> parts;
      size_t start = 0;
      const std::string& s = n.name();
      while (start <= s.size()) {
        const size_t slash = s.find('/', start);
        const std::string part =
            s.substr(start, slash == std::string::npos ? s.npos : slash - start);
        if (!part.empty()) {
          // "/layer1/layer1.0": the inner scope already holds the outer one.
          if (!parts.empty() && part.rfind(parts.back() + ".", 0) == 0) parts.pop_back();
          parts.push_back(part);
        }
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
      if (parts.size() > 1) {
        // The last part is the op ("Relu", "Relu_1"): dropped when the scope names the layer.
        std::string last = parts.back();
        std::transform(last.begin(), last.end(), last.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        parts.pop_back();
        std::string prev = parts.back();
        std::transform(prev.begin(), prev.end(), prev.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const std::string op_lower = [&] {
          std::string o = n.op_type();
          std::transform(o.begin(), o.end(), o.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          return o;
        }();
        const bool scope_is_layer = prev.rfind(op_lower, 0) == 0 || last == op_lower;
        if (!(scope_is_layer && last == op_lower)) parts.push_back(last);
      }
      for (const auto& p : parts) base += (base.empty() ? "" : ".") + p;
    }
    if (base.empty())
      base = n.output_size() > 0 && !n.output(0).empty() ? n.output(0) : n.op_type();
    std::string name = base;
    for (int k = 2; net_.find(name) >= 0; ++k) name = fmt::format("{}_{}", base, k);
    return name;
  }

  int add_layer(const onnx::NodeProto& n, const std::string& name, LayerAttrs attrs,
                std::vector<int> inputs) {
    const int i = net_.add(name, std::move(attrs), std::move(inputs));
    try {
      net_.infer_shapes();
    } catch (const InputError& e) {
      fail(n, e.what());
    }
    return i;
  }
  // `quant`: the encoding the output keeps from its input (ReLU, clip, max
  // pool, flatten, split, shuffle, a concatenation of equal encodings move
  // quantized values), so a QDQ pair before any of them still reaches the conv.
  void output_layer(const onnx::NodeProto& n, int layer, int rank,
                    std::optional<QuantInfo> quant = std::nullopt) {
    Activation a;
    a.layer = layer;
    a.rank = rank;
    a.quant = quant;
    set(n.output(0), a);
    produced_[layer] = n.output(0);
  }

  // ---- graph input and output -----------------------------------------------
  void add_input() {
    const auto& g = m_.proto.graph();
    std::set<std::string> inits;
    for (const auto& t : g.initializer()) inits.insert(t.name());
    const onnx::ValueInfoProto* in = nullptr;
    for (const auto& v : g.input()) {
      if (inits.count(v.name())) continue;
      if (in) {
        fail_file(
            fmt::format("the model has several inputs ('{}', '{}'); palsim networks read one "
                        "image tensor",
                        in->name(), v.name()));
      }
      in = &v;
    }
    if (!in) fail_file("the model has no graph input");
    if (!in->type().has_tensor_type() || !in->type().tensor_type().has_shape())
      fail_file(fmt::format("input '{}' has no shape", in->name()));
    const auto& dims = in->type().tensor_type().shape().dim();
    if (dims.size() != 4) {
      fail_file(fmt::format("input '{}' has rank {}; palsim reads images (N, C, H, W)", in->name(),
                            dims.size()));
    }
    static const char* kAxes[] = {"batch", "channels", "height", "width"};
    int64_t d[4] = {1, 0, 0, 0};
    for (int k = 0; k < 4; ++k) {
      const auto& dim = dims.Get(k);
      if (dim.has_dim_value() && dim.dim_value() > kMaxExtent) {
        fail_file(fmt::format("input '{}': the {} is {}, beyond palsim's {}", in->name(), kAxes[k],
                              dim.dim_value(), kMaxExtent));
      }
      if (dim.has_dim_value() && dim.dim_value() > 0) {
        d[k] = dim.dim_value();
      } else if (k > 0) {
        fail_file(
            fmt::format("input '{}': the {} (dimension {}) is the dynamic '{}', a shape "
                        "that cannot be resolved; export with a fixed input size",
                        in->name(), kAxes[k], k, dim.dim_param()));
      }
    }
    batch_ = d[0];  // a free batch dimension reads as 1 (palsim's IR is per sample)
    const int layer = net_.add(
        "input",
        InputAttrs{Shape{static_cast<int>(d[1]), static_cast<int>(d[2]), static_cast<int>(d[3])}},
        {});
    net_.infer_shapes();
    Activation a;
    a.layer = layer;
    set(in->name(), a);
    produced_[layer] = in->name();
  }

  void finish_output() {
    const auto& g = m_.proto.graph();
    if (g.output_size() != 1) {
      fail_file(fmt::format("the model has {} outputs; palsim networks have one (the last layer)",
                            g.output_size()));
    }
    auto it = values_.find(g.output(0).name());
    if (it == values_.end() || !std::holds_alternative<Activation>(it->second))
      fail_file(fmt::format("output '{}' is not produced by a layer", g.output(0).name()));
    const int out = std::get<Activation>(it->second).layer;
    if (out != net_.output()) {
      fail_file(
          fmt::format("output '{}' is layer '{}', but layer '{}' comes after it: palsim "
                      "networks end in their output",
                      g.output(0).name(), net_.layer(out).name, net_.layer(net_.output()).name));
    }
  }

  // Every shape ONNX resolved must be the one palsim inferred.
  void check_against_onnx_shapes() const {
    for (const auto& [layer, tensor] : produced_) {
      auto it = m_.inferred_shapes.find(tensor);
      if (it == m_.inferred_shapes.end()) continue;
      const std::vector<int64_t>& onnx_dims = it->second;
      const Shape s = net_.layer(layer).out;
      std::vector<int64_t> ours = {s.c, s.h, s.w};
      if (onnx_dims.size() == 2) ours = {s.elements()};
      if (onnx_dims.size() != ours.size() + 1) continue;
      for (size_t k = 0; k < ours.size(); ++k) {
        if (onnx_dims[k + 1] >= 0 && onnx_dims[k + 1] != ours[k]) {
          fail_file(fmt::format(
              "tensor '{}': ONNX's shape inference gives dimension {} = {}, "
              "palsim's layer '{}' has {} ({})",
              tensor, k + 1, onnx_dims[k + 1], net_.layer(layer).name, ours[k], to_string(s)));
        }
      }
    }
  }

  // ---- precision --------------------------------------------------------------
  QuantInfo quant_info(const onnx::NodeProto& n, int bits, bool is_signed) const {
    if (bits < 2 || bits > 8) {
      fail(n,
           fmt::format("{}-bit quantization: palsim's accelerators run 2..8-bit operands", bits));
    }
    return QuantInfo{bits, is_signed};
  }

  void quantize_linear(const onnx::NodeProto& n, bool dequantize) {
    qdq_ = true;
    // The zero point's type is the integer encoding (uint8 when absent).
    std::optional<QuantInfo> q;
    if (present(n, 2)) {
      const int32_t t = constant(n, 2).tensor->data_type();
      if (t != onnx::TensorProto::INT8 && t != onnx::TensorProto::UINT8)
        fail(n, "the zero point must be int8 or uint8");
      q = quant_info(n, 8, t == onnx::TensorProto::INT8);
    } else if (!dequantize) {
      q = quant_info(n, 8, false);
    }
    const Value& in = value(n, 0);
    if (const auto* a = std::get_if<Activation>(&in)) {
      Activation out = *a;
      if (q) out.quant = q;
      if (!out.quant) fail(n, "dequantizes a tensor that no QuantizeLinear quantized");
      set(n.output(0), out);
    } else if (const auto* c = std::get_if<Constant>(&in)) {
      Constant out = *c;
      if (q) out.quant = q;
      if (!out.quant) {
        const int32_t t = c->tensor->data_type();
        if (t != onnx::TensorProto::INT8 && t != onnx::TensorProto::UINT8)
          fail(n, "dequantizes a constant that is not int8 or uint8");
        out.quant = quant_info(n, 8, t == onnx::TensorProto::INT8);
      }
      set(n.output(0), out);
    } else {
      fail(n, "quantizes an integer shape value");
    }
  }

  void qonnx_quant(const onnx::NodeProto& n) {
    qonnx_ = true;
    const double bits = scalar(n, 3);
    if (!(bits >= 1 && bits <= 64) || bits != std::floor(bits))
      fail(n, fmt::format("bit width {} is not an integer in 1..64", bits));
    const QuantInfo q = quant_info(n, static_cast<int>(bits), int_attribute(n, "signed", 1) != 0);
    const Value& in = value(n, 0);
    if (const auto* a = std::get_if<Activation>(&in)) {
      Activation out = *a;
      out.quant = q;
      set(n.output(0), out);
    } else if (const auto* c = std::get_if<Constant>(&in)) {
      Constant out = *c;
      out.quant = q;
      set(n.output(0), out);
    } else {
      fail(n, "quantizes an integer shape value");
    }
  }

  // A conv's or FC's spec from the quantizers of its input and weights.
  QuantSpec layer_quant(const onnx::NodeProto& n, const Activation& x, const Constant& w,
                        int layer) {
    if (!x.quant && !w.quant) return QuantSpec{};
    if (!x.quant || !w.quant) {
      fail(n,
           fmt::format("its {} quantized but its {} not: palsim needs both operands' widths",
                       w.quant ? "weights are" : "input is", w.quant ? "input is" : "weights are"));
    }
    if (x.quant->is_signed) signed_input_[layer] = n.name();
    QuantSpec q;
    q.quantizer = w.quant->is_signed ? Quantizer::kLsq : Quantizer::kUniform;
    q.w_bits = w.quant->bits;
    q.a_bits = x.quant->bits;
    return q;
  }

  void apply_precision() {
    const bool quantized_file = qdq_ || qonnx_;
    if (quantized_file && opt_.method_given) {
      fail_file(
          fmt::format("--method/--abits/--wbits apply to float models; this one carries its "
                      "own quantization ({} nodes)",
                      qonnx_ ? "QONNX Quant" : "QuantizeLinear/DequantizeLinear"));
    }
    for (const auto& [layer, node] : signed_input_) {
      if (net_.layer(layer).role == LayerRole::kBody) {
        fail_file(
            fmt::format("layer '{}' (node '{}') reads signed activations; palsim's "
                        "accelerators read unsigned activations in the body (only the "
                        "stem and classifier may be signed)",
                        net_.layer(layer).name, node));
      }
    }
    if (quantized_file) return;
    if (opt_.method.method == Method::kPalQuant) {
      throw InputError(
          "--method palquant widens channels and groups convolutions of the built-in "
          "ResNets; an imported model takes fp, lsq, ewgs or bitdecomposed");
    }
    const QuantSpec body = opt_.method.body_quant();
    for (auto& l : net_.mutable_layers()) {
      if (l.role != LayerRole::kBody) continue;
      if (l.is<ConvAttrs>()) l.as<ConvAttrs>().quant = body;
      if (l.is<FcAttrs>()) l.as<FcAttrs>().quant = body;
    }
  }

  // ---- geometry ---------------------------------------------------------------
  // ONNX pads (begin..., end...) as palsim's symmetric padding. Unequal
  // begin and end padding is exact when the output size is the same with the
  // begin padding on both sides: the windows then read the same positions.
  int symmetric_pad(const onnx::NodeProto& n, int in, int extent, int stride, int64_t begin,
                    int64_t end, const char* axis) const {
    if (begin < 0 || end < 0 || begin > kMaxExtent || end > kMaxExtent)
      fail(n, fmt::format("padding must be in 0..{}", kMaxExtent));
    if (begin == end) return static_cast<int>(begin);
    const int64_t out_true = (in + begin + end - extent) / stride + 1;
    const int64_t out_sym = (in + 2 * begin - extent) / stride + 1;
    if (in + begin + end >= extent && in + 2 * begin >= extent && out_true == out_sym)
      return static_cast<int>(begin);
    fail(n, fmt::format("asymmetric padding {} / {} on the {} changes which inputs the layer reads "
                        "(palsim's layers pad both sides equally)",
                        begin, end, axis));
  }

  struct Window {
    int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  };
  Window window(const onnx::NodeProto& n, const Shape& in, int kh, int kw) const {
    Window w;
    w.kh = kh;
    w.kw = kw;
    const std::vector<int64_t> k = ints_attribute(n, "kernel_shape");
    if (!k.empty() && (k.size() != 2 || k[0] != kh || k[1] != kw))
      fail(n, "kernel_shape does not match the weights (or is not 2-D)");
    auto pair = [&](const char* attr, int& a, int& b, int fallback) {
      const std::vector<int64_t> v = ints_attribute(n, attr);
      if (v.empty()) {
        a = b = fallback;
        return;
      }
      if (v.size() != 2) fail(n, fmt::format("{} must have 2 values (a 2-D window)", attr));
      if (v[0] < 1 || v[1] < 1 || v[0] > kMaxExtent || v[1] > kMaxExtent)
        fail(n, fmt::format("{} must be in 1..{}", attr, kMaxExtent));
      a = static_cast<int>(v[0]);
      b = static_cast<int>(v[1]);
    };
    pair("strides", w.sh, w.sw, 1);
    pair("dilations", w.dh, w.dw, 1);
    const int eh = (w.kh - 1) * w.dh + 1, ew = (w.kw - 1) * w.dw + 1;
    std::vector<int64_t> pads = ints_attribute(n, "pads");
    const std::string auto_pad = string_attribute(n, "auto_pad", "NOTSET");
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      // Output ceil(in / stride); the odd pixel of padding at the end (UPPER) or start.
      auto same = [&](int size, int stride, int extent, int64_t& begin, int64_t& end) {
        const int64_t out = (size + stride - 1) / stride;
        const int64_t total = std::max<int64_t>((out - 1) * stride + extent - size, 0);
        begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        end = total - begin;
      };
      pads.assign(4, 0);
      same(in.h, w.sh, eh, pads[0], pads[2]);
      same(in.w, w.sw, ew, pads[1], pads[3]);
    } else if (auto_pad != "NOTSET" && auto_pad != "VALID") {
      fail(n, fmt::format("unknown auto_pad '{}'", auto_pad));
    }
    if (pads.empty() || auto_pad == "VALID") pads.assign(4, 0);
    if (pads.size() != 4) fail(n, "pads must have 4 values (a 2-D window)");
    w.ph = symmetric_pad(n, in.h, eh, w.sh, pads[0], pads[2], "height");
    w.pw = symmetric_pad(n, in.w, ew, w.sw, pads[1], pads[3], "width");
    return w;
  }

  // ---- operators ----------------------------------------------------------------
 public:
  using Handler = void (Converter::*)(const onnx::NodeProto&);
  // The default-domain operators and what reads each: the one list of what
  // palsim imports (supported_onnx_ops() prints it).
  static const std::vector<std::pair<std::string, Handler>>& handlers() {
    static const std::vector<std::pair<std::string, Handler>> table = {
        {"Conv", &Converter::conv},
        {"BatchNormalization", &Converter::batch_norm},
        {"Relu", &Converter::relu},
        {"Clip", &Converter::clip},
        {"Add", &Converter::add},
        {"Concat", &Converter::concat},
        {"MaxPool", &Converter::pool},
        {"AveragePool", &Converter::pool},
        {"GlobalAveragePool", &Converter::global_pool},
        {"ReduceMean", &Converter::reduce_mean},
        {"Gemm", &Converter::fully_connected},
        {"MatMul", &Converter::fully_connected},
        {"Flatten", &Converter::flatten},
        {"Reshape", &Converter::reshape},
        {"Transpose", &Converter::transpose},
        {"Split", &Converter::split},
        {"Slice", &Converter::slice},
        {"Identity", &Converter::pass_through},
        {"Dropout", &Converter::pass_through},
        {"QuantizeLinear", &Converter::quantize},
        {"DequantizeLinear", &Converter::dequantize},
        {"Constant", &Converter::constant_node},
        {"Shape", &Converter::shape_of},
        {"Gather", &Converter::gather},
        {"Unsqueeze", &Converter::pass_ints},
        {"Squeeze", &Converter::pass_ints},
        {"Cast", &Converter::pass_ints},
        {"Sub", &Converter::arithmetic},
        {"Mul", &Converter::arithmetic},
        {"Div", &Converter::arithmetic},
    };
    return table;
  }

 private:
  void node(const onnx::NodeProto& n) {
    if (n.op_type() == "Quant" &&
        (n.domain() == kQonnxDomain || n.domain() == "finn.custom_op.general")) {
      qonnx_quant(n);
      return;
    }
    if (!n.domain().empty() && n.domain() != "ai.onnx") unsupported(n);
    if (n.output_size() < 1) fail(n, "has no output");
    for (const auto& [op, handler] : handlers()) {
      if (op == n.op_type()) {
        (this->*handler)(n);
        return;
      }
    }
    unsupported(n);
  }

  void pass_through(const onnx::NodeProto& n) { set(n.output(0), value(n, 0)); }
  void quantize(const onnx::NodeProto& n) { quantize_linear(n, false); }
  void dequantize(const onnx::NodeProto& n) { quantize_linear(n, true); }

  void batch_norm(const onnx::NodeProto& n) {
    const Activation x = activation(n, 0);
    if (n.output_size() > 1 && !n.output(1).empty())
      fail(n, "training-mode batch norm (running statistics as outputs); export in eval mode");
    const std::string param = present(n, 1) ? n.input(1) : "";
    output_layer(n, add_layer(n, layer_name(n, param), BatchNormAttrs{}, {x.layer}), x.rank);
  }

  void relu(const onnx::NodeProto& n) {
    const Activation x = activation(n, 0);
    output_layer(n, add_layer(n, layer_name(n, ""), ReluAttrs{}, {x.layer}), x.rank, x.quant);
  }

  void global_pool(const onnx::NodeProto& n) {
    const Activation x = rank4(n);
    output_layer(n, add_layer(n, layer_name(n, ""), GlobalAvgPoolAttrs{}, {x.layer}), 4);
  }

  void flatten(const onnx::NodeProto& n) {
    const Activation x = activation(n, 0);
    if (int_attribute(n, "axis", 1) != 1) fail(n, "only axis 1 (keep the batch) is supported");
    if (x.rank == 2) {
      set(n.output(0), x);
    } else {
      output_layer(n, add_layer(n, layer_name(n, ""), FlattenAttrs{}, {x.layer}), 2, x.quant);
    }
  }

  // ---- integer shape values ---------------------------------------------------
  void shape_of(const onnx::NodeProto& n) {
    const Value& v = value(n, 0);
    if (!std::holds_alternative<Activation>(v)) fail(n, "Shape of a constant is not supported");
    set(n.output(0), Ints{dims(std::get<Activation>(v))});
  }

  void gather(const onnx::NodeProto& n) {
    const std::vector<int64_t> data = ints(n, 0), idx = ints(n, 1);
    if (int_attribute(n, "axis", 0) != 0) fail(n, "only axis 0 of a shape vector is supported");
    std::vector<int64_t> out;
    for (int64_t i : idx) {
      const int64_t j = i < 0 ? i + static_cast<int64_t>(data.size()) : i;
      if (j < 0 || j >= static_cast<int64_t>(data.size())) fail(n, "index out of range");
      out.push_back(data[static_cast<size_t>(j)]);
    }
    set(n.output(0), Ints{out});
  }

  void pass_ints(const onnx::NodeProto& n) {
    if (std::holds_alternative<Activation>(value(n, 0))) unsupported(n);
    set(n.output(0), Ints{ints(n, 0)});
  }

  // Only on integer shape values: arithmetic on activations is not a layer palsim has.
  void arithmetic(const onnx::NodeProto& n) {
    if (std::holds_alternative<Activation>(value(n, 0)) ||
        std::holds_alternative<Activation>(value(n, 1)))
      unsupported(n);
    const auto r = integer_arithmetic(n.op_type(), ints(n, 0), ints(n, 1));
    if (!r) fail(n, "cannot evaluate this shape arithmetic");
    set(n.output(0), Ints{*r});
  }

  [[noreturn]] void unsupported(const onnx::NodeProto& n) const {
    fail(n, fmt::format("unsupported operator{} (palsim imports: {})",
                        n.domain().empty() ? "" : fmt::format(" of domain '{}'", n.domain()),
                        fmt::join(supported_onnx_ops(), ", ")));
  }

  Activation rank4(const onnx::NodeProto& n) const {
    const Activation x = activation(n, 0);
    if (x.rank != 4 || x.grouped) fail(n, "expects an (N, C, H, W) tensor");
    return x;
  }

  void constant_node(const onnx::NodeProto& n) {
    const auto* a = find_attribute(n, "value");
    if (!a || !a->has_t()) fail(n, "only Constant nodes with a tensor 'value' are supported");
    set(n.output(0), Constant{&a->t(), std::nullopt});
  }

  void conv(const onnx::NodeProto& n) {
    const Activation x = rank4(n);
    const Constant& w = constant(n, 1);
    const std::vector<int64_t> wd = dims_of(*w.tensor);
    if (wd.size() != 4)
      fail(n, fmt::format("weights of rank {}: palsim reads 2-D convolutions", wd.size()));
    const Shape in = shape(x);
    ConvAttrs a;
    a.out_channels = extent(n, wd[0], "output channels");
    const Window win =
        window(n, in, extent(n, wd[2], "kernel height"), extent(n, wd[3], "kernel width"));
    a.kernel_h = win.kh;
    a.kernel_w = win.kw;
    a.stride_h = win.sh;
    a.stride_w = win.sw;
    a.pad_h = win.ph;
    a.pad_w = win.pw;
    a.dilation_h = win.dh;
    a.dilation_w = win.dw;
    a.groups = extent(n, int_attribute(n, "group", 1), "groups");
    if (a.groups < 1 || wd[1] * a.groups != in.c) {
      fail(n,
           fmt::format("weights ({} input channels per group, {} groups) do not fit the {} input "
                       "channels",
                       wd[1], a.groups, in.c));
    }
    a.bias = present(n, 2);
    const std::string name = layer_name(n, n.input(1));
    const int layer = add_layer(n, name, a, {x.layer});
    net_.mutable_layers()[static_cast<size_t>(layer)].as<ConvAttrs>().quant =
        layer_quant(n, x, w, layer);
    output_layer(n, layer, 4);
  }

  void clip(const onnx::NodeProto& n) {
    const Activation x = activation(n, 0);
    double lo = -INFINITY, hi = INFINITY;
    if (m_.opset < 11) {
      lo = float_attribute(n, "min").value_or(-INFINITY);
      hi = float_attribute(n, "max").value_or(INFINITY);
    } else {
      if (present(n, 1)) lo = scalar(n, 1);
      if (present(n, 2)) hi = scalar(n, 2);
    }
    const std::string name = layer_name(n, "");
    if (lo == 0 && std::isinf(hi)) {
      output_layer(n, add_layer(n, name, ReluAttrs{}, {x.layer}), x.rank, x.quant);
    } else {
      if (std::isinf(lo) || std::isinf(hi)) fail(n, "a clip needs both bounds (or min 0: a ReLU)");
      output_layer(n, add_layer(n, name, ClipAttrs{lo, hi}, {x.layer}), x.rank, x.quant);
    }
  }

  void pool(const onnx::NodeProto& n) {
    const Activation x = rank4(n);
    const std::vector<int64_t> k = ints_attribute(n, "kernel_shape");
    if (k.size() != 2) fail(n, "kernel_shape must have 2 values");
    const Window w =
        window(n, shape(x), extent(n, k[0], "kernel height"), extent(n, k[1], "kernel width"));
    if (w.kh != w.kw || w.sh != w.sw || w.ph != w.pw)
      fail(n, "palsim's pools have square windows, strides and padding");
    if (w.dh != 1 || w.dw != 1) fail(n, "dilated pooling is not supported");
    const Shape in = shape(x);
    if (int_attribute(n, "ceil_mode", 0) != 0) {
      // Rounding up gives another output size unless the windows tile exactly.
      const int extent = in.h + 2 * w.ph - w.kh;
      if (extent % w.sh != 0 || (in.w + 2 * w.pw - w.kw) % w.sw != 0)
        fail(n, "ceil_mode 1 changes the output size here (palsim's pools round down)");
    }
    const std::string name = layer_name(n, "");
    if (n.op_type() == "MaxPool") {
      if (n.output_size() > 1 && !n.output(1).empty())
        fail(n, "the indices output is not supported");
      output_layer(n, add_layer(n, name, MaxPoolAttrs{w.kh, w.sh, w.ph}, {x.layer}), 4, x.quant);
    } else {
      if (w.ph > 0 && int_attribute(n, "count_include_pad", 0) == 0) {
        fail(n,
             "count_include_pad 0 with padding: palsim's average pool divides by the whole "
             "window (count_include_pad 1)");
      }
      output_layer(n, add_layer(n, name, AvgPoolAttrs{w.kh, w.sh, w.ph}, {x.layer}), 4);
    }
  }

  void reduce_mean(const onnx::NodeProto& n) {
    const Activation x = rank4(n);
    std::vector<int64_t> axes = ints_attribute(n, "axes");
    for (auto& a : axes) a = a < 0 ? a + 4 : a;
    std::sort(axes.begin(), axes.end());
    if (axes != std::vector<int64_t>{2, 3})
      fail(n,
           "only the mean over height and width (axes 2, 3: a global average pool) is supported");
    const std::string name = layer_name(n, "");
    const int gap = add_layer(n, name, GlobalAvgPoolAttrs{}, {x.layer});
    if (int_attribute(n, "keepdims", 1) != 0) {
      output_layer(n, gap, 4);
    } else {
      output_layer(n, add_layer(n, name + ".flatten", FlattenAttrs{}, {gap}), 2);
    }
  }

  void fully_connected(const onnx::NodeProto& n) {
    const Activation x = activation(n, 0);
    if (x.grouped) fail(n, "expects a (N, features) tensor");
    const Constant& w = constant(n, 1);
    const std::vector<int64_t> wd = dims_of(*w.tensor);
    if (wd.size() != 2) fail(n, "the weight must be a 2-D matrix");
    const bool gemm = n.op_type() == "Gemm";
    if (gemm &&
        (int_attribute(n, "transA", 0) != 0 || float_attribute(n, "alpha").value_or(1.0f) != 1.0f ||
         float_attribute(n, "beta").value_or(1.0f) != 1.0f)) {
      fail(n, "only Gemm with transA 0, alpha 1 and beta 1 (a linear layer) is supported");
    }
    const bool trans_b = gemm && int_attribute(n, "transB", 0) != 0;
    const int64_t in_features = trans_b ? wd[1] : wd[0];
    const int64_t out_features = trans_b ? wd[0] : wd[1];
    const Shape in = shape(x);
    if (x.rank != 2 && !(in.h == 1 && in.w == 1))
      fail(n, "expects a flattened (N, features) input");
    if (in_features != in.elements()) {
      fail(n, fmt::format("the weight takes {} features, the input has {}", in_features,
                          in.elements()));
    }
    FcAttrs a;
    a.out_features = extent(n, out_features, "output features");
    a.bias = gemm && present(n, 2);
    const int layer = add_layer(n, layer_name(n, n.input(1)), a, {x.layer});
    net_.mutable_layers()[static_cast<size_t>(layer)].as<FcAttrs>().quant =
        layer_quant(n, x, w, layer);
    output_layer(n, layer, 2);
  }

  void add(const onnx::NodeProto& n) {
    const Value& a = value(n, 0);
    const Value& b = value(n, 1);
    if (std::holds_alternative<Ints>(a) || std::holds_alternative<Ints>(b) ||
        (std::holds_alternative<Constant>(a) && std::holds_alternative<Constant>(b))) {
      const auto r = integer_arithmetic("Add", ints(n, 0), ints(n, 1));
      if (!r) fail(n, "cannot evaluate this shape arithmetic");
      set(n.output(0), Ints{*r});
      return;
    }
    if (std::holds_alternative<Activation>(a) && std::holds_alternative<Activation>(b)) {
      const Activation x = std::get<Activation>(a), y = std::get<Activation>(b);
      output_layer(n, add_layer(n, layer_name(n, ""), AddAttrs{}, {x.layer, y.layer}), x.rank);
      return;
    }
    // MatMul + Add of a vector: the FC's bias.
    const Activation x = std::get<Activation>(std::holds_alternative<Activation>(a) ? a : b);
    Layer& l = net_.mutable_layers()[static_cast<size_t>(x.layer)];
    if (!l.is<FcAttrs>() || l.as<FcAttrs>().bias || net_.consumers(x.layer).size() != 0) {
      fail(n, "adds a constant to a tensor; palsim reads that only as the bias of a MatMul");
    }
    l.as<FcAttrs>().bias = true;
    set(n.output(0), x);
    produced_[x.layer] = n.output(0);
  }

  void concat(const onnx::NodeProto& n) {
    if (std::holds_alternative<Ints>(value(n, 0)) ||
        std::holds_alternative<Constant>(value(n, 0))) {
      std::vector<int64_t> out;
      for (int k = 0; k < n.input_size(); ++k) {
        const std::vector<int64_t> v = ints(n, k);
        out.insert(out.end(), v.begin(), v.end());
      }
      set(n.output(0), Ints{out});
      return;
    }
    int64_t axis = int_attribute(n, "axis", 1);
    std::vector<int> inputs;
    std::optional<QuantInfo> quant = activation(n, 0).quant;
    for (int k = 0; k < n.input_size(); ++k) {
      const Activation x = activation(n, k);
      if (x.rank != 4 || x.grouped) fail(n, "expects (N, C, H, W) tensors");
      inputs.push_back(x.layer);
      if (!same_quant(x.quant, quant)) quant.reset();
    }
    if (axis < 0) axis += 4;
    if (axis != 1) fail(n, "only the concatenation of channels (axis 1) is supported");
    output_layer(n, add_layer(n, layer_name(n, ""), ConcatAttrs{}, inputs), 4, quant);
  }

  // Reshape targets: 0 copies the input dimension, -1 takes what is left.
  std::vector<int64_t> resolve_target(const onnx::NodeProto& n, const std::vector<int64_t>& in,
                                      std::vector<int64_t> t) const {
    // 128-bit products: at most 6 factors of at most kMaxExtent each.
    if (t.size() > 6 || in.size() > 6) fail(n, "reshapes of rank above 6 are not supported");
    __int128 total = 1, known = 1;
    for (int64_t d : in) total *= d;
    int infer = -1;
    for (size_t k = 0; k < t.size(); ++k) {
      if (t[k] == 0 && int_attribute(n, "allowzero", 0) == 0) {
        if (k >= in.size()) fail(n, "a 0 in the target shape has no input dimension to copy");
        t[k] = in[k];
      }
      if (t[k] == -1) {
        if (infer >= 0) fail(n, "the target shape has two -1 dimensions");
        infer = static_cast<int>(k);
      } else if (t[k] < 1 || t[k] > kMaxExtent) {
        fail(n, fmt::format("target dimension {} is {}", k, t[k]));
      } else {
        known *= t[k];
      }
    }
    if (infer >= 0) {
      if (total % known != 0) fail(n, "the target shape does not divide the input");
      if (total / known > kMaxExtent) fail(n, "the inferred dimension is too large");
      t[static_cast<size_t>(infer)] = static_cast<int64_t>(total / known);
    }
    __int128 product = 1;
    for (int64_t d : t) product *= d;
    if (product != total) {
      fail(n, fmt::format("the target shape [{}] does not hold the input's [{}] elements",
                          fmt::join(t, ", "), fmt::join(in, ", ")));
    }
    return t;
  }

  void reshape(const onnx::NodeProto& n) {
    const Activation x = activation(n, 0);
    const Shape s = shape(x);
    std::vector<int64_t> in = dims(x);
    if (x.grouped)
      in = {batch_, x.transposed ? s.c / x.grouped : x.grouped,
            x.transposed ? x.grouped : s.c / x.grouped, s.h, s.w};
    const std::vector<int64_t> t = resolve_target(n, in, ints(n, 1));
    if (t[0] != batch_) fail(n, "reshapes across the batch dimension");
    if (x.grouped) {
      // The end of the shuffle idiom: back to (N, C, H, W).
      if (!x.transposed || t != std::vector<int64_t>{batch_, s.c, s.h, s.w})
        fail(
            n,
            "only Reshape -> Transpose(0, 2, 1, 3, 4) -> Reshape (a channel shuffle) is supported");
      output_layer(n, add_layer(n, layer_name(n, ""), ChannelShuffleAttrs{x.grouped}, {x.layer}), 4,
                   x.quant);
      return;
    }
    if (t == dims(x)) {
      set(n.output(0), x);
    } else if (t.size() == 2) {
      if (x.rank == 2) {
        set(n.output(0), x);
      } else {
        output_layer(n, add_layer(n, layer_name(n, ""), FlattenAttrs{}, {x.layer}), 2, x.quant);
      }
    } else if (t.size() == 4 && x.rank == 2 && t[1] == s.c && t[2] == 1 && t[3] == 1) {
      Activation y = x;
      y.rank = 4;
      set(n.output(0), y);
    } else if (t.size() == 5 && x.rank == 4 && t[1] * t[2] == s.c && t[3] == s.h && t[4] == s.w) {
      Activation y = x;
      y.grouped = static_cast<int>(t[1]);
      set(n.output(0), y);
    } else {
      fail(n, fmt::format("a reshape to [{}] is not supported (flatten to (N, features), or the "
                          "Reshape-Transpose-Reshape channel shuffle)",
                          fmt::join(t, ", ")));
    }
  }

  void transpose(const onnx::NodeProto& n) {
    const Activation x = activation(n, 0);
    if (!x.grouped || x.transposed ||
        ints_attribute(n, "perm") != std::vector<int64_t>{0, 2, 1, 3, 4})
      fail(n, "only the Transpose(0, 2, 1, 3, 4) of a channel shuffle is supported");
    Activation y = x;
    y.transposed = true;
    set(n.output(0), y);
  }

  int channel_axis(const onnx::NodeProto& n, const Activation& x, int64_t axis) const {
    if (axis < 0) axis += x.rank;
    if (axis != 1) fail(n, "only channels (axis 1) can be split or sliced");
    return 1;
  }

  void split(const onnx::NodeProto& n) {
    const Activation x = rank4(n);
    channel_axis(n, x, int_attribute(n, "axis", 0));
    const int c = shape(x).c;
    std::vector<int64_t> sizes;
    if (m_.opset >= 13) {
      if (present(n, 1)) sizes = ints(n, 1);
    } else {
      sizes = ints_attribute(n, "split");
    }
    const int parts = n.output_size();
    if (sizes.empty()) {
      if (c % parts != 0)
        fail(n, fmt::format("{} channels do not split into {} equal parts", c, parts));
      sizes.assign(static_cast<size_t>(parts), c / parts);
    }
    if (static_cast<int>(sizes.size()) != parts) fail(n, "split sizes do not match the outputs");
    int offset = 0;
    for (int k = 0; k < parts; ++k) {
      const int size = extent(n, sizes[static_cast<size_t>(k)], "split size");
      if (n.output(k).empty()) {
        offset += size;
        continue;
      }
      const int layer = add_layer(n, layer_name(n, "") + fmt::format(".{}", k),
                                  SplitAttrs{offset, size}, {x.layer});
      Activation a;
      a.layer = layer;
      a.quant = x.quant;
      set(n.output(k), a);
      produced_[layer] = n.output(k);
      offset += size;
    }
  }

  void slice(const onnx::NodeProto& n) {
    const Value& data = value(n, 0);
    std::vector<int64_t> starts, ends, axes, steps;
    if (m_.opset >= 10) {
      starts = ints(n, 1);
      ends = ints(n, 2);
      if (present(n, 3)) axes = ints(n, 3);
      if (present(n, 4)) steps = ints(n, 4);
    } else {
      starts = ints_attribute(n, "starts");
      ends = ints_attribute(n, "ends");
      axes = ints_attribute(n, "axes");
    }
    if (axes.empty())
      for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (starts.size() != ends.size() || axes.size() != starts.size() ||
        steps.size() != starts.size())
      fail(n, "starts, ends, axes and steps differ in length");
    if (!std::holds_alternative<Activation>(data)) {
      // A shape vector.
      if (starts.size() != 1) fail(n, "a slice of a shape vector takes one axis");
      set(n.output(0), Ints{slice_vector(ints(n, 0), starts[0], ends[0], steps[0])});
      return;
    }
    const Activation x = rank4(n);
    const std::vector<int64_t> d = dims(x);
    int64_t first = 0, count = d[1];
    for (size_t k = 0; k < axes.size(); ++k) {
      const int64_t axis = axes[k] < 0 ? axes[k] + 4 : axes[k];
      if (axis < 0 || axis > 3) fail(n, "axis out of range");
      if (steps[k] != 1) fail(n, "only slices with step 1 are supported");
      const int64_t b = clamp_slice_bound(starts[k], d[static_cast<size_t>(axis)], false);
      const int64_t e = clamp_slice_bound(ends[k], d[static_cast<size_t>(axis)], true);
      if (axis != 1) {
        if (b != 0 || e != d[static_cast<size_t>(axis)])
          fail(n, "only channels (axis 1) can be sliced");
        continue;
      }
      if (e <= b) fail(n, "the slice is empty");
      first = b;
      count = e - b;
    }
    if (first == 0 && count == d[1]) {
      set(n.output(0), x);
      return;
    }
    output_layer(n,
                 add_layer(n, layer_name(n, ""),
                           SplitAttrs{static_cast<int>(first), static_cast<int>(count)}, {x.layer}),
                 4, x.quant);
  }

  OnnxModel& m_;
  const OnnxImportOptions& opt_;
  Network net_;
  std::map<std::string, Value> values_;
  std::map<int, std::string> produced_;      // layer -> the ONNX tensor it is
  std::map<int, std::string> signed_input_;  // layer -> node, for layers reading signed inputs
  int64_t batch_ = 1;
  int index_ = -1;
  bool qdq_ = false, qonnx_ = false;
};

}  // namespace

const std::vector<std::string>& supported_onnx_ops() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> names;
    for (const auto& entry : Converter::handlers()) names.push_back(entry.first);
    names.push_back("Quant (QONNX)");
    return names;
  }();
  return ops;
}

OnnxImport import_onnx_bytes(const std::string& bytes, const std::string& path,
                             const OnnxImportOptions& options) {
  OnnxModel m = parse_onnx_model(bytes, path);
  return Converter(m, options).run();
}

OnnxImport import_onnx(const std::string& path, const OnnxImportOptions& options) {
  return import_onnx_bytes(read_file(path), path, options);
}

}  // namespace palsim::frontend
