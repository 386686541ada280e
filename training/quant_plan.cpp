#include "training/quant_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/error.h"
#include "frontend/builders/registry.h"
#include "kernels/conv.h"

namespace palsim::training {

using frontend::HwGraph;
using frontend::HwOp;
using frontend::HwOpKind;
using frontend::LayerRole;
using frontend::Network;

std::string to_string(ActQuant k) {
  switch (k) {
    case ActQuant::kImage:
      return "image";
    case ActQuant::kUniform:
      return "uniform";
    case ActQuant::kLsq:
      return "lsq";
    case ActQuant::kFloat:
      return "float";
  }
  return "?";
}

std::string to_string(WeightQuant k) {
  switch (k) {
    case WeightQuant::kNone:
      return "none";
    case WeightQuant::kUniform:
      return "uniform";
    case WeightQuant::kLsq:
      return "lsq";
  }
  return "?";
}

std::string to_string(ResidualQuant r) {
  return r == ResidualQuant::kShared ? "shared" : "own";
}

ResidualQuant parse_residual_quant(const std::string& s) {
  if (s == "shared") return ResidualQuant::kShared;
  if (s == "own") return ResidualQuant::kOwn;
  throw InputError(fmt::format("unknown residual quantizer '{}' (shared | own)", s));
}

std::string to_string(Int8Scales s) {
  return s == Int8Scales::kTracked ? "tracked" : "learned";
}

Int8Scales parse_int8_scales(const std::string& s) {
  if (s == "tracked") return Int8Scales::kTracked;
  if (s == "learned") return Int8Scales::kLearned;
  throw InputError(fmt::format("unknown int8 scales '{}' (tracked | learned)", s));
}

std::string op_key(const std::string& op, const std::string& what) {
  return "op/" + op + "/" + what;
}
std::string tensor_key(const std::string& tensor, const std::string& what) {
  return "tensor/" + tensor + "/" + what;
}

const OpPlan& ModelPlan::op(const std::string& name) const {
  for (const auto& o : ops) {
    if (o.name == name) return o;
  }
  throw InputError(fmt::format("network '{}' has no hardware op '{}'", network.name(), name));
}

const TensorPlan& ModelPlan::tensor(const std::string& name) const {
  for (const auto& t : tensors) {
    if (t.name == name) return t;
  }
  throw InputError(fmt::format("network '{}' has no tensor '{}'", network.name(), name));
}

std::vector<int> rotated_input_source(const HwOp& op) {
  std::vector<int> src(static_cast<size_t>(op.in.c));
  const int per = op.in.c / std::max(op.groups, 1);
  for (int c = 0; c < op.in.c; ++c) {
    if (op.in_group_rotate == 0 || op.groups <= 1) {
      src[static_cast<size_t>(c)] = c;
      continue;
    }
    const int group = c / per;
    const int from = ((group - op.in_group_rotate) % op.groups + op.groups) % op.groups;
    src[static_cast<size_t>(c)] = from * per + c % per;
  }
  return src;
}

std::vector<int> shuffled_output_source(const HwOp& op) {
  std::vector<int> src(static_cast<size_t>(op.out.c));
  for (int p = 0; p < op.out.c; ++p) {
    src[static_cast<size_t>(p)] =
        op.out_shuffle_groups > 1
            ? kernels::channel_shuffle_source(p, op.out.c, op.out_shuffle_groups)
            : p;
  }
  return src;
}

namespace {

bool has_quantized_layer(const Network& net) {
  for (const auto& l : net.layers()) {
    if (l.is<frontend::ConvAttrs>() && l.as<frontend::ConvAttrs>().quant.quantized()) return true;
    if (l.is<frontend::FcAttrs>() && l.as<frontend::FcAttrs>().quant.quantized()) return true;
  }
  return false;
}

// The lowering needs quantized layers; an fp network is lowered as 8-bit LSQ
// for its structure only.
Network as_quantized_structure(const Network& net) {
  Network copy = net;
  const frontend::QuantSpec q8{frontend::Quantizer::kLsq, 8, 8, 0};
  for (auto& l : copy.mutable_layers()) {
    if (l.is<frontend::ConvAttrs>()) l.as<frontend::ConvAttrs>().quant = q8;
    if (l.is<frontend::FcAttrs>()) l.as<frontend::FcAttrs>().quant = q8;
  }
  return copy;
}

}  // namespace

ModelPlan plan_model(const Network& network, bool float_ends, double ewgs_delta,
                     ResidualQuant residual, Int8Scales int8_scales) {
  ModelPlan p;
  p.network = network;
  p.quantized = has_quantized_layer(network);
  p.float_ends = p.quantized && float_ends;
  p.ewgs_delta = ewgs_delta;
  p.residual = residual;
  p.int8_scales = int8_scales;
  const bool track = int8_scales == Int8Scales::kTracked;
  frontend::LoweringOptions lo;
  lo.fp_layers = frontend::FpLayerTreatment::kInt8;
  lo.batch = 1;
  p.graph = frontend::build_hw_graph(p.quantized ? network : as_quantized_structure(network), lo);
  const HwGraph& g = p.graph;
  if (!p.quantized) {
    p.not_exportable_reason = "an fp network has no quantized layers";
  } else if (p.float_ends) {
    p.not_exportable_reason = "fp_layers: fp keeps the stem and classifier in floating point";
  } else {
    p.exportable = true;
  }
  {
    std::set<std::string> names;
    for (const auto& t : g.tensors) {
      if (!names.insert(t.name).second)
        throw InternalError(fmt::format("two hardware tensors named '{}'", t.name));
    }
  }

  // Ops: weight quantizers.
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const HwOp& op = g.ops[i];
    OpPlan o;
    o.id = static_cast<int>(i);
    o.name = op.name;
    o.kind = op.kind;
    if (op.kind == HwOpKind::kConv) {
      const int li = network.find(op.name);
      if (li < 0) throw InternalError(fmt::format("hardware op '{}' has no IR layer", op.name));
      const frontend::Layer& l = network.layer(li);
      o.fc = l.is<frontend::FcAttrs>();
      o.bias = o.fc ? l.as<frontend::FcAttrs>().bias : l.as<frontend::ConvAttrs>().bias;
      const bool float_op = !p.quantized || (p.float_ends && op.role != LayerRole::kBody);
      if (!float_op) {
        o.weight_quant = op.uniform_quantizer ? WeightQuant::kUniform : WeightQuant::kLsq;
        o.w_bits = op.w_bits;
        o.alpha = op.uniform_quantizer;
        o.ewgs = op.uniform_quantizer && ewgs_delta > 0;
        o.tracked = track && op.role != LayerRole::kBody && o.weight_quant == WeightQuant::kLsq;
      }
      o.weight_shape = {op.out.c, op.in.c / op.groups, op.kh, op.kw};
      for (const std::string& name : op.layers) {
        const int bi = network.find(name);
        if (bi >= 0 && network.layer(bi).is<frontend::BatchNormAttrs>()) o.bn = name;
      }
    }
    p.ops.push_back(o);
  }

  // Tensors: one quantizer per group of tensors whose levels must mean the
  // same thing (quant_plan.h): a view and the tensor that owns its space, a
  // max pool's or a copy's output and its input. The group's quantizer is its
  // lowest tensor id (an owner; for a max pool, its input, as before views).
  p.tensors.resize(g.tensors.size());
  std::vector<int> parent(g.tensors.size());
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    TensorPlan& tp = p.tensors[t];
    tp.id = static_cast<int>(t);
    tp.name = g.tensors[t].name;
    tp.bits = g.tensors[t].bits;
    parent[t] = tp.id;
  }
  auto root = [&](int t) {
    while (parent[static_cast<size_t>(t)] != t) t = parent[static_cast<size_t>(t)];
    return t;
  };
  auto join = [&](int a, int b) {
    a = root(a);
    b = root(b);
    if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  };
  for (const auto& t : g.tensors) {
    if (t.is_view()) join(t.id, t.view_of);
  }
  for (const HwOp& op : g.ops) {
    if (op.kind == HwOpKind::kMaxPool || op.kind == HwOpKind::kCopy) join(op.output, op.input);
  }
  // Residual-only groups (no op reads a member as its input) and the ops
  // that add them.
  std::vector<bool> read_as_input(g.tensors.size(), false);
  std::vector<int> adders(g.tensors.size(), 0), added_into(g.tensors.size(), -1);
  for (const HwOp& op : g.ops) {
    read_as_input[static_cast<size_t>(root(op.input))] = true;
    if (op.residual < 0) continue;
    const size_t r = static_cast<size_t>(root(op.residual));
    ++adders[r];
    added_into[r] = op.output;
  }
  std::vector<bool> residual_only(g.tensors.size(), false);
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    residual_only[t] = p.quantized && root(static_cast<int>(t)) == static_cast<int>(t) &&
                       !read_as_input[t] && adders[t] > 0;
  }
  if (residual == ResidualQuant::kShared && p.quantized) {
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      if (!residual_only[t]) continue;
      const int sum = added_into[t];
      const bool shareable = adders[t] == 1 && sum != g.output_tensor &&
                             g.tensors[static_cast<size_t>(sum)].bits == g.tensors[t].bits;
      if (shareable) {
        p.tensors[t].defers_init = true;
        join(static_cast<int>(t), sum);
      } else {
        p.tensors[t].signed_init = true;
      }
    }
  }
  for (auto& tp : p.tensors) {
    tp.quantizer = root(tp.id);
    tp.features = g.tensors[static_cast<size_t>(tp.quantizer)].shape.elements();
    if (tp.bits != g.tensors[static_cast<size_t>(tp.quantizer)].bits) {
      throw InternalError(fmt::format("tensors '{}' and '{}' share a quantizer but not a width",
                                      tp.name, p.tensors[static_cast<size_t>(tp.quantizer)].name));
    }
  }

  // Readers of every quantizer group.
  struct Readers {
    bool uniform_conv = false, lsq_conv = false, body = false, any = false;
  };
  std::vector<Readers> readers(g.tensors.size());
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const HwOp& op = g.ops[i];
    const OpPlan& o = p.ops[i];
    auto note = [&](int t, bool as_input) {
      Readers& r = readers[static_cast<size_t>(root(t))];
      r.any = true;
      if (op.role == LayerRole::kBody) r.body = true;
      if (as_input && op.kind == HwOpKind::kConv) {
        if (o.weight_quant == WeightQuant::kUniform) r.uniform_conv = true;
        if (o.weight_quant == WeightQuant::kLsq) r.lsq_conv = true;
      }
    };
    note(op.input, true);
    if (op.residual >= 0) note(op.residual, false);
  }
  for (auto& tp : p.tensors) {
    if (tp.quantizer != tp.id) continue;
    const Readers& r = readers[static_cast<size_t>(tp.id)];
    if (tp.id == g.input_tensor) {
      tp.kind = ActQuant::kImage;
    } else if (tp.id == g.output_tensor || !p.quantized || !r.any) {
      tp.kind = ActQuant::kFloat;
    } else if (p.float_ends && !r.body) {
      tp.kind = ActQuant::kFloat;
    } else if (r.uniform_conv) {
      tp.kind = ActQuant::kUniform;
    } else if (r.lsq_conv) {
      tp.kind = ActQuant::kLsq;
      // Read by the 8-bit stand-ins only (the FC's input).
      tp.tracked = track && !r.body;
    } else {
      tp.kind = ActQuant::kUniform;  // residual / pool readers only: affine levels
    }
    tp.ewgs = tp.kind == ActQuant::kUniform && ewgs_delta > 0;
  }
  for (auto& tp : p.tensors) {
    if (tp.quantizer == tp.id) continue;
    const TensorPlan& q = p.tensors[static_cast<size_t>(tp.quantizer)];
    tp.kind = q.kind;
    tp.ewgs = q.ewgs;
    tp.tracked = q.tracked;
  }
  // The signed rule sets bounds only; an LSQ (unsigned) group ignores it.
  for (auto& tp : p.tensors) tp.signed_init = tp.signed_init && tp.kind == ActQuant::kUniform;
  // The image feeds the network as its 8-bit pixels.
  const TensorPlan& image = p.tensors[static_cast<size_t>(g.input_tensor)];
  if (p.quantized && image.bits != 8) {
    throw InputError(fmt::format(
        "network '{}': its input is read at {} bits, but the trainer feeds 8-bit pixels "
        "(give the first layer 8-bit activations or a stem)",
        network.name(), image.bits));
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    OpPlan& o = p.ops[i];
    const TensorPlan& in = p.tensors[static_cast<size_t>(g.ops[i].input)];
    o.reads_dequantized = o.kind == HwOpKind::kConv && o.weight_quant != WeightQuant::kUniform &&
                          in.kind == ActQuant::kUniform;
  }
  return p;
}

std::vector<ParamSpec> parameter_specs(const ModelPlan& p) {
  std::vector<ParamSpec> specs;
  auto add = [&](std::string name, std::vector<int64_t> shape, ParamGroup group) {
    specs.push_back(ParamSpec{std::move(name), std::move(shape), group});
  };
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const OpPlan& o = p.ops[i];
    if (o.kind != HwOpKind::kConv) continue;
    const int64_t out = o.weight_shape[0];
    add(op_key(o.name, "weight"), o.weight_shape, ParamGroup::kWeights);
    if (o.bias) add(op_key(o.name, "bias"), {out}, ParamGroup::kWeights);
    if (o.weight_quant == WeightQuant::kUniform) {
      add(op_key(o.name, "alpha"), {}, ParamGroup::kQuantizers);
      add(op_key(o.name, "wq/lower"), {}, ParamGroup::kQuantizers);
      add(op_key(o.name, "wq/upper"), {}, ParamGroup::kQuantizers);
    } else if (o.weight_quant == WeightQuant::kLsq) {
      add(op_key(o.name, "wq/step"), {},
          o.tracked ? ParamGroup::kBuffers : ParamGroup::kQuantizers);
    }
    if (!o.bn.empty()) {
      add(op_key(o.name, "bn/weight"), {out}, ParamGroup::kWeights);
      add(op_key(o.name, "bn/bias"), {out}, ParamGroup::kWeights);
      add(op_key(o.name, "bn/running_mean"), {out}, ParamGroup::kBuffers);
      add(op_key(o.name, "bn/running_var"), {out}, ParamGroup::kBuffers);
    }
  }
  for (const TensorPlan& t : p.tensors) {
    if (t.quantizer != t.id) continue;
    if (t.kind == ActQuant::kUniform) {
      add(tensor_key(t.name, "lower"), {}, ParamGroup::kQuantizers);
      add(tensor_key(t.name, "upper"), {}, ParamGroup::kQuantizers);
    } else if (t.kind == ActQuant::kLsq) {
      add(tensor_key(t.name, "step"), {},
          t.tracked ? ParamGroup::kBuffers : ParamGroup::kQuantizers);
    }
  }
  return specs;
}

Network build_network(const TrainConfig& config) {
  try {
    return frontend::resolve_network(config.network_request());
  } catch (const FileError&) {
    throw;  // a network file's own error, with its file and line
  } catch (const InputError& e) {
    config.fail("network", fmt::format("cannot build the network: {}", e.what()));
  }
}

ModelPlan plan_from_config(const TrainConfig& config) {
  const Network net = build_network(config);
  ModelPlan plan;
  try {
    plan = plan_model(net, config.network.fp_layers == "fp", config.training.ewgs_delta,
                      parse_residual_quant(config.network.residual_quantizer),
                      parse_int8_scales(config.network.int8_scales));
  } catch (const FileError&) {
    throw;
  } catch (const InputError& e) {
    config.fail("network",
                fmt::format("the trainer executes the network as the accelerator's hardware graph, "
                            "which it cannot be lowered to: {}",
                            e.what()));
  }
  if (config.training.ewgs_delta > 0) {
    bool uniform = false;
    for (const auto& o : plan.ops) uniform = uniform || o.weight_quant == WeightQuant::kUniform;
    if (!uniform)
      config.fail("training.ewgs_delta",
                  "the network has no uniform-quantized layer for EWGS to scale");
  }
  return plan;
}

}  // namespace palsim::training
