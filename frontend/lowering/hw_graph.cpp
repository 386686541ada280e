#include "frontend/lowering/hw_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "common/error.h"

namespace palsim::frontend {

std::string to_string(FpLayerTreatment t) {
  return t == FpLayerTreatment::kExclude ? "exclude" : "int8";
}

FpLayerTreatment parse_fp_layer_treatment(const std::string& s) {
  if (s == "exclude") return FpLayerTreatment::kExclude;
  if (s == "int8") return FpLayerTreatment::kInt8;
  throw InputError(fmt::format("--fp-layers: unknown treatment '{}' (exclude, int8)", s));
}

std::string to_string(HwOpKind k) {
  switch (k) {
    case HwOpKind::kConv:
      return "conv";
    case HwOpKind::kMaxPool:
      return "maxpool";
    case HwOpKind::kAvgPool:
      return "avgpool";
    case HwOpKind::kGlobalAvgPool:
      return "global_avgpool";
    case HwOpKind::kCopy:
      return "copy";
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

uint64_t align_up(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

// A clip from 0 is a ReLU whose upper bound the next tensor's quantizer
// applies: it saturates at the top of its unsigned range (layer.h).
bool is_relu(const Layer& l) {
  return l.is<ReluAttrs>() || (l.is<ClipAttrs>() && l.as<ClipAttrs>().min == 0);
}

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
    plan_concats();
    for (int i = 0; i < net_.size(); ++i) {
      if (excluded_[static_cast<size_t>(i)] || done_.count(i)) continue;
      lower_layer(i);
    }
    if (g_.ops.empty())
      throw InputError(
          fmt::format("network '{}': nothing left to run on the accelerator", net_.name()));
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

  // A view of tensor `base` (itself possibly a view): channel c is channel
  // offset + stride * c of `base`. Views are composed down to the owning
  // tensor and shared: the same channels of the same tensor are one view. A
  // view of all of a tensor's channels in order is the tensor itself.
  int view(int base, int offset, int stride, Shape shape, const std::string& name) {
    const HwTensor& b = g_.tensors[static_cast<size_t>(base)];
    const int root = b.is_view() ? b.view_of : base;
    if (b.is_view()) {
      offset = b.view_offset + b.view_stride * offset;
      stride *= b.view_stride;
    }
    const HwTensor& r = g_.tensors[static_cast<size_t>(root)];
    if (offset == 0 && stride == 1 && shape.c == r.shape.c) return root;
    const auto key = std::make_tuple(root, offset, stride, shape.c);
    auto it = views_.find(key);
    if (it != views_.end()) return it->second;
    const int t = new_tensor(name, shape);
    HwTensor& v = g_.tensors[static_cast<size_t>(t)];
    v.view_of = root;
    v.view_offset = offset;
    v.view_stride = stride;
    views_[key] = t;
    return t;
  }

  // Where each concatenation input goes in the concatenated tensor, decided
  // before lowering so that producers can write there directly.
  void plan_concats() {
    for (int i = 0; i < net_.size(); ++i) {
      const Layer& l = net_.layer(i);
      if (!l.is<ConcatAttrs>() || excluded_[static_cast<size_t>(i)]) continue;
      // Stored shuffled when the only reader is a channel shuffle and every
      // input stays inside one of its blocks.
      int storage_layer = i, groups = 1;
      const std::vector<int> cons = net_.consumers(i);
      if (cons.size() == 1 && !excluded_[static_cast<size_t>(cons[0])] &&
          net_.layer(cons[0]).is<ChannelShuffleAttrs>()) {
        const int s = net_.layer(cons[0]).as<ChannelShuffleAttrs>().groups;
        const int per = l.out.c / s;
        bool aligned = s > 1;
        int o = 0;
        for (int in : l.inputs) {
          const int c = net_.layer(in).out.c;
          if (o / per != (o + c - 1) / per) aligned = false;
          o += c;
        }
        if (aligned) {
          storage_layer = cons[0];
          groups = s;
        }
      }
      concat_storage_layer_[i] = storage_layer;
      const int per = l.out.c / groups;
      int o = 0;
      for (int in : l.inputs) {
        const Placement p{i, groups > 1 ? (o % per) * groups + o / per : o, groups};
        concat_places_[i].push_back(p);
        const Layer& src = net_.layer(in);
        const bool once = std::count(l.inputs.begin(), l.inputs.end(), in) == 1;
        // Only an op's own output can be written in place; the graph input,
        // an excluded stem and views (splits) are copied.
        if (once && net_.consumers(in).size() == 1 && !excluded_[static_cast<size_t>(in)] &&
            !src.is<InputAttrs>() && !src.is<SplitAttrs>()) {
          placement_[in] = p;
        }
        o += src.out.c;
      }
    }
  }

  // The tensor of concatenation `concat` (created on first use; a view when
  // the concatenation is itself an input of another one).
  int concat_storage(int concat) {
    auto it = storage_tensor_.find(concat);
    if (it != storage_tensor_.end()) return it->second;
    const int layer = concat_storage_layer_.at(concat);
    const int t = output_tensor(layer, net_.layer(layer).name, net_.layer(layer).out);
    storage_tensor_[concat] = t;
    return t;
  }

  // The tensor an op writes for IR layer `layer`: its place in a
  // concatenation, or a tensor of its own.
  int output_tensor(int layer, const std::string& name, Shape shape) {
    auto it = placement_.find(layer);
    if (it == placement_.end()) return new_tensor(name, shape);
    const Placement p = it->second;
    const int t = view(concat_storage(p.concat), p.offset, p.stride, shape, name);
    placed_tensor_[layer] = t;
    return t;
  }

  Source source(int i, int consumer) const {
    auto it = source_.find(i);
    if (it == source_.end()) {
      fail(consumer,
           fmt::format("reads '{}', whose output the accelerator does not produce on its own "
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
      if (s.rotate != 0 && s.rotate_groups != a.groups)
        fail(i, "chained permutations over different groups");
      s.rotate += a.direction;
      s.rotate_groups = a.groups;
      source_[i] = s;
    } else if (l.is<FlattenAttrs>()) {
      Source s = source(l.inputs[0], i);
      if (s.rotate != 0) fail(i, "a flatten cannot follow a cyclic permutation");
      source_[i] = s;
      flatten_of_[i] = l.inputs[0];
    } else if (l.is<SplitAttrs>()) {
      const Source s = source(l.inputs[0], i);
      if (s.rotate != 0) fail(i, "a split cannot read a cyclically permuted tensor");
      source_[i] = Source{view(s.tensor, l.as<SplitAttrs>().offset, 1, l.out, l.name), 0};
    } else if (l.is<ConcatAttrs>()) {
      lower_concat(i);
    } else if (l.is<ChannelShuffleAttrs>()) {
      // Neither a convolution nor a concatenation absorbed it: a copy that
      // writes the channels at their shuffled positions.
      const Source s = source(l.inputs[0], i);
      if (s.rotate != 0) fail(i, "a channel shuffle cannot read a cyclically permuted tensor");
      const int out = output_tensor(i, l.name, l.out);
      add_copy(l.name, {l.name}, l.role, s.tensor, out, l.as<ChannelShuffleAttrs>().groups);
      source_[i] = Source{out, 0};
    } else if (l.is<ClipAttrs>() && l.as<ClipAttrs>().min != 0) {
      fail(i, fmt::format("a clip from {} cannot run on the accelerator: its activations are "
                          "unsigned, so a clip must start at 0 (a ReLU)",
                          l.as<ClipAttrs>().min));
    } else {
      fail(i,
           "the accelerator runs this layer only fused into a preceding convolution's "
           "post-processing, "
           "and this one cannot be fused");
    }
  }

  void add_copy(const std::string& name, std::vector<std::string> layers, LayerRole role, int input,
                int output, int shuffle_groups) {
    HwOp op;
    op.name = name;
    op.layers = std::move(layers);
    op.role = role;
    op.kind = HwOpKind::kCopy;
    op.input = input;
    op.output = output;
    op.in = op.out = g_.tensors[static_cast<size_t>(input)].shape;
    op.groups = 1;
    op.a_bits = op.w_bits = 0;
    op.out_shuffle_groups = shuffle_groups > 1 ? shuffle_groups : 0;
    g_.ops.push_back(op);
  }

  // Every input is in place (its producer wrote it there) or copied there.
  void lower_concat(int i) {
    const Layer& l = net_.layer(i);
    const int storage = concat_storage(i);
    const std::vector<Placement>& places = concat_places_.at(i);
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const int in = l.inputs[k];
      const Source s = source(in, i);
      if (s.rotate != 0) fail(i, "a concatenation cannot read a cyclically permuted tensor");
      auto placed = placed_tensor_.find(in);
      if (placed != placed_tensor_.end() && placed->second == s.tensor) continue;
      const Layer& src = net_.layer(in);
      const int dst = view(storage, places[k].offset, places[k].stride, src.out,
                           fmt::format("{}[{}]", l.name, k));
      add_copy(fmt::format("{}.copy{}", l.name, k), {l.name}, l.role, s.tensor, dst, 0);
    }
    const int storage_layer = concat_storage_layer_.at(i);
    source_[storage_layer] = Source{storage, 0};
    if (storage_layer != i) done_.insert(storage_layer);  // the shuffle is in the addressing
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
    op.output = output_tensor(i, l.name, l.out);
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
      op.dh = a.dilation_h;
      op.dw = a.dilation_w;
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
        fail(i,
             "a cyclic group permutation must feed a convolution with the same number of groups");
      }
      op.in_group_rotate = ((s.rotate % G) + G) % G;
    }
    if (!q.quantized()) {
      if (l.role != LayerRole::kBody && opt_.fp_layers == FpLayerTreatment::kInt8) {
        q = QuantSpec{Quantizer::kLsq, 8, 8, 0};
      } else {
        fail(i,
             "a full-precision layer cannot run on the 2-bit accelerator (build the network with "
             "--method lsq, "
             "ewgs, bitdecomposed or palquant; the stem and classifier follow --fp-layers)");
      }
    }
    op.a_bits = q.a_bits;
    op.w_bits = q.w_bits;
    op.w_signed = q.weights_signed();
    op.uniform_quantizer = q.quantizer == Quantizer::kUniform;
    absorb_post_ops(i, op);
    op.output = output_tensor(last_absorbed_, net_.layer(last_absorbed_).name,
                              net_.layer(last_absorbed_).out);
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
      } else if (is_relu(n) && !added && !op.relu_before_residual) {
        op.relu_before_residual = true;
      } else if (is_relu(n) && added && !op.relu_after_residual) {
        op.relu_after_residual = true;
      } else if (n.is<ChannelShuffleAttrs>() && !shuffle && !added) {
        shuffle = true;
        op.out_shuffle_groups = n.as<ChannelShuffleAttrs>().groups;
      } else if (n.is<AddAttrs>() && !added) {
        const int other = n.inputs[0] == cur ? n.inputs[1] : n.inputs[0];
        auto it = source_.find(other);
        if (it == source_.end() || it->second.rotate != 0)
          break;  // not in DRAM yet: the other branch fuses it
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

  // Every tensor gets the width its readers need; readers must agree. A view
  // has its owner's encoding, so the readers of all views of a tensor agree.
  void assign_bits() {
    std::vector<int> need(g_.tensors.size(), 0);
    std::vector<std::string> reader(g_.tensors.size());
    for (auto it = g_.ops.rbegin(); it != g_.ops.rend(); ++it) {
      const HwOp& op = *it;
      // Pools and copies keep the encoding: they read what their output needs.
      int want = op.kind == HwOpKind::kConv ? op.a_bits
                                            : need[static_cast<size_t>(g_.storage_of(op.output))];
      if (want == 0) want = 8;
      const int t = g_.storage_of(op.input);
      auto& n = need[static_cast<size_t>(t)];
      if (n != 0 && n != want) {
        throw InputError(fmt::format(
            "tensor '{}' is read at {} bits by '{}' and at {} bits by '{}'; palsim keeps "
            "one encoding per tensor",
            g_.tensors[static_cast<size_t>(t)].name, want, op.name, n,
            reader[static_cast<size_t>(t)]));
      }
      n = want;
      reader[static_cast<size_t>(t)] = op.name;
      // A residual imposes nothing: the PPU rescales whatever encoding it has.
    }
    for (size_t t = 0; t < g_.tensors.size(); ++t) {
      if (g_.tensors[t].is_view()) continue;
      int bits = need[t];
      if (bits == 0) {
        // The network output: keep the producing conv's activation width.
        for (const auto& op : g_.ops) {
          if (g_.storage_of(op.output) == static_cast<int>(t))
            bits = op.kind == HwOpKind::kConv ? op.a_bits : 8;
        }
      }
      g_.tensors[t].bits = bits ? bits : 8;
    }
    for (auto& t : g_.tensors) {
      if (t.is_view()) t.bits = g_.tensors[static_cast<size_t>(t.view_of)].bits;
    }
  }

  void layout() {
    uint64_t addr = 0;
    auto place = [&](uint64_t bits) {
      const uint64_t base = addr;
      addr = align_up(addr + bits, kDramAlignBits);
      return base;
    };
    g_.tensors[static_cast<size_t>(g_.input_tensor)].dram_bit =
        place(g_.tensors[static_cast<size_t>(g_.input_tensor)].size_bits());
    for (auto& op : g_.ops) op.weight_dram_bit = place(op.weight_bits());
    for (auto& t : g_.tensors) {
      if (t.id == g_.input_tensor || t.is_view()) continue;
      t.dram_bit = place(t.size_bits());
    }
    for (auto& t : g_.tensors) {
      if (t.is_view()) t.dram_bit = g_.tensors[static_cast<size_t>(t.view_of)].dram_bit;
    }
    g_.dram_bits = addr;
  }

  const Network& net_;
  LoweringOptions opt_;
  HwGraph g_;
  std::vector<bool> excluded_;
  std::map<int, Source> source_;
  std::map<int, int> flatten_of_;
  // Concatenations: where each input goes (layer -> place, for inputs an op
  // writes in place), every input's place in order, the layer whose output
  // the concatenated tensor is (the concat, or the shuffle stored with it),
  // and the tensors made so far.
  struct Placement {
    int concat = -1;
    int offset = 0;
    int stride = 1;
  };
  std::map<int, Placement> placement_;
  std::map<int, std::vector<Placement>> concat_places_;
  std::map<int, int> concat_storage_layer_;
  std::map<int, int> storage_tensor_;
  std::map<int, int> placed_tensor_;
  std::map<std::tuple<int, int, int, int>, int> views_;
  std::set<int> done_;
  int last_absorbed_ = -1;
};

}  // namespace

HwGraph build_hw_graph(const Network& net, const LoweringOptions& options) {
  return Lowerer(net, options).run();
}

}  // namespace palsim::frontend
