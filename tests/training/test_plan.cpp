// What the trainer builds for a network: one op per HwOp, one quantizer per
// HwTensor with the documented kinds, stable parameter names, channel maps
// that agree with the kernels' permutations.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/error.h"
#include "frontend/builders/registry.h"
#include "kernels/conv.h"
#include "training/quant_plan.h"

namespace palsim::training {
namespace {

using frontend::HwOpKind;
using frontend::Method;

frontend::Network resnet(Method m, int G = 2, int bits = 4, bool cyclic = true,
                         frontend::ShuffleMode shuffle = frontend::ShuffleMode::kPerStage,
                         int direction = 1) {
  frontend::NetworkRequest r;
  r.network = "resnet18";
  r.method_given = true;
  r.method.method = m;
  r.method.a_bits = r.method.w_bits = bits;
  r.method.B = 2;
  r.method.G = G;
  r.method.cyclic_shuffle = cyclic;
  r.method.channel_shuffle = shuffle;
  r.method.permute_direction = direction;
  r.input_size = 28;
  r.input_channels = 1;
  r.classes = 10;
  r.base_width = 8;
  r.stem = "small";
  r.blocks = std::vector<int>{1, 1, 1, 1};
  return frontend::resolve_network(r);
}

TEST(Plan, PalQuantTensorKindsFollowTheirReaders) {
  const ModelPlan p = plan_model(resnet(Method::kPalQuant), false, 0.0);
  ASSERT_EQ(p.ops.size(), p.graph.ops.size());
  ASSERT_EQ(p.tensors.size(), p.graph.tensors.size());
  EXPECT_TRUE(p.exportable);
  EXPECT_EQ(p.tensors[static_cast<size_t>(p.graph.input_tensor)].kind, ActQuant::kImage);
  EXPECT_EQ(p.tensors[static_cast<size_t>(p.graph.output_tensor)].kind, ActQuant::kFloat);
  // The stem and FC are 8-bit LSQ; the body is uniform 2-bit.
  EXPECT_EQ(p.op("conv1").weight_quant, WeightQuant::kLsq);
  EXPECT_EQ(p.op("conv1").w_bits, 8);
  EXPECT_EQ(p.op("fc").weight_quant, WeightQuant::kLsq);
  EXPECT_TRUE(p.op("fc").fc);
  EXPECT_TRUE(p.op("fc").bias);
  EXPECT_EQ(p.op("layer1.0.conv1").weight_quant, WeightQuant::kUniform);
  EXPECT_TRUE(p.op("layer1.0.conv1").alpha);
  EXPECT_EQ(p.op("layer1.0.conv1").bn, "layer1.0.bn1");
  // The stem's output feeds uniform convs; the pool's output feeds the LSQ FC.
  EXPECT_EQ(p.tensor("relu").kind, ActQuant::kUniform);
  EXPECT_EQ(p.tensor("relu").bits, 2);
  EXPECT_EQ(p.tensor("avgpool").kind, ActQuant::kLsq);
  EXPECT_EQ(p.tensor("avgpool").bits, 8);
  // The main branch of a downsampling block is read only as a residual (a
  // signed BN output): the affine uniform quantizer.
  const auto& g = p.graph;
  int residual_only = 0;
  for (const auto& op : g.ops) {
    if (op.residual < 0) continue;
    bool conv_reads = false;
    for (const auto& o2 : g.ops)
      conv_reads = conv_reads || (o2.kind == HwOpKind::kConv && o2.input == op.residual);
    if (!conv_reads) {
      ++residual_only;
      EXPECT_EQ(p.tensors[static_cast<size_t>(op.residual)].kind, ActQuant::kUniform) << op.name;
    }
  }
  EXPECT_EQ(residual_only, 3);  // stages 2-4
}

// ResidualQuant: a tensor read only as a residual shares the quantizer of the
// sum it is added into when their widths agree (stages 2 and 3), and keeps a
// signed-initialized quantizer of its own when not (stage 4: its sum is read
// by the 8-bit classifier path); kOwn keeps every tensor's own quantizer.
TEST(Plan, ResidualOnlyTensorsShareTheQuantizerOfTheirSum) {
  const ModelPlan shared = plan_model(resnet(Method::kPalQuant), false, 0.0);
  const ModelPlan own = plan_model(resnet(Method::kPalQuant), false, 0.0, ResidualQuant::kOwn);
  EXPECT_EQ(shared.residual, ResidualQuant::kShared);
  const auto& g = shared.graph;
  int joined = 0, signed_own = 0;
  for (const auto& op : g.ops) {
    if (op.residual < 0) continue;
    bool conv_reads = false;
    for (const auto& o2 : g.ops) conv_reads = conv_reads || o2.input == op.residual;
    if (conv_reads) continue;
    const TensorPlan& r = shared.tensors[static_cast<size_t>(op.residual)];
    const TensorPlan& sum = shared.tensors[static_cast<size_t>(op.output)];
    const TensorPlan& r_own = own.tensors[static_cast<size_t>(op.residual)];
    EXPECT_EQ(r_own.quantizer, r_own.id) << op.name;
    EXPECT_FALSE(r_own.defers_init || r_own.signed_init) << op.name;
    if (g.tensors[static_cast<size_t>(op.output)].bits == r.bits) {
      ++joined;
      EXPECT_EQ(sum.quantizer, r.quantizer) << op.name;
      EXPECT_TRUE(r.defers_init) << op.name;
      EXPECT_EQ(sum.kind, ActQuant::kUniform) << op.name;
    } else {
      ++signed_own;
      EXPECT_EQ(r.quantizer, r.id) << op.name;
      EXPECT_TRUE(r.signed_init) << op.name;
    }
  }
  EXPECT_EQ(joined, 2);
  EXPECT_EQ(signed_own, 1);
  for (const auto& t : own.tensors) EXPECT_EQ(t.quantizer, t.id);  // no max pool in the small stem
  // Fewer quantizers: two pairs share one.
  EXPECT_EQ(parameter_specs(own).size(), parameter_specs(shared).size() + 4);
}

// Int8Scales: the 8-bit stand-ins' LSQ steps are buffers (tracked) by
// default, Adam parameters with kLearned; the body's quantizers are learned
// either way.
TEST(Plan, Int8StandInStepsAreTrackedUnlessLearned) {
  for (Method m : {Method::kPalQuant, Method::kLsq}) {
    const frontend::Network net = resnet(m, m == Method::kLsq ? 1 : 2);
    const ModelPlan tracked = plan_model(net, false, 0.0);
    const ModelPlan learned =
        plan_model(net, false, 0.0, ResidualQuant::kShared, Int8Scales::kLearned);
    EXPECT_TRUE(tracked.op("conv1").tracked);
    EXPECT_TRUE(tracked.op("fc").tracked);
    EXPECT_TRUE(tracked.tensor("avgpool").tracked);
    EXPECT_FALSE(tracked.op("layer2.0.conv1").tracked);
    EXPECT_FALSE(learned.op("conv1").tracked);
    EXPECT_FALSE(learned.tensor("avgpool").tracked);
    const auto group = [](const ModelPlan& p, const std::string& name) {
      for (const auto& s : parameter_specs(p))
        if (s.name == name) return s.group;
      ADD_FAILURE() << name;
      return ParamGroup::kWeights;
    };
    for (const char* n : {"op/conv1/wq/step", "op/fc/wq/step", "tensor/avgpool/step"}) {
      EXPECT_EQ(group(tracked, n), ParamGroup::kBuffers) << n;
      EXPECT_EQ(group(learned, n), ParamGroup::kQuantizers) << n;
    }
  }
}

TEST(Plan, LsqNetworkUsesLsqForConvInputs) {
  const ModelPlan p = plan_model(resnet(Method::kLsq, 1, 4), false, 0.0);
  EXPECT_EQ(p.tensor("relu").kind, ActQuant::kLsq);
  EXPECT_EQ(p.tensor("relu").bits, 4);
  EXPECT_EQ(p.tensor("layer1.0.relu1").kind, ActQuant::kLsq);
  EXPECT_EQ(p.op("layer2.0.conv1").weight_quant, WeightQuant::kLsq);
  EXPECT_FALSE(p.op("layer2.0.conv1").alpha);
  EXPECT_FALSE(p.tensor("relu").ewgs);
}

TEST(Plan, EwgsMarksUniformQuantizers) {
  const ModelPlan p = plan_model(resnet(Method::kEwgs, 1, 4), false, 0.001);
  EXPECT_TRUE(p.op("layer1.0.conv1").ewgs);
  EXPECT_TRUE(p.tensor("relu").ewgs);
  EXPECT_FALSE(p.op("conv1").ewgs);  // the 8-bit LSQ stem
}

TEST(Plan, FloatEndsAndFpNetworksAreNotExportable) {
  const ModelPlan f = plan_model(resnet(Method::kPalQuant), true, 0.0);
  EXPECT_FALSE(f.exportable);
  EXPECT_EQ(f.op("conv1").weight_quant, WeightQuant::kNone);
  EXPECT_EQ(f.op("fc").weight_quant, WeightQuant::kNone);
  EXPECT_EQ(f.tensor("avgpool").kind, ActQuant::kFloat);
  EXPECT_EQ(f.tensor("relu").kind, ActQuant::kUniform);  // read by the body
  const ModelPlan fp = plan_model(resnet(Method::kFp), false, 0.0);
  EXPECT_FALSE(fp.quantized);
  EXPECT_FALSE(fp.exportable);
  for (const auto& o : fp.ops) EXPECT_EQ(o.weight_quant, WeightQuant::kNone);
  for (const auto& t : fp.tensors)
    EXPECT_TRUE(t.kind == ActQuant::kFloat || t.kind == ActQuant::kImage);
  for (const auto& s : parameter_specs(fp)) EXPECT_NE(s.group, ParamGroup::kQuantizers) << s.name;
}

TEST(Plan, ParameterNamesAreStableAndUnique) {
  const ModelPlan p = plan_model(resnet(Method::kPalQuant), false, 0.0);
  std::set<std::string> names;
  for (const auto& s : parameter_specs(p)) EXPECT_TRUE(names.insert(s.name).second) << s.name;
  for (const char* n :
       {"op/conv1/weight", "op/conv1/wq/step", "op/conv1/bn/weight", "op/conv1/bn/bias",
        "op/conv1/bn/running_mean", "op/conv1/bn/running_var", "op/layer1.0.conv1/weight",
        "op/layer1.0.conv1/alpha", "op/layer1.0.conv1/wq/lower", "op/layer1.0.conv1/wq/upper",
        "op/fc/weight", "op/fc/bias", "op/fc/wq/step", "tensor/relu/lower", "tensor/relu/upper",
        "tensor/avgpool/step", "op/shuffle2.conv1.0/alpha"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  EXPECT_FALSE(names.count("tensor/input/step"));  // the image is fixed
  EXPECT_FALSE(names.count("tensor/fc/step"));     // the logits are float
}

TEST(Plan, ChannelMapsAgreeWithTheKernelsPermutations) {
  for (int direction : {1, -1}) {
    for (int G : {2, 3, 4}) {
      const ModelPlan p = plan_model(
          resnet(Method::kPalQuant, G, 2, true, frontend::ShuffleMode::kPerBlock, direction), false,
          0.0);
      int rotated = 0, shuffled = 0;
      for (const auto& op : p.graph.ops) {
        if (op.in_group_rotate != 0) {
          ++rotated;
          // The IR permutes the channels (cyclic_permute_source) before the conv.
          const std::vector<int> src = rotated_input_source(op);
          for (int c = 0; c < op.in.c; ++c) {
            EXPECT_EQ(src[static_cast<size_t>(c)],
                      kernels::cyclic_permute_source(c, op.in.c, G, direction));
          }
        }
        if (op.out_shuffle_groups > 1) {
          ++shuffled;
          const std::vector<int> src = shuffled_output_source(op);
          for (int c = 0; c < op.out.c; ++c) {
            EXPECT_EQ(src[static_cast<size_t>(c)], kernels::channel_shuffle_source(c, op.out.c, G));
          }
        }
      }
      EXPECT_EQ(rotated, 3);
      EXPECT_EQ(shuffled, 4);
    }
  }
}

}  // namespace
}  // namespace palsim::training
