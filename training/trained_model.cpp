#include "training/trained_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "frontend/ir/network_yaml.h"
#include "kernels/quantize.h"
#include "training/trainer.h"

namespace palsim::training {

namespace fs = std::filesystem;

int32_t TrainedTensor::level(float x) const {
  switch (kind) {
    case ActQuant::kImage: {
      const kernels::UniformQuantizer q{8, 0.0f, 1.0f};
      return q.quantize(x);
    }
    case ActQuant::kUniform: {
      const kernels::UniformQuantizer q{bits, lower, upper};
      return q.quantize(x);
    }
    case ActQuant::kLsq: {
      const kernels::LsqQuantizer q{bits, false, step};
      return q.quantize(x);
    }
    case ActQuant::kFloat:
      break;
  }
  throw InputError(fmt::format("tensor '{}' is not quantized", name));
}

int32_t TrainedTensor::level_exact(double x) const {
  if (std::isnan(x)) throw InputError(fmt::format("tensor '{}': NaN value", name));
  // Half to even, as the single-precision quantizers (the default rounding mode).
  const auto round_clamped = [](double v, double hi) {
    return static_cast<int32_t>(std::nearbyint(std::min(std::max(v, 0.0), hi)));
  };
  switch (kind) {
    case ActQuant::kImage:
      return round_clamped(x * 255.0, 255.0);
    case ActQuant::kUniform: {
      const double l = lower, u = upper;
      const double xn = std::min(std::max((x - l) / (u - l), 0.0), 1.0);
      return round_clamped(xn * max_level(), max_level());
    }
    case ActQuant::kLsq:
      return round_clamped(x / static_cast<double>(step), max_level());
    case ActQuant::kFloat:
      break;
  }
  throw InputError(fmt::format("tensor '{}' is not quantized", name));
}

const char* to_string(Arithmetic a) {
  return a == Arithmetic::kFloat32 ? "float32" : "float64";
}

float TrainedTensor::normalized(int32_t q) const {
  return static_cast<float>(q) / static_cast<float>(max_level());
}

float TrainedTensor::value(int32_t q) const {
  switch (kind) {
    case ActQuant::kImage:
      return static_cast<float>(q) / 255.0f;
    case ActQuant::kUniform:
      return lower + (upper - lower) * normalized(q);
    case ActQuant::kLsq:
      return static_cast<float>(q) * step;
    case ActQuant::kFloat:
      break;
  }
  throw InputError(fmt::format("tensor '{}' is not quantized", name));
}

std::vector<int32_t> TrainedOp::weight_levels() const {
  std::vector<int32_t> q(weight.size());
  if (weight_quant == WeightQuant::kUniform) {
    const kernels::UniformQuantizer u{w_bits, w_lower, w_upper};
    for (size_t i = 0; i < weight.size(); ++i) q[i] = u.quantize(weight[i]);
  } else if (weight_quant == WeightQuant::kLsq) {
    const kernels::LsqQuantizer l{w_bits, true, w_step};
    for (size_t i = 0; i < weight.size(); ++i) q[i] = l.quantize(weight[i]);
  } else {
    throw InputError(fmt::format("op '{}' has unquantized weights", name));
  }
  return q;
}

float TrainedOp::weight_value(int32_t q) const {
  if (weight_quant == WeightQuant::kUniform) {
    const kernels::UniformQuantizer u{w_bits, w_lower, w_upper};
    return u.weight_value(q);
  }
  if (weight_quant == WeightQuant::kLsq) return static_cast<float>(q) * w_step;
  throw InputError(fmt::format("op '{}' has unquantized weights", name));
}

const TrainedOp& TrainedModel::op(const std::string& name) const {
  for (const auto& o : ops_) {
    if (o.name == name) return o;
  }
  throw InputError(fmt::format("trained model: no hardware op '{}'", name));
}

const TrainedTensor& TrainedModel::tensor(const std::string& name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return t;
  }
  throw InputError(fmt::format("trained model: no tensor '{}'", name));
}

namespace {

std::vector<float> floats_of(const ArrayFile& f, const std::string& file, const std::string& key,
                             const std::vector<int64_t>& shape) {
  const NamedArray& a = f.get(key);
  if (a.dtype != DType::kFloat32 || a.shape != shape) {
    throw InputError(
        fmt::format("{}: entry '{}' does not have the shape the network needs", file, key));
  }
  return a.floats();
}

float scalar_of(const ArrayFile& f, const std::string& file, const std::string& key) {
  return floats_of(f, file, key, {})[0];
}

}  // namespace

TrainedModel TrainedModel::load(const std::string& path) {
  std::error_code ec;
  const std::string file =
      fs::is_directory(path, ec) ? (fs::path(path) / kCheckpointFile).string() : path;
  TrainedModel m;
  m.file_ = ArrayFile::read(file);
  const ArrayFile& f = m.file_;
  if (!f.has("meta/format") || f.get_text("meta/format") != kCheckpointFormat) {
    throw InputError(fmt::format("{}: not a palsim training checkpoint", file));
  }
  const frontend::Network net =
      frontend::parse_network_yaml(f.get_text("meta/network"), file + " (meta/network)");
  const NamedArray& delta = f.get("meta/ewgs_delta");
  double ewgs_delta = 0;
  if (delta.dtype != DType::kFloat64 || delta.data.size() != 8) {
    throw InputError(fmt::format("{}: bad entry meta/ewgs_delta", file));
  }
  std::memcpy(&ewgs_delta, delta.data.data(), 8);
  // Checkpoints from before the option was trained with their own quantizer.
  const ResidualQuant residual = f.has("meta/residual_quantizer")
                                     ? parse_residual_quant(f.get_text("meta/residual_quantizer"))
                                     : ResidualQuant::kOwn;
  const Int8Scales int8 = f.has("meta/int8_scales")
                              ? parse_int8_scales(f.get_text("meta/int8_scales"))
                              : Int8Scales::kLearned;
  m.plan_ = plan_model(net, f.get_int64("meta/float_ends") != 0, ewgs_delta, residual, int8);
  m.epochs_trained_ = static_cast<int>(f.get_int64("meta/epoch"));
  m.epochs_ = static_cast<int>(f.get_int64("meta/epochs"));
  m.config_yaml_ = f.get_text("meta/config");
  for (const ParamSpec& s : parameter_specs(m.plan_))
    floats_of(f, file, s.name, s.shape);  // all present

  const auto& g = m.plan_.graph;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const OpPlan& p = m.plan_.ops[i];
    TrainedOp o;
    o.id = p.id;
    o.name = p.name;
    o.kind = p.kind;
    o.weight_quant = p.weight_quant;
    o.w_bits = p.w_bits;
    o.bn = p.bn;
    if (p.kind == frontend::HwOpKind::kConv) {
      o.weight_shape = p.weight_shape;
      o.weight = floats_of(f, file, op_key(p.name, "weight"), p.weight_shape);
      const std::vector<int64_t> per_channel = {p.weight_shape[0]};
      if (p.bias) o.bias = floats_of(f, file, op_key(p.name, "bias"), per_channel);
      if (p.weight_quant == WeightQuant::kUniform) {
        o.alpha = scalar_of(f, file, op_key(p.name, "alpha"));
        o.w_lower = scalar_of(f, file, op_key(p.name, "wq/lower"));
        o.w_upper = scalar_of(f, file, op_key(p.name, "wq/upper"));
      } else if (p.weight_quant == WeightQuant::kLsq) {
        o.w_step = scalar_of(f, file, op_key(p.name, "wq/step"));
      }
      if (!p.bn.empty()) {
        o.bn_weight = floats_of(f, file, op_key(p.name, "bn/weight"), per_channel);
        o.bn_bias = floats_of(f, file, op_key(p.name, "bn/bias"), per_channel);
        o.bn_running_mean = floats_of(f, file, op_key(p.name, "bn/running_mean"), per_channel);
        o.bn_running_var = floats_of(f, file, op_key(p.name, "bn/running_var"), per_channel);
      }
    }
    m.ops_.push_back(std::move(o));
  }
  for (const TensorPlan& p : m.plan_.tensors) {
    TrainedTensor t;
    t.id = p.id;
    t.name = p.name;
    t.kind = p.kind;
    t.bits = p.bits;
    t.quantizer = p.quantizer;
    t.ewgs = p.ewgs;
    const std::string& q = m.plan_.tensors[static_cast<size_t>(p.quantizer)].name;
    if (p.kind == ActQuant::kUniform) {
      t.lower = scalar_of(f, file, tensor_key(q, "lower"));
      t.upper = scalar_of(f, file, tensor_key(q, "upper"));
    } else if (p.kind == ActQuant::kLsq) {
      t.step = scalar_of(f, file, tensor_key(q, "step"));
    } else if (p.kind == ActQuant::kImage) {
      t.bits = 8;
    }
    m.tensors_.push_back(std::move(t));
  }
  return m;
}

}  // namespace palsim::training
