#include "training/train_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "training/optim.h"
#include "training/quantizers.h"
#include "training/trained_model.h"

namespace palsim::training {

using frontend::HwOp;
using frontend::HwOpKind;

namespace {

constexpr double kBnMomentum = 0.1;
constexpr double kBnEps = 1e-5;
constexpr double kPi = 3.14159265358979323846;

torch::Tensor index_tensor(const std::vector<int64_t>& v) {
  return torch::tensor(v, torch::TensorOptions().dtype(torch::kLong));
}

}  // namespace

TrainModel::TrainModel(const ModelPlan& plan, uint64_t seed, torch::Dtype dtype)
    : plan_(plan), dtype_(dtype), specs_(parameter_specs(plan)) {
  if (dtype_ != torch::kFloat && dtype_ != torch::kDouble)
    throw InternalError("TrainModel: dtype must be float or double");
  for (const ParamSpec& s : specs_) {
    torch::Tensor t = torch::zeros(s.shape, torch::TensorOptions().dtype(dtype_));
    if (s.group != ParamGroup::kBuffers) t.set_requires_grad(true);
    values_[s.name] = t;
  }
  const auto& g = plan_.graph;
  ops_.resize(g.ops.size());
  tensors_.resize(g.tensors.size());
  at::Generator gen = at::detail::createCPUGenerator(seed);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const HwOp& op = g.ops[i];
    const OpPlan& o = plan_.ops[i];
    OpState& s = ops_[i];
    if (op.out_shuffle_groups > 1) {
      const std::vector<int> src = shuffled_output_source(op);
      s.shuffle_index = index_tensor(std::vector<int64_t>(src.begin(), src.end()));
    }
    if (op.kind != HwOpKind::kConv) continue;
    s.weight = values_.at(op_key(o.name, "weight"));
    const int64_t fan_in = o.weight_shape[1] * o.weight_shape[2] * o.weight_shape[3];
    const int64_t fan_out = o.weight_shape[0] * o.weight_shape[2] * o.weight_shape[3];
    if (o.fc) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      s.weight.uniform_(-bound, bound, gen);
    } else {
      s.weight.normal_(0.0, std::sqrt(2.0 / static_cast<double>(fan_out)), gen);
    }
    if (o.bias) {
      s.bias = values_.at(op_key(o.name, "bias"));
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      s.bias.uniform_(-bound, bound, gen);
    }
    if (o.weight_quant == WeightQuant::kUniform) {
      s.alpha = values_.at(op_key(o.name, "alpha"));
      s.w_lower = values_.at(op_key(o.name, "wq/lower"));
      s.w_upper = values_.at(op_key(o.name, "wq/upper"));
      s.alpha.fill_(1.0);
      s.w_lower.fill_(-1.0);
      s.w_upper.fill_(1.0);
    } else if (o.weight_quant == WeightQuant::kLsq) {
      s.w_step = values_.at(op_key(o.name, "wq/step"));
      s.w_step.fill_(1.0);
      const double qp = static_cast<double>((1 << (o.w_bits - 1)) - 1);
      s.w_grad_scale = 1.0 / std::sqrt(static_cast<double>(s.weight.numel()) * qp);
    }
    if (!o.bn.empty()) {
      s.bn_weight = values_.at(op_key(o.name, "bn/weight"));
      s.bn_bias = values_.at(op_key(o.name, "bn/bias"));
      s.bn_mean = values_.at(op_key(o.name, "bn/running_mean"));
      s.bn_var = values_.at(op_key(o.name, "bn/running_var"));
      s.bn_weight.fill_(1.0);
      s.bn_var.fill_(1.0);
    }
    if (op.in_group_rotate != 0) {
      const std::vector<int> src = rotated_input_source(op);
      s.rotate_index = index_tensor(std::vector<int64_t>(src.begin(), src.end()));
    }
  }
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const TensorPlan& tp = plan_.tensors[t];
    TensorState& s = tensors_[t];
    const TensorPlan& q = plan_.tensors[static_cast<size_t>(tp.quantizer)];
    if (q.kind == ActQuant::kUniform) {
      s.lower = values_.at(tensor_key(q.name, "lower"));
      s.upper = values_.at(tensor_key(q.name, "upper"));
      if (tp.quantizer == tp.id) s.upper.fill_(1.0);
    } else if (q.kind == ActQuant::kLsq) {
      s.step = values_.at(tensor_key(q.name, "step"));
      if (tp.quantizer == tp.id) s.step.fill_(1.0);
      const double qp = static_cast<double>((1 << tp.bits) - 1);
      s.grad_scale = 1.0 / std::sqrt(static_cast<double>(tp.features) * qp);
    }
  }
  // Which representations the readers of each quantizer group need (a
  // group's members are parts, views and copies of one encoding).
  auto group_of = [&](int t) -> TensorState& {
    return tensors_[static_cast<size_t>(plan_.tensors[static_cast<size_t>(t)].quantizer)];
  };
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const HwOp& op = g.ops[i];
    const OpPlan& o = plan_.ops[i];
    TensorState& in = group_of(op.input);
    if (op.kind == HwOpKind::kConv && o.weight_quant == WeightQuant::kUniform) {
      in.need_act = true;
    } else if (op.kind == HwOpKind::kMaxPool) {
      in.need_act = true;
    } else if (op.kind != HwOpKind::kCopy) {
      in.need_deq = true;
    }
    if (op.residual >= 0) group_of(op.residual).need_deq = true;
  }
  plan_reads();
}

// Which tensor (and channel) holds each channel a reader may ask for: an op's
// output is written whole; a tensor no op writes (a concatenation's storage,
// a split view) is gathered from the writers of its owner's channels.
void TrainModel::plan_reads() {
  const auto& g = plan_.graph;
  std::vector<bool> written(g.tensors.size(), false);
  written[static_cast<size_t>(g.input_tensor)] = true;
  for (const HwOp& op : g.ops) written[static_cast<size_t>(op.output)] = true;
  // Per owner: owner channel -> (writer tensor, its channel).
  std::vector<std::vector<std::pair<int, int>>> writer(g.tensors.size());
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (!written[t]) continue;
    const frontend::HwTensor& w = g.tensors[t];
    const int owner = g.storage_of(static_cast<int>(t));
    auto& map = writer[static_cast<size_t>(owner)];
    map.resize(static_cast<size_t>(g.tensors[static_cast<size_t>(owner)].shape.c), {-1, -1});
    for (int c = 0; c < w.shape.c; ++c) {
      const int oc = w.is_view() ? w.view_offset + w.view_stride * c : c;
      if (map[static_cast<size_t>(oc)].first >= 0) {
        throw InternalError(fmt::format("channel {} of tensor '{}' has two writers", oc,
                                        g.tensors[static_cast<size_t>(owner)].name));
      }
      map[static_cast<size_t>(oc)] = {static_cast<int>(t), c};
    }
  }
  reads_.assign(g.tensors.size(), Gather());
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (written[t]) continue;
    const frontend::HwTensor& x = g.tensors[t];
    const auto& map = writer[static_cast<size_t>(g.storage_of(static_cast<int>(t)))];
    Gather& r = reads_[t];
    std::vector<int> base;  // channel offset of each part in their concatenation
    int total = 0;
    std::vector<int64_t> index;
    for (int c = 0; c < x.shape.c; ++c) {
      const int oc = x.is_view() ? x.view_offset + x.view_stride * c : c;
      if (static_cast<size_t>(oc) >= map.size() || map[static_cast<size_t>(oc)].first < 0) {
        // Nothing writes it: no reader may ask for it (e.g. the FC's float
        // output has no views).
        r.parts.clear();
        break;
      }
      const auto [w, wc] = map[static_cast<size_t>(oc)];
      auto it = std::find(r.parts.begin(), r.parts.end(), w);
      if (it == r.parts.end()) {
        r.parts.push_back(w);
        base.push_back(total);
        total += g.tensors[static_cast<size_t>(w)].shape.c;
        it = r.parts.end() - 1;
      }
      index.push_back(base[static_cast<size_t>(it - r.parts.begin())] + wc);
    }
    if (r.parts.empty()) continue;
    bool identity = total == x.shape.c;
    for (size_t c = 0; c < index.size(); ++c)
      identity = identity && index[c] == static_cast<int64_t>(c);
    if (!identity) r.index = index_tensor(index);
  }
}

torch::Tensor& TrainModel::value(const std::string& name) {
  auto it = values_.find(name);
  if (it == values_.end()) throw InternalError(fmt::format("the model has no value '{}'", name));
  return it->second;
}

std::vector<torch::Tensor> TrainModel::group(ParamGroup g) const {
  std::vector<torch::Tensor> out;
  for (const ParamSpec& s : specs_) {
    if (s.group == g) out.push_back(values_.at(s.name));
  }
  return out;
}

std::vector<std::string> TrainModel::group_names(ParamGroup g) const {
  std::vector<std::string> out;
  for (const ParamSpec& s : specs_) {
    if (s.group == g) out.push_back(s.name);
  }
  return out;
}

void TrainModel::init_weight_quantizer(size_t i) {
  const OpPlan& o = plan_.ops[i];
  OpState& s = ops_[i];
  torch::NoGradGuard no_grad;
  if (o.weight_quant == WeightQuant::kUniform) {
    const float sd = s.weight.std().item<float>();
    s.w_upper.fill_(sd * 3.0f);
    s.w_lower.fill_(-sd * 3.0f);
    if (!(s.w_upper.item<float>() > s.w_lower.item<float>())) {
      s.w_lower.fill_(-1.0);
      s.w_upper.fill_(1.0);
    }
  } else if (o.tracked) {
    track_weight_step(i);
  } else if (o.weight_quant == WeightQuant::kLsq) {
    const double qp = static_cast<double>((1 << (o.w_bits - 1)) - 1);
    const double st = 2.0 * s.weight.abs().mean().item<double>() / std::sqrt(qp);
    s.w_step.fill_(st > 1e-8 ? st : 1e-8);
  }
}

void TrainModel::track_weight_step(size_t i) {
  const OpPlan& o = plan_.ops[i];
  OpState& s = ops_[i];
  torch::NoGradGuard no_grad;
  const double qp = static_cast<double>((1 << (o.w_bits - 1)) - 1);
  const double st = s.weight.abs().max().item<double>() / qp;
  s.w_step.fill_(st > 1e-8 ? st : 1e-8);
}

void TrainModel::init_tensor_quantizer(size_t t, const torch::Tensor& y) {
  const TensorPlan& tp = plan_.tensors[t];
  // The first member of a group the pass reaches initializes its quantizer.
  if (initialized_groups_[static_cast<size_t>(tp.quantizer)]) return;
  initialized_groups_[static_cast<size_t>(tp.quantizer)] = true;
  TensorState& s = tensors_[t];
  torch::NoGradGuard no_grad;
  if (tp.kind == ActQuant::kUniform && tp.signed_init) {
    // A signed tensor (a BN output): the post-ReLU rule below would put the
    // lower bound at its minimum and leave 0 between two levels at 2 bits.
    // 6 std split into 2^b - 1 steps, with 0 a level.
    const double levels = static_cast<double>((1 << tp.bits) - 1);
    double step = 6.0 * y.std().item<double>() / levels;
    if (!(step > 1e-6)) step = 1.0 / levels;
    const double lo = -std::floor(levels / 2.0) * step;
    s.lower.fill_(lo);
    s.upper.fill_(lo + levels * step);
  } else if (tp.kind == ActQuant::kUniform) {
    const double lo = y.min().item<double>();
    const double hi = y.std().item<double>() / std::sqrt(1.0 - 2.0 / kPi) * 3.0;
    s.lower.fill_(lo);
    s.upper.fill_(hi);
    if (!(s.upper.item<float>() > s.lower.item<float>() + 1e-6f))
      s.upper.fill_(s.lower.item<float>() + 1.0f);
  } else if (tp.kind == ActQuant::kLsq) {
    const double qp = static_cast<double>((1 << tp.bits) - 1);
    const double st = tp.tracked ? y.max().item<double>() / qp
                                 : 2.0 * y.abs().mean().item<double>() / std::sqrt(qp);
    s.step.fill_(st > 1e-8 ? st : 1e-8);
  }
}

void TrainModel::project_quantizers() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < ops_.size(); ++i) {
    OpState& s = ops_[i];
    if (plan_.ops[i].tracked) track_weight_step(i);
    if (s.w_step.defined()) s.w_step.clamp_min_(1e-8);
    if (s.w_lower.defined() && !(s.w_upper.item<float>() >= s.w_lower.item<float>() + 1e-6f)) {
      s.w_upper.fill_(s.w_lower.item<float>() + 1e-6f);
    }
  }
  for (size_t t = 0; t < tensors_.size(); ++t) {
    if (plan_.tensors[t].quantizer != static_cast<int>(t)) continue;
    TensorState& s = tensors_[t];
    if (s.step.defined()) s.step.clamp_min_(1e-8);
    if (s.lower.defined() && !(s.upper.item<float>() >= s.lower.item<float>() + 1e-6f)) {
      s.upper.fill_(s.lower.item<float>() + 1e-6f);
    }
  }
}

void TrainModel::load_values(const ArrayFile& f) {
  for (const ParamSpec& s : specs_) get_tensor(f, s.name, values_.at(s.name));
}

torch::Tensor TrainModel::quantized_weight(const std::string& op) {
  for (size_t i = 0; i < plan_.ops.size(); ++i) {
    if (plan_.ops[i].name == op && plan_.ops[i].kind == HwOpKind::kConv) {
      torch::NoGradGuard no_grad;
      return quantized_weight(i).detach();
    }
  }
  throw InputError(fmt::format("the model has no conv op '{}'", op));
}

torch::Tensor TrainModel::quantized_weight(size_t i) {
  const OpPlan& o = plan_.ops[i];
  OpState& s = ops_[i];
  // The weight levels are always the single-precision quantizer's (the
  // trained ones); a double model widens the levels and computes the value
  // they stand for in double.
  const bool wide = dtype_ != torch::kFloat;
  const auto trained = [&](const torch::Tensor& t) { return wide ? t.to(torch::kFloat) : t; };
  switch (o.weight_quant) {
    case WeightQuant::kNone:
      return s.weight;
    case WeightQuant::kUniform: {
      const torch::Tensor a =
          uniform_quantize(trained(s.weight), trained(s.w_lower), trained(s.w_upper), o.w_bits,
                           o.ewgs ? plan_.ewgs_delta : 0.0);
      if (!wide) return (a - 0.5) * 2.0;
      // w_hat = (2 q - L) / L from the level q = a L (a = q / L within an ulp).
      const double levels = static_cast<double>((1 << o.w_bits) - 1);
      const torch::Tensor q = torch::round(a * static_cast<float>(levels)).to(dtype_);
      return (q * 2.0 - levels) / levels;
    }
    case WeightQuant::kLsq: {
      const int qmin = -(1 << (o.w_bits - 1)), qmax = (1 << (o.w_bits - 1)) - 1;
      const torch::Tensor step = trained(s.w_step);
      const torch::Tensor w = lsq_quantize(trained(s.weight), step, qmin, qmax, s.w_grad_scale);
      if (!wide) return w;
      // q s_w from the level q = w / s_w (within an ulp of an integer).
      return torch::round(w / step).to(dtype_) * s.w_step;
    }
  }
  throw InternalError("quantized_weight: unknown quantizer");
}

TrainModel::Value TrainModel::quantize(size_t t, const torch::Tensor& y) {
  const TensorPlan& tp = plan_.tensors[t];
  TensorState& s = tensors_[t];
  Value v;
  if (init_pass_) {
    v.raw = y;
    if (tp.defers_init && !initialized_groups_[static_cast<size_t>(tp.quantizer)]) {
      // The group's bounds come from the sum this tensor is added into; until
      // then it is the reference's full-precision branch.
      v.act = v.deq = y;
      return v;
    }
    init_tensor_quantizer(t, y);
  }
  if (record_) {
    v.raw = y;
    (*record_)[t] = y.detach();
  }
  switch (tp.kind) {
    case ActQuant::kImage:
    case ActQuant::kFloat:
      v.act = v.deq = y;
      break;
    case ActQuant::kUniform: {
      const torch::Tensor a =
          uniform_quantize(y, s.lower, s.upper, tp.bits, tp.ewgs ? plan_.ewgs_delta : 0.0);
      v.act = a;
      if (tensors_[static_cast<size_t>(tp.quantizer)].need_deq)
        v.deq = s.lower + (s.upper - s.lower) * a;
      break;
    }
    case ActQuant::kLsq:
      if (tp.tracked && training_ && !init_pass_) {
        // Running average of the batch maximum (the step is a buffer, as BN's
        // statistics: updated in training, used as is in evaluation).
        torch::NoGradGuard no_grad;
        const double qp = static_cast<double>((1 << tp.bits) - 1);
        const double batch = y.max().item<double>() / qp;
        const double st = (1.0 - kBnMomentum) * s.step.item<double>() + kBnMomentum * batch;
        s.step.fill_(st > 1e-8 ? st : 1e-8);
      }
      v.act = v.deq = lsq_quantize(y, s.step, 0, (1 << tp.bits) - 1, s.grad_scale);
      break;
  }
  return v;
}

namespace {

// f applied to every defined representation of a value, keeping the act and
// deq of an LSQ tensor one tensor.
template <typename F>
void map_value(const torch::Tensor& act, const torch::Tensor& deq, const torch::Tensor& raw,
               torch::Tensor& act_out, torch::Tensor& deq_out, torch::Tensor& raw_out, F f) {
  act_out = act.defined() ? f(act) : act;
  deq_out = deq.defined() && act.defined() && deq.is_same(act) ? act_out
            : deq.defined()                                    ? f(deq)
                                                               : deq;
  raw_out = raw.defined() ? f(raw) : raw;
}

}  // namespace

const TrainModel::Value& TrainModel::read(std::vector<Value>& vals, int t) {
  Value& v = vals[static_cast<size_t>(t)];
  if (v.act.defined() || v.deq.defined()) return v;
  const Gather& r = reads_[static_cast<size_t>(t)];
  if (r.parts.empty()) {
    throw InternalError(fmt::format("tensor '{}' is read but nothing writes it",
                                    plan_.graph.tensors[static_cast<size_t>(t)].name));
  }
  // Parts concatenated along channels, then the channels in this tensor's order.
  bool act = true, deq = true, raw = true, same = true;
  for (int w : r.parts) {
    const Value& p = vals[static_cast<size_t>(w)];
    if (!p.act.defined() && !p.deq.defined()) {
      throw InternalError(fmt::format("tensor '{}' is read before '{}' is written",
                                      plan_.graph.tensors[static_cast<size_t>(t)].name,
                                      plan_.graph.tensors[static_cast<size_t>(w)].name));
    }
    act = act && p.act.defined();
    deq = deq && p.deq.defined();
    raw = raw && p.raw.defined();
    same = same && p.act.defined() && p.deq.defined() && p.deq.is_same(p.act);
  }
  auto gather = [&](torch::Tensor Value::*field) {
    std::vector<torch::Tensor> parts;
    for (int w : r.parts) parts.push_back(vals[static_cast<size_t>(w)].*field);
    torch::Tensor x = parts.size() == 1 ? parts[0] : torch::cat(parts, 1);
    return r.index.defined() ? x.index_select(1, r.index) : x;
  };
  if (act) v.act = gather(&Value::act);
  if (deq) v.deq = same ? v.act : gather(&Value::deq);
  if (raw) v.raw = gather(&Value::raw);
  return v;
}

torch::Tensor TrainModel::forward(const torch::Tensor& images, bool training) {
  const auto& g = plan_.graph;
  training_ = training;
  if (record_) record_->assign(g.tensors.size(), torch::Tensor());
  std::vector<Value> vals(g.tensors.size());
  vals[static_cast<size_t>(g.input_tensor)] = quantize(static_cast<size_t>(g.input_tensor), images);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const HwOp& op = g.ops[i];
    const OpPlan& o = plan_.ops[i];
    OpState& s = ops_[i];
    const Value& in = read(vals, op.input);
    if (op.kind == HwOpKind::kConv) {
      if (init_pass_) init_weight_quantizer(i);
      torch::Tensor x = o.weight_quant == WeightQuant::kUniform ? in.act : in.deq;
      if (s.rotate_index.defined()) x = x.index_select(1, s.rotate_index);
      torch::Tensor w = quantized_weight(i);
      torch::Tensor bias = s.bias;
      const bool whole_input =
          op.kh == op.in.h && op.kw == op.in.w && op.ph == 0 && op.pw == 0 && op.groups == 1;
      const auto apply = [&](const torch::Tensor& weight, const torch::Tensor& b) {
        if (o.fc && whole_input) {
          return torch::linear(x.flatten(1), weight.flatten(1), b).unsqueeze(2).unsqueeze(3);
        }
        return torch::conv2d(x, weight, b, {op.sh, op.sw}, {op.ph, op.pw}, {op.dh, op.dw},
                             op.groups);
      };
      if (o.alpha) {
        if (init_pass_) {
          // alpha = mean|conv(x, W)| / mean|conv(x_hat, w_hat)| (the float input, before its
          // quantizer).
          torch::NoGradGuard no_grad;
          torch::Tensor raw = in.raw.defined() ? in.raw : in.deq;
          if (s.rotate_index.defined()) raw = raw.index_select(1, s.rotate_index);
          const torch::Tensor ref = torch::conv2d(raw, s.weight, s.bias, {op.sh, op.sw},
                                                  {op.ph, op.pw}, {op.dh, op.dw}, op.groups);
          const double num = ref.abs().mean().item<double>();
          const double den = apply(w, bias).abs().mean().item<double>();
          s.alpha.fill_(den > 0 ? num / den : 1.0);
        }
        // |alpha| conv(x, w_hat) (+ bias), applied to the (small) weights:
        // the same function, without a pass over the output.
        const torch::Tensor scale = s.alpha.abs();
        w = w * scale;
        if (bias.defined()) bias = bias * scale;
      }
      torch::Tensor y = apply(w, bias);
      if (s.bn_weight.defined()) {
        y = torch::batch_norm(y, s.bn_weight, s.bn_bias, s.bn_mean, s.bn_var, training, kBnMomentum,
                              kBnEps, false);
      }
      if (op.relu_before_residual) y = torch::relu(y);
      if (s.shuffle_index.defined()) y = y.index_select(1, s.shuffle_index);
      if (op.residual >= 0) y = y + read(vals, op.residual).deq;
      if (op.relu_after_residual) y = torch::relu(y);
      vals[static_cast<size_t>(op.output)] = quantize(static_cast<size_t>(op.output), y);
    } else if (op.kind == HwOpKind::kMaxPool || op.kind == HwOpKind::kCopy) {
      // Both keep the encoding: they move (the max of) quantized values.
      Value v;
      const auto move = [&](const torch::Tensor& t) {
        if (op.kind == HwOpKind::kMaxPool)
          return torch::max_pool2d(t, {op.kh, op.kw}, {op.sh, op.sw}, {op.ph, op.pw});
        return s.shuffle_index.defined() ? t.index_select(1, s.shuffle_index) : t;
      };
      map_value(in.act, in.deq, in.raw, v.act, v.deq, v.raw, move);
      if (record_)
        (*record_)[static_cast<size_t>(op.output)] = v.raw.defined() ? v.raw.detach() : v.raw;
      vals[static_cast<size_t>(op.output)] = v;
    } else {
      torch::Tensor y;
      if (op.kind == HwOpKind::kAvgPool) {
        y = torch::avg_pool2d(in.deq, {op.kh, op.kw}, {op.sh, op.sw}, {op.ph, op.pw}, false, true);
      } else {
        y = in.deq.mean({2, 3}, true);
      }
      vals[static_cast<size_t>(op.output)] = quantize(static_cast<size_t>(op.output), y);
    }
  }
  if (record_) {
    // Tensors no op writes whole (concatenations, split views): their
    // gathered values.
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      if ((*record_)[t].defined() || reads_[t].parts.empty()) continue;
      const Value& v = read(vals, static_cast<int>(t));
      if (v.raw.defined()) (*record_)[t] = v.raw.detach();
    }
  }
  return vals[static_cast<size_t>(g.output_tensor)].deq.flatten(1);
}

void TrainModel::initialize_quantizers(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  init_pass_ = true;
  initialized_groups_.assign(plan_.tensors.size(), false);
  try {
    forward(images, true);
  } catch (...) {
    init_pass_ = false;
    throw;
  }
  init_pass_ = false;
  initialized_ = true;
}

struct TrainedEvaluator::Impl {
  Impl(const TrainedModel& model, Arithmetic a)
      : input(model.graph().tensors[static_cast<size_t>(model.graph().input_tensor)].shape),
        output(model.graph().output_tensor),
        tensors(model.graph().tensors.size()),
        dtype(a == Arithmetic::kFloat64 ? torch::kDouble : torch::kFloat),
        net(model.plan(), 0, dtype) {
    net.load_values(model.values());
    net.set_quantizers_initialized(true);
  }

  // The logits of `count` images; with `record`, every tensor's value before
  // its quantizer is stored there too (TrainModel::set_record).
  torch::Tensor run(const std::vector<uint8_t>& images, int count,
                    std::vector<torch::Tensor>* record) {
    if (count < 1 ||
        images.size() != static_cast<size_t>(count) * static_cast<size_t>(input.elements())) {
      throw InputError(fmt::format("trained_tensor_values: {} bytes for {} images of {}",
                                   images.size(), count, frontend::to_string(input)));
    }
    std::vector<uint8_t> copy = images;
    torch::Tensor x = torch::from_blob(copy.data(), {count, input.c, input.h, input.w},
                                       torch::TensorOptions().dtype(torch::kUInt8))
                          .to(dtype);
    x.div_(255.0);
    net.set_record(record);
    torch::NoGradGuard no_grad;
    torch::Tensor logits = net.forward(x, false);
    net.set_record(nullptr);
    return logits;
  }

  frontend::Shape input;
  int output;
  size_t tensors;
  torch::Dtype dtype;
  TrainModel net;
};

namespace {

std::vector<double> to_doubles(const torch::Tensor& t) {
  const torch::Tensor v = t.to(torch::kDouble).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

}  // namespace

TrainedEvaluator::TrainedEvaluator(const TrainedModel& model, Arithmetic a, int threads) {
  if (threads > 0) torch::set_num_threads(threads);
  impl_ = std::make_unique<Impl>(model, a);
}

TrainedEvaluator::~TrainedEvaluator() = default;

std::vector<std::vector<double>> TrainedEvaluator::tensor_values(const std::vector<uint8_t>& images,
                                                                 int count) {
  std::vector<torch::Tensor> record;
  const torch::Tensor logits = impl_->run(images, count, &record);
  std::vector<std::vector<double>> out(impl_->tensors);
  for (size_t t = 0; t < record.size(); ++t) {
    const torch::Tensor& v = static_cast<int>(t) == impl_->output ? logits : record[t];
    if (v.defined()) out[t] = to_doubles(v);
  }
  return out;
}

std::vector<double> TrainedEvaluator::logits(const std::vector<uint8_t>& images, int count) {
  return to_doubles(impl_->run(images, count, nullptr));
}

std::vector<std::vector<double>> trained_tensor_values(const TrainedModel& model,
                                                       const std::vector<uint8_t>& images,
                                                       int count, int threads, Arithmetic a) {
  return TrainedEvaluator(model, a, threads).tensor_values(images, count);
}

std::vector<double> trained_logits(const TrainedModel& model, const std::vector<uint8_t>& images,
                                   int count, int threads, Arithmetic a) {
  return TrainedEvaluator(model, a, threads).logits(images, count);
}

}  // namespace palsim::training
