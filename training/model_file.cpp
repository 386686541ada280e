#include "training/model_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/input_file.h"
#include "frontend/ir/network_yaml.h"
#include "training/array_file.h"

namespace palsim::training {

using frontend::HwGraph;
using frontend::HwOp;
using frontend::HwOpKind;

namespace {

constexpr int64_t kReluBefore = 1, kHasResidual = 2, kReluAfter = 4;

std::string key(const std::string& op, const char* what) {
  return "op/" + op + "/" + what;
}

// The final FC: the op writing the graph's output tensor. The logits are read
// from its accumulators, so it must write them unpermuted and without a
// residual or ReLU (the trainer's classifier never has them).
const HwOp& final_fc(const HwGraph& g, const std::string& name) {
  for (const HwOp& op : g.ops) {
    if (op.output != g.output_tensor) continue;
    if (op.kind != HwOpKind::kConv) {
      throw InputError(
          fmt::format("{}: the network ends in a {}, not an FC", name, to_string(op.kind)));
    }
    if (op.residual >= 0 || op.relu_before_residual || op.relu_after_residual ||
        op.in_group_rotate != 0 || op.out_shuffle_groups > 1) {
      throw InputError(fmt::format(
          "{}: the final op '{}' adds a residual, a ReLU or a channel permutation; logits "
          "are read from plain FC accumulators",
          name, op.name));
    }
    return op;
  }
  throw InputError(fmt::format("{}: no op writes the network's output tensor", name));
}

std::string shape_text(const std::vector<int64_t>& s) {
  return fmt::format("[{}]", fmt::join(s, ", "));
}

// Reads the file's arrays, checking each against the shape the network needs.
class EntryReader {
 public:
  EntryReader(const ArrayFile& f, std::string name) : f_(f), name_(std::move(name)) {}

  const NamedArray& get(const std::string& k, DType type, const std::vector<int64_t>& shape) {
    used_.insert(k);
    if (!f_.has(k)) {
      throw InputError(
          fmt::format("{}: has no entry '{}' (the file does not match its network)", name_, k));
    }
    const NamedArray& a = f_.get(k);
    if (a.dtype != type) {
      throw InputError(fmt::format("{}: entry '{}' has the wrong element type", name_, k));
    }
    if (a.shape != shape) {
      throw InputError(fmt::format("{}: entry '{}' has shape {}, the network needs {}", name_, k,
                                   shape_text(a.shape), shape_text(shape)));
    }
    return a;
  }
  std::vector<int64_t> int64s(const std::string& k, const std::vector<int64_t>& shape) {
    return get(k, DType::kInt64, shape).int64s();
  }
  int64_t int64(const std::string& k) { return int64s(k, {})[0]; }
  int64_t int64_in(const std::string& k, int64_t lo, int64_t hi) {
    const int64_t v = int64(k);
    if (v < lo || v > hi) {
      throw InputError(fmt::format("{}: entry '{}' = {} outside {}..{}", name_, k, v, lo, hi));
    }
    return v;
  }
  std::vector<double> doubles(const std::string& k, const std::vector<int64_t>& shape) {
    const NamedArray& a = get(k, DType::kFloat64, shape);
    std::vector<double> v(a.data.size() / 8);
    if (!v.empty()) std::memcpy(v.data(), a.data.data(), a.data.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v[i])) {
        throw InputError(fmt::format("{}: entry '{}' element {} is not finite", name_, k, i));
      }
    }
    return v;
  }
  std::vector<float> floats(const std::string& k, const std::vector<int64_t>& shape) {
    return get(k, DType::kFloat32, shape).floats();
  }
  std::string text(const std::string& k) {
    used_.insert(k);
    return f_.get_text(k);
  }
  bool has(const std::string& k) const { return f_.has(k); }
  // Every entry must have been read: an extra one means another network.
  void check_all_used() const {
    for (const auto& [k, a] : f_.arrays()) {
      if (!used_.count(k)) {
        throw InputError(fmt::format(
            "{}: unexpected entry '{}' (the file does not match its network)", name_, k));
      }
    }
  }

 private:
  const ArrayFile& f_;
  std::string name_;
  std::set<std::string> used_;
};

kernels::IntTensor weights_from(const std::vector<int64_t>& v, const std::vector<int64_t>& shape,
                                const std::string& name, const std::string& k) {
  kernels::IntTensor t(static_cast<int>(shape[0]), static_cast<int>(shape[1]),
                       static_cast<int>(shape[2]), static_cast<int>(shape[3]));
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < std::numeric_limits<int32_t>::min() || v[i] > std::numeric_limits<int32_t>::max()) {
      throw InputError(
          fmt::format("{}: entry '{}' element {} = {} is not a weight level", name, k, i, v[i]));
    }
    t.values()[i] = static_cast<int32_t>(v[i]);
  }
  return t;
}

// Format 1 holds convolutions (and FCs), pools and copies.
void check_kind(const HwOp& op, const std::string& name) {
  if (op.kind != HwOpKind::kConv && op.kind != HwOpKind::kMaxPool &&
      op.kind != HwOpKind::kAvgPool && op.kind != HwOpKind::kGlobalAvgPool &&
      op.kind != HwOpKind::kCopy) {
    throw InputError(
        fmt::format("{}: op '{}' is a {}; integer model format {} holds convolutions, "
                    "FCs, pools and copies only",
                    name, op.name, to_string(op.kind), kIntegerModelVersion));
  }
}

// Max pools and copies move levels: no requantization, only the output range.
bool moves_levels(const HwOp& op) {
  return op.kind == HwOpKind::kMaxPool || op.kind == HwOpKind::kCopy;
}

std::vector<int64_t> weight_shape(const HwOp& op) {
  return {op.out.c, op.in.c / op.groups, op.kh, op.kw};
}

// Everything that does not need the container: the graph's checks on the
// parameters, the logits, the reference. Messages are prefixed with `name`.
void check_model(const IntegerModelFile& f, const std::string& name) {
  try {
    frontend::validate_model(f.graph, [&] {
      // validate_model checks the input too; the file has none (set per image).
      frontend::IntegerModel m;
      const frontend::HwTensor& in = f.graph.tensors[static_cast<size_t>(f.graph.input_tensor)];
      m.input = kernels::IntTensor(in.batch, in.shape.c, in.shape.h, in.shape.w);
      m.ops = f.model.ops;
      return m;
    }());
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", name, e.what()));
  }
  const HwOp& fc = final_fc(f.graph, name);
  const size_t classes = static_cast<size_t>(fc.out.c);
  if (f.logit_scale.size() != classes || f.logit_offset.size() != classes) {
    throw InputError(fmt::format("{}: {} logit scales and {} offsets for {} classes", name,
                                 f.logit_scale.size(), f.logit_offset.size(), classes));
  }
  if (!(f.input_scale > 0) || !std::isfinite(f.input_scale)) {
    throw InputError(fmt::format("{}: input scale {} is not positive", name, f.input_scale));
  }
  if (f.reference) {
    const ReferencePredictions& r = *f.reference;
    const size_t n = static_cast<size_t>(r.images);
    if (r.images < 1 || r.logits.size() != n * classes || r.labels.size() != n ||
        r.levels_equal.size() != n || r.image_hashes.size() != n) {
      throw InputError(
          fmt::format("{}: reference predictions of {} images have {} logits, {} labels, {} "
                      "level flags",
                      name, r.images, r.logits.size(), r.labels.size(), r.levels_equal.size()));
    }
    if (r.arithmetic != "float32" && r.arithmetic != "float64") {
      throw InputError(fmt::format("{}: reference/arithmetic is '{}' (expected float32 or float64)",
                                   name, r.arithmetic));
    }
    if (!r.float32_logits.empty() &&
        (r.float32_logits.size() != n * classes || r.arithmetic != "float64")) {
      throw InputError(
          fmt::format("{}: {} float32 reference logits for {} images of {} classes ({} reference)",
                      name, r.float32_logits.size(), n, classes, r.arithmetic));
    }
    for (float v : r.float32_logits) {
      if (!std::isfinite(v))
        throw InputError(fmt::format("{}: a float32 reference logit is not finite", name));
    }
    for (size_t i = 0; i < n; ++i) {
      if (r.labels[i] < 0 || r.labels[i] >= static_cast<int64_t>(classes)) {
        throw InputError(fmt::format("{}: reference label {} of image {} outside 0..{}", name,
                                     r.labels[i], i, classes - 1));
      }
      if (r.levels_equal[i] < -1 || r.levels_equal[i] > 1) {
        throw InputError(
            fmt::format("{}: reference level flag of image {} is {}", name, i, r.levels_equal[i]));
      }
      for (size_t c = 0; c < classes; ++c) {
        if (!std::isfinite(r.logits[i * classes + c])) {
          throw InputError(
              fmt::format("{}: reference logit {} of image {} is not finite", name, c, i));
        }
      }
    }
  }
}

}  // namespace

HwGraph integer_model_graph(const frontend::Network& network) {
  frontend::LoweringOptions o;
  o.fp_layers = frontend::FpLayerTreatment::kInt8;
  o.batch = 1;
  return frontend::build_hw_graph(network, o);
}

std::string serialize_integer_model(const IntegerModelFile& in) {
  IntegerModelFile f = in;
  f.graph = integer_model_graph(f.network);
  check_model(f, "integer model");
  ArrayFile a;
  a.put_text("meta/format", kIntegerModelFormat);
  a.put_int64("meta/version", kIntegerModelVersion);
  a.put_text("meta/network", frontend::network_to_yaml(f.network));
  a.put_text("meta/config", f.config_yaml);
  a.put_text("meta/source", f.source);
  a.put_doubles("input/scale", {}, &f.input_scale);
  for (size_t i = 0; i < f.graph.ops.size(); ++i) {
    const HwOp& op = f.graph.ops[i];
    const frontend::OpParameters& p = f.model.ops[i];
    const kernels::RequantParams& rq = p.requant;
    check_kind(op, "integer model");
    if (op.kind == HwOpKind::kConv) {
      const std::vector<int64_t> w(p.weights.values().begin(), p.weights.values().end());
      a.put_int64s(key(op.name, "weights"), weight_shape(op), w.data());
    }
    if (!moves_levels(op)) {
      const int64_t c = static_cast<int64_t>(rq.scale.size());
      a.put_int64s(key(op.name, "scale"), {c}, rq.scale.data());
      a.put_int64s(key(op.name, "offset"), {c}, rq.offset.data());
      a.put_int64(key(op.name, "frac_bits"), rq.frac_bits);
      a.put_int64(key(op.name, "flags"), (rq.relu_before_residual ? kReluBefore : 0) |
                                             (rq.has_residual ? kHasResidual : 0) |
                                             (rq.relu_after_residual ? kReluAfter : 0));
      a.put_int64(key(op.name, "residual_scale"), rq.residual_scale);
      a.put_int64(key(op.name, "residual_offset"), rq.residual_offset);
    }
    a.put_int64(key(op.name, "out_min"), rq.out_min);
    a.put_int64(key(op.name, "out_max"), rq.out_max);
  }
  const int64_t classes = f.classes();
  a.put_doubles("logits/scale", {classes}, f.logit_scale.data());
  a.put_doubles("logits/offset", {classes}, f.logit_offset.data());
  if (f.reference) {
    const ReferencePredictions& r = *f.reference;
    a.put_text("reference/dataset", r.dataset);
    a.put_int64("reference/images", r.images);
    a.put_floats("reference/logits", {r.images, classes}, r.logits.data());
    a.put_int64s("reference/labels", {r.images}, r.labels.data());
    const std::vector<int64_t> hashes(r.image_hashes.begin(), r.image_hashes.end());
    a.put_int64s("reference/image_hashes", {r.images}, hashes.data());
    a.put_int64s("reference/levels_equal", {r.images}, r.levels_equal.data());
    const int64_t check[4] = {r.level_check.images, r.level_check.levels, r.level_check.mismatches,
                              r.level_check.images_differing};
    a.put_int64s("reference/level_check", {4}, check);
    a.put_text("reference/arithmetic", r.arithmetic);
    if (!r.float32_logits.empty())
      a.put_floats("reference/float32_logits", {r.images, classes}, r.float32_logits.data());
  }
  return a.serialize();
}

void write_integer_model(const IntegerModelFile& f, const std::string& path) {
  write_file_atomically(path, serialize_integer_model(f));
}

IntegerModelFile read_integer_model(const std::string& path) {
  return parse_integer_model(palsim::read_file(path), path);
}

IntegerModelFile parse_integer_model(const std::string& bytes, const std::string& name) {
  ArrayFile file;
  try {
    file = ArrayFile::parse(bytes, name);
  } catch (const InputError& e) {
    throw InputError(
        fmt::format("{} (expected an integer model written by `palsim export`)", e.what()));
  }
  if (!file.has("meta/format") || file.get("meta/format").dtype != DType::kBytes ||
      file.get_text("meta/format") != kIntegerModelFormat) {
    throw InputError(fmt::format(
        "{}: not a palsim integer model (no meta/format '{}'{})", name, kIntegerModelFormat,
        file.has("meta/format") && file.get("meta/format").dtype == DType::kBytes
            ? fmt::format(", found '{}'", file.get_text("meta/format"))
            : ""));
  }
  EntryReader r(file, name);
  r.text("meta/format");
  const int64_t version = r.int64("meta/version");
  if (version != kIntegerModelVersion) {
    throw InputError(fmt::format(
        "{}: integer model format version {}; this palsim reads version {} (export it again)", name,
        version, kIntegerModelVersion));
  }
  IntegerModelFile f;
  f.network = frontend::parse_network_yaml(r.text("meta/network"), name + " (meta/network)");
  try {
    f.graph = integer_model_graph(f.network);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: meta/network: {}", name, e.what()));
  }
  f.config_yaml = r.text("meta/config");
  f.source = r.text("meta/source");
  f.input_scale = r.doubles("input/scale", {})[0];
  f.model.ops.resize(f.graph.ops.size());
  for (size_t i = 0; i < f.graph.ops.size(); ++i) {
    const HwOp& op = f.graph.ops[i];
    frontend::OpParameters& p = f.model.ops[i];
    kernels::RequantParams& rq = p.requant;
    check_kind(op, name);
    if (op.kind == HwOpKind::kConv) {
      const std::vector<int64_t> shape = weight_shape(op);
      p.weights = weights_from(r.int64s(key(op.name, "weights"), shape), shape, name,
                               key(op.name, "weights"));
    }
    if (!moves_levels(op)) {
      const std::vector<int64_t> channels = {op.out.c};
      rq.scale = r.int64s(key(op.name, "scale"), channels);
      rq.offset = r.int64s(key(op.name, "offset"), channels);
      rq.frac_bits = static_cast<int>(r.int64_in(key(op.name, "frac_bits"), 0, 62));
      const int64_t flags = r.int64_in(key(op.name, "flags"), 0, 7);
      rq.relu_before_residual = (flags & kReluBefore) != 0;
      rq.has_residual = (flags & kHasResidual) != 0;
      rq.relu_after_residual = (flags & kReluAfter) != 0;
      rq.residual_scale = r.int64(key(op.name, "residual_scale"));
      rq.residual_offset = r.int64(key(op.name, "residual_offset"));
    } else {
      rq.scale.clear();
      rq.offset.clear();
    }
    rq.out_min = static_cast<int32_t>(r.int64_in(key(op.name, "out_min"), 0, 1 << 30));
    rq.out_max = static_cast<int32_t>(r.int64_in(key(op.name, "out_max"), 0, 1 << 30));
  }
  const std::vector<int64_t> classes = {final_fc(f.graph, name).out.c};
  f.logit_scale = r.doubles("logits/scale", classes);
  f.logit_offset = r.doubles("logits/offset", classes);
  if (r.has("reference/images")) {
    ReferencePredictions ref;
    ref.dataset = r.text("reference/dataset");
    ref.images = r.int64_in("reference/images", 1, std::numeric_limits<int32_t>::max());
    ref.logits = r.floats("reference/logits", {ref.images, classes[0]});
    ref.labels = r.int64s("reference/labels", {ref.images});
    for (int64_t h : r.int64s("reference/image_hashes", {ref.images}))
      ref.image_hashes.push_back(static_cast<uint64_t>(h));
    ref.levels_equal = r.int64s("reference/levels_equal", {ref.images});
    const std::vector<int64_t> check = r.int64s("reference/level_check", {4});
    ref.level_check = {check[0], check[1], check[2], check[3]};
    if (r.has("reference/arithmetic")) ref.arithmetic = r.text("reference/arithmetic");
    if (r.has("reference/float32_logits"))
      ref.float32_logits = r.floats("reference/float32_logits", {ref.images, classes[0]});
    f.reference = std::move(ref);
  }
  r.check_all_used();
  check_model(f, name);
  return f;
}

}  // namespace palsim::training
