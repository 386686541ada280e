#include "frontend/builders/shufflenet.h"

#include <fmt/format.h>

#include "common/error.h"

namespace palsim::frontend {

std::vector<int> shufflenet_channels(double width) {
  if (width == 0.5) return {24, 48, 96, 192, 1024};
  if (width == 1.0) return {24, 116, 232, 464, 1024};
  if (width == 1.5) return {24, 176, 352, 704, 1024};
  if (width == 2.0) return {24, 244, 488, 976, 2048};
  throw InputError(
      fmt::format("--width: ShuffleNet v2 comes in widths 0.5, 1.0, 1.5 and 2.0, not {}", width));
}

namespace {

class ShuffleNetBuilder {
 public:
  ShuffleNetBuilder(Network& net, const MethodOptions& m) : net_(net), quant_(m.body_quant()) {}

  int conv(const std::string& name, int input, int out_channels, int kernel, int stride, int groups,
           LayerRole role = LayerRole::kBody) {
    ConvAttrs a;
    a.out_channels = out_channels;
    a.kernel_h = a.kernel_w = kernel;
    a.stride_h = a.stride_w = stride;
    a.pad_h = a.pad_w = kernel / 2;
    a.groups = groups;
    a.quant = role == LayerRole::kBody ? quant_ : QuantSpec{};
    return net_.add(name, a, {input}, role);
  }
  int bn(const std::string& name, int input, LayerRole role = LayerRole::kBody) {
    return net_.add(name, BatchNormAttrs{}, {input}, role);
  }
  int relu(const std::string& name, int input, LayerRole role = LayerRole::kBody) {
    return net_.add(name, ReluAttrs{}, {input}, role);
  }
  // conv -> BN -> ReLU (names p.0, p.1, p.2 as in torchvision's Sequentials).
  int conv_bn_relu(const std::string& p, int input, int out_channels, int kernel, int stride) {
    return relu(p + ".2", bn(p + ".1", conv(p + ".0", input, out_channels, kernel, stride, 1)));
  }

  // 1x1, BN, ReLU, depthwise 3x3 (stride), BN, 1x1, BN, ReLU.
  int branch2(const std::string& p, int input, int features, int stride) {
    int y = conv(p + ".0", input, features, 1, 1, 1);
    y = relu(p + ".2", bn(p + ".1", y));
    y = bn(p + ".4", conv(p + ".3", y, features, 3, stride, features));
    y = conv(p + ".5", y, features, 1, 1, 1);
    return relu(p + ".7", bn(p + ".6", y));
  }
  // Depthwise 3x3 (stride), BN, 1x1, BN, ReLU.
  int branch1(const std::string& p, int input, int in_channels, int features, int stride) {
    int y = bn(p + ".1", conv(p + ".0", input, in_channels, 3, stride, in_channels));
    y = conv(p + ".2", y, features, 1, 1, 1);
    return relu(p + ".4", bn(p + ".3", y));
  }

  int unit(const std::string& p, int x, int in_channels, int out_channels, int stride) {
    const int features = out_channels / 2;
    int a = 0, b = 0;
    if (stride == 1) {
      a = net_.add(p + ".split1", SplitAttrs{0, features}, {x});
      const int x2 = net_.add(p + ".split2", SplitAttrs{features, features}, {x});
      b = branch2(p + ".branch2", x2, features, 1);
    } else {
      a = branch1(p + ".branch1", x, in_channels, features, stride);
      b = branch2(p + ".branch2", x, features, stride);
    }
    const int cat = net_.add(p + ".concat", ConcatAttrs{}, {a, b});
    return net_.add(p + ".shuffle", ChannelShuffleAttrs{2}, {cat});
  }

  // Z = X + ReLU(BN(Conv1x1_g(P(X)))).
  int cyclic_module(const std::string& p, int x, int channels, int groups) {
    int y = net_.add(p + ".permute", CyclicPermuteAttrs{groups, +1}, {x});
    y = conv(p + ".conv1.0", y, channels, 1, 1, groups);
    y = relu(p + ".conv1.2", bn(p + ".conv1.1", y));
    return net_.add(p + ".add", AddAttrs{}, {y, x});
  }

 private:
  Network& net_;
  QuantSpec quant_;
};

}  // namespace

Network build_shufflenet_v2(const std::string& name, const ShuffleNetOptions& o,
                            const MethodOptions& m) {
  m.validate();
  if (m.method == Method::kPalQuant) {
    throw InputError(
        "--method palquant is defined for the ResNets and plain18, not for shufflenetv2 (fp, lsq, "
        "ewgs, "
        "bitdecomposed; --cyclic-groups adds the cyclic shuffle modules)");
  }
  const std::vector<int> ch = shufflenet_channels(o.width);
  if (o.repeats.size() != 3) throw InputError("--blocks: ShuffleNet v2 has 3 stages (e.g. 4,8,4)");
  for (int r : o.repeats) {
    if (r < 1) throw InputError("--blocks: every ShuffleNet v2 stage needs at least one unit");
  }
  if (o.classes < 1) throw InputError("--classes must be positive");
  if (o.cyclic_groups < 0)
    throw InputError("--cyclic-groups must be positive (0: no cyclic shuffle modules)");

  Network net(name);
  ShuffleNetBuilder b(net, m);
  int x = net.add("input", InputAttrs{o.input}, {});
  const bool imagenet = o.stem == StemKind::kImageNet;
  x = b.conv("conv1.0", x, ch[0], 3, imagenet ? 2 : 1, 1, LayerRole::kStem);
  x = b.relu("conv1.2", b.bn("conv1.1", x, LayerRole::kStem), LayerRole::kStem);
  if (imagenet) x = net.add("maxpool", MaxPoolAttrs{3, 2, 1}, {x}, LayerRole::kStem);
  int channels = ch[0];
  for (int s = 0; s < 3; ++s) {
    const int out = ch[static_cast<size_t>(s) + 1];
    if (s > 0 && o.cyclic_groups > 0) {
      if (channels % o.cyclic_groups != 0) {
        throw InputError(fmt::format(
            "--cyclic-groups: {} groups do not divide the {} channels entering stage {}",
            o.cyclic_groups, channels, s + 2));
      }
      x = b.cyclic_module(fmt::format("shuffle{}", s + 2), x, channels, o.cyclic_groups);
    }
    for (int k = 0; k < o.repeats[static_cast<size_t>(s)]; ++k) {
      x = b.unit(fmt::format("stage{}.{}", s + 2, k), x, channels, out, k == 0 ? 2 : 1);
      channels = out;
    }
  }
  x = b.conv_bn_relu("conv5", x, ch[4], 1, 1);
  x = net.add("avgpool", GlobalAvgPoolAttrs{}, {x}, LayerRole::kClassifier);
  x = net.add("flatten", FlattenAttrs{}, {x}, LayerRole::kClassifier);
  FcAttrs fc;
  fc.out_features = o.classes;
  fc.bias = true;
  net.add("fc", fc, {x}, LayerRole::kClassifier);
  net.infer_shapes();
  return net;
}

}  // namespace palsim::frontend
