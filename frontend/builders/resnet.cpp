#include "frontend/builders/resnet.h"

#include <fmt/format.h>

#include "common/error.h"

namespace palsim::frontend {

std::string to_string(PlainProjections p) {
  return p == PlainProjections::kKeep ? "keep" : "drop";
}

PlainProjections parse_plain_projections(const std::string& s) {
  if (s == "keep") return PlainProjections::kKeep;
  if (s == "drop") return PlainProjections::kDrop;
  throw InputError(fmt::format("--projections: unknown choice '{}' (keep, drop)", s));
}

ResNetOptions resnet_options_for_depth(int depth) {
  ResNetOptions o;
  if (depth == 18) {
    o.blocks = {2, 2, 2, 2};
  } else if (depth == 34) {
    o.blocks = {3, 4, 6, 3};
  } else {
    throw InputError(fmt::format("ResNet depth must be 18 or 34, got {}", depth));
  }
  return o;
}

namespace {

// Builds layers in order, tracking the current tensor.
class ResNetBuilder {
 public:
  ResNetBuilder(Network& net, const MethodOptions& m) : net_(net), m_(m), quant_(m.body_quant()) {}

  int conv(const std::string& name, int input, int out_channels, int kernel, int stride, int pad,
           int groups, QuantSpec quant, LayerRole role = LayerRole::kBody) {
    ConvAttrs a;
    a.out_channels = out_channels;
    a.kernel_h = a.kernel_w = kernel;
    a.stride_h = a.stride_w = stride;
    a.pad_h = a.pad_w = pad;
    a.groups = groups;
    a.quant = quant;
    return net_.add(name, a, {input}, role);
  }
  int body_conv(const std::string& name, int input, int out_channels, int kernel, int stride,
                int pad) {
    return conv(name, input, out_channels, kernel, stride, pad, m_.groups(), quant_);
  }
  int bn(const std::string& name, int input, LayerRole role = LayerRole::kBody) {
    return net_.add(name, BatchNormAttrs{}, {input}, role);
  }
  int relu(const std::string& name, int input, LayerRole role = LayerRole::kBody) {
    return net_.add(name, ReluAttrs{}, {input}, role);
  }
  int add(const std::string& name, int a, int b) { return net_.add(name, AddAttrs{}, {a, b}); }

  bool grouped() const { return m_.method == Method::kPalQuant && m_.G > 1; }
  const MethodOptions& method() const { return m_; }

 private:
  Network& net_;
  const MethodOptions& m_;
  QuantSpec quant_;
};

}  // namespace

Network build_resnet(const std::string& name, const ResNetOptions& o, const MethodOptions& m) {
  m.validate();
  if (o.blocks.size() != 4) throw InputError("a ResNet has 4 stages");
  for (int b : o.blocks) {
    if (b < 1) throw InputError("every ResNet stage needs at least one block");
  }
  if (o.base_width < 1) throw InputError("--base-width must be positive");
  if (o.classes < 1) throw InputError("--classes must be positive");

  Network net(name);
  ResNetBuilder b(net, m);
  const int G = m.groups();
  const int widen = m.width_multiplier();

  int x = net.add("input", InputAttrs{o.input}, {});
  const int stem_channels = o.base_width * widen;
  const QuantSpec fp;  // the stem and classifier stay full precision
  if (o.stem == StemKind::kImageNet) {
    x = b.conv("conv1", x, stem_channels, 7, 2, 3, 1, fp, LayerRole::kStem);
    x = b.bn("bn1", x, LayerRole::kStem);
    x = b.relu("relu", x, LayerRole::kStem);
    x = net.add("maxpool", MaxPoolAttrs{3, 2, 1}, {x}, LayerRole::kStem);
  } else {
    x = b.conv("conv1", x, stem_channels, 3, 1, 1, 1, fp, LayerRole::kStem);
    x = b.bn("bn1", x, LayerRole::kStem);
    x = b.relu("relu", x, LayerRole::kStem);
  }

  int channels = stem_channels;
  for (int s = 0; s < 4; ++s) {
    const int planes = o.base_width * (1 << s) * widen;
    if (planes % G != 0 || channels % G != 0) {
      throw InputError(fmt::format("--G: {} groups do not divide the {} channels of stage {}", G,
                                   planes, s + 1));
    }
    // Cyclic shuffle module before stages 2-4: Z = X + ReLU(BN(Conv1x1_g(P(X)))).
    if (s > 0 && b.grouped() && m.cyclic_shuffle) {
      const std::string p = fmt::format("shuffle{}", s + 1);
      int y = x;
      if (m.cyclic_permutation) {
        y = net.add(p + ".permute", CyclicPermuteAttrs{G, m.permute_direction}, {y});
      }
      y = b.body_conv(p + ".conv1.0", y, channels, 1, 1, 0);
      y = b.bn(p + ".conv1.1", y);
      y = b.relu(p + ".conv1.2", y);
      x = b.add(p + ".add", y, x);
    }
    for (int k = 0; k < o.blocks[static_cast<size_t>(s)]; ++k) {
      const std::string p = fmt::format("layer{}.{}", s + 1, k);
      const int stride = (s > 0 && k == 0) ? 2 : 1;
      const bool downsample = stride != 1 || channels != planes;
      int y = b.body_conv(p + ".conv1", x, planes, 3, stride, 1);
      y = b.bn(p + ".bn1", y);
      y = b.relu(p + ".relu1", y);
      y = b.body_conv(p + ".conv2", y, planes, 3, 1, 1);
      y = b.bn(p + ".bn2", y);
      const bool shuffle =
          b.grouped() && ((m.channel_shuffle == ShuffleMode::kPerStage && downsample) ||
                          m.channel_shuffle == ShuffleMode::kPerBlock);
      if (shuffle) y = net.add(p + ".shuffle", ChannelShuffleAttrs{G}, {y});
      // A plain network drops the identity shortcuts; its downsampling blocks
      // keep their projection shortcut or lose it (PlainProjections).
      const bool keep_projection = !o.plain || o.plain_projections == PlainProjections::kKeep;
      if (!o.plain || (downsample && keep_projection)) {
        int shortcut = x;
        if (downsample) {
          shortcut = b.body_conv(p + ".downsample.0", x, planes, 1, stride, 0);
          shortcut = b.bn(p + ".downsample.1", shortcut);
        }
        y = b.add(p + ".add", y, shortcut);
      }
      x = b.relu(p + ".relu2", y);
      channels = planes;
    }
  }
  x = net.add("avgpool", GlobalAvgPoolAttrs{}, {x}, LayerRole::kClassifier);
  x = net.add("flatten", FlattenAttrs{}, {x}, LayerRole::kClassifier);
  FcAttrs fc;
  fc.out_features = o.classes;
  fc.bias = true;
  x = net.add("fc", fc, {x}, LayerRole::kClassifier);
  net.infer_shapes();
  return net;
}

}  // namespace palsim::frontend
