#include "frontend/ir/network_yaml.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/input_file.h"
#include "common/yaml_reader.h"

namespace palsim::frontend {

namespace {

void read_pair(YamlMap& m, const std::string& key, int& a, int& b, int min) {
  if (!m.has(key)) return;
  YAML::Node n = m.raw(key);
  if (n.IsSequence()) {
    std::vector<int> v;
    m.read(key, v, min, 1 << 20);
    if (v.size() != 2) m.fail(key, "expected one integer or a list of two");
    a = v[0];
    b = v[1];
  } else {
    int v = 0;
    m.read(key, v, min, 1 << 20);
    a = b = v;
  }
}

QuantSpec read_quant(YamlMap& layer) {
  QuantSpec q;
  if (!layer.has("quant")) return q;
  YamlMap m = layer.child("quant");
  std::string quantizer;
  m.read_choice("quantizer", quantizer, {"none", "lsq", "uniform"});
  if (quantizer == "none") {
    m.finish();
    return q;
  }
  q.quantizer = quantizer == "lsq" ? Quantizer::kLsq : Quantizer::kUniform;
  m.read("w_bits", q.w_bits, 2, 8);
  m.read("a_bits", q.a_bits, 2, 8);
  m.read_optional("slice_bits", q.slice_bits, 0, 4);
  if (q.slice_bits == 3) m.fail("slice_bits", "must be 0 (not decomposed), 1, 2 or 4");
  m.finish();
  return q;
}

LayerAttrs read_attrs(YamlMap& m, const std::string& op) {
  if (op == "input") {
    std::vector<int> shape;
    m.read("shape", shape, 1, 1 << 20);
    if (shape.size() != 3) m.fail("shape", "expected [channels, height, width]");
    return InputAttrs{Shape{shape[0], shape[1], shape[2]}};
  }
  if (op == "conv") {
    ConvAttrs a;
    m.read("out_channels", a.out_channels, 1, 1 << 20);
    if (!m.has("kernel")) m.fail("kernel", "missing required key 'kernel'");
    read_pair(m, "kernel", a.kernel_h, a.kernel_w, 1);
    read_pair(m, "stride", a.stride_h, a.stride_w, 1);
    read_pair(m, "padding", a.pad_h, a.pad_w, 0);
    read_pair(m, "dilation", a.dilation_h, a.dilation_w, 1);
    m.read_optional("groups", a.groups, 1, 1 << 20);
    m.read_optional("bias", a.bias);
    a.quant = read_quant(m);
    return a;
  }
  if (op == "batchnorm") return BatchNormAttrs{};
  if (op == "relu") return ReluAttrs{};
  if (op == "clip") {
    ClipAttrs a;
    m.read("min", a.min);
    m.read("max", a.max);
    return a;
  }
  if (op == "maxpool" || op == "avgpool") {
    int kernel = 2, stride = -1, pad = 0;
    m.read("kernel", kernel, 1, 1 << 16);
    m.read_optional("stride", stride, 1, 1 << 16);
    m.read_optional("padding", pad, 0, 1 << 16);
    if (stride < 0) stride = kernel;
    if (op == "maxpool") return MaxPoolAttrs{kernel, stride, pad};
    return AvgPoolAttrs{kernel, stride, pad};
  }
  if (op == "global_avgpool") return GlobalAvgPoolAttrs{};
  if (op == "add") return AddAttrs{};
  if (op == "channel_shuffle") {
    ChannelShuffleAttrs a;
    m.read("groups", a.groups, 1, 1 << 16);
    return a;
  }
  if (op == "cyclic_permute") {
    CyclicPermuteAttrs a;
    m.read("groups", a.groups, 1, 1 << 16);
    std::string dir = "paper";
    m.read_choice_optional("direction", dir, {"paper", "reference"});
    a.direction = dir == "paper" ? +1 : -1;
    return a;
  }
  if (op == "fc") {
    FcAttrs a;
    m.read("out_features", a.out_features, 1, 1 << 24);
    m.read_optional("bias", a.bias);
    a.quant = read_quant(m);
    return a;
  }
  if (op == "flatten") return FlattenAttrs{};
  if (op == "split") {
    SplitAttrs a;
    m.read_optional("offset", a.offset, 0, 1 << 20);
    m.read("channels", a.channels, 1, 1 << 20);
    return a;
  }
  if (op == "concat") return ConcatAttrs{};
  m.fail("op", fmt::format("unknown op '{}' (one of: {})", op, fmt::join(op_names(), ", ")));
}

}  // namespace

Network parse_network_yaml(const std::string& text, const std::string& file) {
  YAML::Node root = parse_yaml_text(text, file);
  YamlMap doc(root, file, "");
  std::string format;
  doc.read("format", format);
  if (format != kNetworkFormat) {
    doc.fail("format", fmt::format("unsupported network format '{}' (this palsim reads '{}')",
                                   format, kNetworkFormat));
  }
  std::string name;
  doc.read("name", name);
  Network net(name);
  std::vector<YamlMap> layers = doc.list_of_maps("layers");
  if (layers.empty()) doc.fail("layers", "a network needs at least one layer");
  std::vector<SourceLocation> where;
  for (auto& m : layers) {
    Layer l;
    m.read("name", l.name);
    if (l.name.empty()) m.fail("name", "a layer name must not be empty");
    std::string op;
    m.read_choice("op", op, op_names());
    l.attrs = read_attrs(m, op);
    std::string role = "body";
    m.read_choice_optional("role", role, {"body", "stem", "classifier"});
    l.role = role == "stem"         ? LayerRole::kStem
             : role == "classifier" ? LayerRole::kClassifier
                                    : LayerRole::kBody;
    std::vector<std::string> inputs;
    if (m.has("inputs")) {
      m.read("inputs", inputs);
    } else if (op != "input" && net.size() > 0) {
      inputs.push_back(net.layers().back().name);
    }
    for (const auto& in : inputs) {
      const int idx = net.find(in);
      if (idx < 0) m.fail("inputs", fmt::format("no earlier layer is called '{}'", in));
      l.inputs.push_back(idx);
    }
    if (net.find(l.name) >= 0) m.fail("name", fmt::format("duplicate layer name '{}'", l.name));
    m.finish();
    where.push_back(m.location());
    net.add(std::move(l));
  }
  doc.finish();
  try {
    net.infer_shapes();
  } catch (const InputError& e) {
    // Point at the layer's line: find which layer failed by name in the message.
    for (int i = 0; i < net.size(); ++i) {
      const std::string tag = fmt::format("layer '{}' ", net.layer(i).name);
      if (std::string(e.what()).rfind(tag, 0) == 0) {
        const SourceLocation& loc = where[static_cast<size_t>(i)];
        throw FileError(loc.file, loc.line, loc.column, fmt::format("layers[{}]", i), e.what());
      }
    }
    throw FileError(file, 0, 0, "layers", e.what());
  }
  return net;
}

Network load_network_yaml(const std::string& path) {
  return parse_network_yaml(read_text_file(path), path);
}

namespace {

void emit_quant(YAML::Emitter& out, const QuantSpec& q) {
  out << YAML::Key << "quant" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "quantizer" << YAML::Value << to_string(q.quantizer);
  if (q.quantized()) {
    out << YAML::Key << "w_bits" << YAML::Value << q.w_bits;
    out << YAML::Key << "a_bits" << YAML::Value << q.a_bits;
    if (q.slice_bits) out << YAML::Key << "slice_bits" << YAML::Value << q.slice_bits;
  }
  out << YAML::EndMap;
}

void emit_pair(YAML::Emitter& out, const char* key, int a, int b) {
  out << YAML::Key << key << YAML::Value;
  if (a == b) {
    out << a;
  } else {
    out << YAML::Flow << YAML::BeginSeq << a << b << YAML::EndSeq;
  }
}

}  // namespace

std::string network_to_yaml(const Network& net) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << kNetworkFormat;
  out << YAML::Key << "name" << YAML::Value << net.name();
  out << YAML::Key << "layers" << YAML::Value << YAML::BeginSeq;
  for (int i = 0; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << l.name;
    out << YAML::Key << "op" << YAML::Value << l.op();
    const bool implicit_input = l.inputs.size() == 1 && l.inputs[0] == i - 1;
    if (!l.inputs.empty() && !implicit_input) {
      out << YAML::Key << "inputs" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (int in : l.inputs) out << net.layer(in).name;
      out << YAML::EndSeq;
    }
    if (l.role != LayerRole::kBody) out << YAML::Key << "role" << YAML::Value << to_string(l.role);
    if (l.is<InputAttrs>()) {
      const Shape s = l.as<InputAttrs>().shape;
      out << YAML::Key << "shape" << YAML::Value << YAML::Flow << YAML::BeginSeq << s.c << s.h
          << s.w << YAML::EndSeq;
    } else if (l.is<ConvAttrs>()) {
      const auto& a = l.as<ConvAttrs>();
      out << YAML::Key << "out_channels" << YAML::Value << a.out_channels;
      emit_pair(out, "kernel", a.kernel_h, a.kernel_w);
      emit_pair(out, "stride", a.stride_h, a.stride_w);
      emit_pair(out, "padding", a.pad_h, a.pad_w);
      if (a.dilation_h != 1 || a.dilation_w != 1)
        emit_pair(out, "dilation", a.dilation_h, a.dilation_w);
      out << YAML::Key << "groups" << YAML::Value << a.groups;
      out << YAML::Key << "bias" << YAML::Value << a.bias;
      emit_quant(out, a.quant);
    } else if (l.is<MaxPoolAttrs>() || l.is<AvgPoolAttrs>()) {
      const int k =
          l.is<MaxPoolAttrs>() ? l.as<MaxPoolAttrs>().kernel : l.as<AvgPoolAttrs>().kernel;
      const int s =
          l.is<MaxPoolAttrs>() ? l.as<MaxPoolAttrs>().stride : l.as<AvgPoolAttrs>().stride;
      const int p = l.is<MaxPoolAttrs>() ? l.as<MaxPoolAttrs>().pad : l.as<AvgPoolAttrs>().pad;
      out << YAML::Key << "kernel" << YAML::Value << k;
      out << YAML::Key << "stride" << YAML::Value << s;
      out << YAML::Key << "padding" << YAML::Value << p;
    } else if (l.is<ChannelShuffleAttrs>()) {
      out << YAML::Key << "groups" << YAML::Value << l.as<ChannelShuffleAttrs>().groups;
    } else if (l.is<CyclicPermuteAttrs>()) {
      const auto& a = l.as<CyclicPermuteAttrs>();
      out << YAML::Key << "groups" << YAML::Value << a.groups;
      out << YAML::Key << "direction" << YAML::Value << (a.direction > 0 ? "paper" : "reference");
    } else if (l.is<ClipAttrs>()) {
      out << YAML::Key << "min" << YAML::Value << l.as<ClipAttrs>().min;
      out << YAML::Key << "max" << YAML::Value << l.as<ClipAttrs>().max;
    } else if (l.is<SplitAttrs>()) {
      out << YAML::Key << "offset" << YAML::Value << l.as<SplitAttrs>().offset;
      out << YAML::Key << "channels" << YAML::Value << l.as<SplitAttrs>().channels;
    } else if (l.is<FcAttrs>()) {
      const auto& a = l.as<FcAttrs>();
      out << YAML::Key << "out_features" << YAML::Value << a.out_features;
      out << YAML::Key << "bias" << YAML::Value << a.bias;
      emit_quant(out, a.quant);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace palsim::frontend
