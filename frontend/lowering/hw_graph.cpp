#include "frontend/lowering/hw_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "frontend/util/error.h"

namespace palsim::frontend {

std::string to_string(FpLayerTreatment t) { return t == FpLayerTreatment::kExclude ? "exclude" : "int8"; }

FpLayerTreatment parse_fp_layer_treatment(const std::string& s) {
  if (s == "exclude") return FpLayerTreatment::kExclude;
  if (s == "int8") return FpLayerTreatment::kInt8;
  throw InputError(fmt::format("--fp-layers: unknown treatment '{}' (exclude, int8)", s));
}

std::string to_string(HwOpKind k) {
  switch (k) {
    case HwOpKind::kConv: return "conv";
    case HwOpKind::kMaxPool: return "maxpool";
    case HwOpKind::kAvgPool: return "avgpool";
    case HwOpKind::kGlobalAvgPool: return "global_avgpool";
  }
  return "?";
}

uint64_t HwOp::weight_bits() const {
  if (kind != HwOpKind::kConv) return 0;
  return static_cast<uint64_t>(out.c) * in_channels_per_group() * kh * kw * w_bits;
}

int64_t HwOp::macs() const {
  if (kind != HwOpKind::kConv) return 0;
  return out.elements() * in_channels_per_group() * kh * kw;
}

namespace {

constexpr uint64_t kDramAlignBits = 512;  // 64-byte aligned tensors

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

struct Source {
  int tensor = -1;
  int rotate = 0;         // accumulated cyclic group rotation (conv consumers only)
  int rotate_groups = 0;  // the groups the rotation is over
};

class Lowerer {
 public:
  Lowerer(const Network& net, const LoweringOptions& o) : net_(net), opt_(o) {}

  HwGraph run() {
    g_.network = net_.name();
    g_.options = opt_;
    if (opt_.batch < 1) throw InputError("--batch: must be at least 1");
    mark_excluded();
    for (int i = 0; i < net_.size(); ++i) {
      if (excluded_[static_cast<size_t>(i)] || done_.count(i)) continue;
      lower_layer(i);
    }
    if (g_.ops.empty()) throw InputError(fmt::format("network '{}': nothing left to run on the accelerator", net_.name()));
    g_.output_tensor = g_.ops.back().output;
    assign_bits();
    layout();
    return g_;
  }

 private:
  [[noreturn]] void fail(int i, const std::string& why) const {
    const Layer& l = net_.layer(i);
    throw InputError(fmt::format("layer '{}' ({}): {}", l.name, l.op(), why));
  }

  void mark_excluded() {
    excluded_.assign(static_cast<size_t>(net_.size()), false);
    if (opt_.fp_layers != FpLayerTreatment::kExclude) return;
    int last_stem = -1;
    for (int i = 0; i < net_.size(); ++i) {
      const Layer& l = net_.layer(i);
      if (l.role == LayerRole::kStem || l.role == LayerRole::kClassifier) {
        excluded_[static_cast<size_t>(i)] = true;
        g_.excluded_layers.push_back(l.name);
        if (l.role == LayerRole::kStem) last_stem = i;
      }
    }
    if (last_stem >= 0) {
      // The stem's output is the input of the simulated body.
      const Layer& l = net_.layer(last_stem);
      const int t = new_tensor(l.name, l.out);
      g_.input_tensor = t;
      source_[last_stem] = Source{t, 0};
      excluded_[0] = true;  // the image input
    }
  }

  int new_tensor(const std::string& name, Shape shape) {
    HwTensor t;
    t.id = static_cast<int>(g_.tensors.size());
    t.name = name;
    t.shape = shape;
    t.batch = opt_.batch;
    g_.tensors.push_back(t);
    return t.id;
  }

  Source source(int i, int consumer) const {
    auto it = source_.find(i);
    if (it == source_.end()) {
      fail(consumer, fmt::format("reads '{}', whose output the accelerator does not produce on its own "
                                 "(it can only be fused into a convolution's post-processing)",
                                 net_.layer(i).name));
    }
    return it->second;
  }

  void lower_layer(int i) {
    const Layer& l = net_.layer(i);
    if (l.is<InputAttrs>()) {
      const int t = new_tensor(l.name, l.out);
      g_.input_tensor = t;
      source_[i] = Source{t, 0};
    } else if (l.is<ConvAttrs>() || l.is<FcAttrs>()) {
      lower_conv(i);
    } else if (l.is<MaxPoolAttrs>() || l.is<AvgPoolAttrs>() || l.is<GlobalAvgPoolAttrs>()) {
      lower_pool(i);
    } else if (l.is<CyclicPermuteAttrs>()) {
      Source s = source(l.inputs[0], i);
      const auto& a = l.as<CyclicPermuteAttrs>();
      if (s.rotate != 0 && s.rotate_groups != a.groups) fail(i, "chained permutations over different groups");
      s.rotate += a.direction;
      s.rotate_groups = a.groups;
      source_[i] = s;
    } else if (l.is<FlattenAttrs>()) {
      Source s = source(l.inputs[0], i);
      if (s.rotate != 0) fail(i, "a flatten cannot follow a cyclic permutation");
      source_[i] = s;
      flatten_of_[i] = l.inputs[0];
    } else {
      fail(i, "the accelerator runs this layer only fused into a preceding convolution's post-processing, "
              "and this one cannot be fused");
    }
  }

  void lower_pool(int i) {
    const Layer& l = net_.layer(i);
    const Source s = source(l.inputs[0], i);
    if (s.rotate != 0) fail(i, "a pool cannot read a cyclically permuted tensor");
    HwOp op;
    op.name = l.name;
    op.layers = {l.name};
    op.role = l.role;
    op.input = s.tensor;
    op.in = g_.tensors[static_cast<size_t>(s.tensor)].shape;
    op.out = l.out;
    if (l.is<MaxPoolAttrs>()) {
      const auto& a = l.as<MaxPoolAttrs>();
      op.kind = HwOpKind::kMaxPool;
      op.kh = op.kw = a.kernel;
      op.sh = op.sw = a.stride;
      op.ph = op.pw = a.pad;
    } else if (l.is<AvgPoolAttrs>()) {
      const auto& a = l.as<AvgPoolAttrs>();
      op.kind = HwOpKind::kAvgPool;
      op.kh = op.kw = a.kernel;
      op.sh = op.sw = a.stride;
      op.ph = op.pw = a.pad;
    } else {
      op.kind = HwOpKind::kGlobalAvgPool;
      op.kh = op.in.h;
      op.kw = op.in.w;
    }
    op.groups = 1;
    op.a_bits = op.w_bits = 0;
    op.output = new_tensor(l.name, l.out);
    source_[i] = Source{op.output, 0};
    g_.ops.push_back(op);
  }

  void lower_conv(int i) {
    const Layer& l = net_.layer(i);
    Source s = source(l.inputs[0], i);
    HwOp op;
    op.name = l.name;
    op.layers = {l.name};
    op.role = l.role;
    op.kind = HwOpKind::kConv;
    op.input = s.tensor;
    op.in = g_.tensors[static_cast<size_t>(s.tensor)].shape;
    op.out = l.out;
    QuantSpec q;
    if (l.is<ConvAttrs>()) {
      const auto& a = l.as<ConvAttrs>();
      op.kh = a.kernel_h;
      op.kw = a.kernel_w;
      op.sh = a.stride_h;
      op.sw = a.stride_w;
      op.ph = a.pad_h;
      op.pw = a.pad_w;
      op.groups = a.groups;
      q = a.quant;
    } else {
      // FC: a convolution whose kernel covers the whole (unflattened) input.
      op.kh = op.in.h;
      op.kw = op.in.w;
      q = l.as<FcAttrs>().quant;
    }
    if (s.rotate != 0) {
      const int G = op.groups;
      if (G <= 1 || s.rotate_groups != G) {
        fail(i, "a cyclic group permutation must feed a convolution with the same number of groups");
      }
      op.in_group_rotate = ((s.rotate % G) + G) % G;
    }
    if (!q.quantized()) {
      if (l.role != LayerRole::kBody && opt_.fp_layers == FpLayerTreatment::kInt8) {
        q = QuantSpec{Quantizer::kLsq, 8, 8, 0};
      } else {
        fail(i, "a full-precision layer cannot run on the 2-bit accelerator (build the network with --method lsq, "
                "ewgs, bitdecomposed or palquant; the stem and classifier follow --fp-layers)");
      }
    }
    op.a_bits = q.a_bits;
    op.w_bits = q.w_bits;
    op.w_signed = q.weights_signed();
    op.uniform_quantizer = q.quantizer == Quantizer::kUniform;
    absorb_post_ops(i, op);
    op.output = new_tensor(net_.layer(last_absorbed_).name, net_.layer(last_absorbed_).out);
    source_[last_absorbed_] = Source{op.output, 0};
    g_.ops.push_back(op);
  }

  // Absorbs batch norm, ReLU, channel shuffle and a residual addition that
  // follow the conv (each the sole consumer of the previous).
  void absorb_post_ops(int conv, HwOp& op) {
    int cur = conv;
    bool bn = false, shuffle = false, added = false;
    while (true) {
      const std::vector<int> cons = net_.consumers(cur);
      if (cons.size() != 1 || excluded_[static_cast<size_t>(cons[0])]) break;
      const int next = cons[0];
      const Layer& n = net_.layer(next);
      if (n.is<BatchNormAttrs>() && !bn && !op.relu_before_residual && !added && !shuffle) {
        bn = true;
      } else if (n.is<ReluAttrs>() && !added && !op.relu_before_residual) {
        op.relu_before_residual = true;
      } else if (n.is<ReluAttrs>() && added && !op.relu_after_residual) {
        op.relu_after_residual = true;
      } else if (n.is<ChannelShuffleAttrs>() && !shuffle && !added) {
        shuffle = true;
        op.out_shuffle_groups = n.as<ChannelShuffleAttrs>().groups;
      } else if (n.is<AddAttrs>() && !added) {
        const int other = n.inputs[0] == cur ? n.inputs[1] : n.inputs[0];
        auto it = source_.find(other);
        if (it == source_.end() || it->second.rotate != 0) break;  // not in DRAM yet: the other branch fuses it
        op.residual = it->second.tensor;
        added = true;
      } else {
        break;
      }
      op.layers.push_back(n.name);
      done_.insert(next);
      cur = next;
    }
    last_absorbed_ = cur;
  }

  // Every tensor gets the width its readers need; readers must agree.
  void assign_bits() {
    std::vector<int> need(g_.tensors.size(), 0);
    std::vector<std::string> reader(g_.tensors.size());
    for (auto it = g_.ops.rbegin(); it != g_.ops.rend(); ++it) {
      const HwOp& op = *it;
      int want = op.kind == HwOpKind::kConv ? op.a_bits : need[static_cast<size_t>(op.output)];
      if (want == 0) want = 8;
      auto require = [&](int t, int bits) {
        auto& n = need[static_cast<size_t>(t)];
        if (n != 0 && n != bits) {
          throw InputError(fmt::format("tensor '{}' is read at {} bits by '{}' and at {} bits by '{}'; palsim keeps "
                                       "one encoding per tensor",
                                       g_.tensors[static_cast<size_t>(t)].name, bits, op.name, n,
                                       reader[static_cast<size_t>(t)]));
        }
        n = bits;
        reader[static_cast<size_t>(t)] = op.name;
      };
      require(op.input, want);
      // A residual imposes nothing: the PPU rescales whatever encoding it has.
    }
    for (size_t t = 0; t < g_.tensors.size(); ++t) {
      int bits = need[t];
      if (bits == 0) {
        // The network output: keep the producing conv's activation width.
        for (const auto& op : g_.ops) {
          if (op.output == static_cast<int>(t)) bits = op.kind == HwOpKind::kConv ? op.a_bits : 8;
        }
      }
      g_.tensors[t].bits = bits ? bits : 8;
    }
  }

  void layout() {
    uint64_t addr = 0;
    auto place = [&](uint64_t bits) {
      const uint64_t base = addr;
      addr = align_up(addr + bits, kDramAlignBits);
      return base;
    };
    g_.tensors[static_cast<size_t>(g_.input_tensor)].dram_bit = place(g_.tensors[static_cast<size_t>(g_.input_tensor)].size_bits());
    for (auto& op : g_.ops) op.weight_dram_bit = place(op.weight_bits());
    for (auto& t : g_.tensors) {
      if (t.id == g_.input_tensor) continue;
      t.dram_bit = place(t.size_bits());
    }
    g_.dram_bits = addr;
  }

  const Network& net_;
  LoweringOptions opt_;
  HwGraph g_;
  std::vector<bool> excluded_;
  std::map<int, Source> source_;
  std::map<int, int> flatten_of_;
  std::set<int> done_;
  int last_absorbed_ = -1;
};

}  // namespace

HwGraph build_hw_graph(const Network& net, const LoweringOptions& options) { return Lowerer(net, options).run(); }

}  // namespace palsim::frontend
