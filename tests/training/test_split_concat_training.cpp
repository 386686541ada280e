// The trainer on the networks with channel split, concatenation, copies and
// depthwise convolutions (issue 9): ShuffleNet v2's quantizer sharing across
// the parts of a concatenation, the configuration keys of plain18 and
// shufflenetv2, a few-batch training of a tiny Plain-18 and a tiny ShuffleNet
// v2 with cyclic modules, and their export: the integer path's levels equal
// the trained path's, top-1 equal and logits within the tolerance.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>

#include "common/error.h"
#include "frontend/builders/registry.h"
#include "tests/common/test_util.h"
#include "training/config.h"
#include "training/dataset.h"
#include "training/integer_export.h"
#include "training/integer_inference.h"
#include "training/quant_plan.h"
#include "training/trained_model.h"
#include "training/trainer.h"

namespace palsim::training {
namespace {

using palsim_test::Contains;
using palsim_test::TempDir;

namespace fs = std::filesystem;
using frontend::HwOpKind;

constexpr int kSide = 12;
constexpr int kPixels = kSide * kSide;

// Four classes of 12x12 images: a bright bar, horizontal or vertical, in the
// first or second half.
std::shared_ptr<const Dataset> bars(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> px;
  std::vector<int> labels;
  for (int i = 0; i < n; ++i) {
    const int label = i % 4;
    const int at = (label % 2) * 6 + static_cast<int>(rng() % 4);
    for (int y = 0; y < kSide; ++y) {
      for (int x = 0; x < kSide; ++x) {
        const bool bar = label < 2 ? y == at : x == at;
        px.push_back(static_cast<uint8_t>((bar ? 170 : 0) + rng() % 80));
      }
    }
    labels.push_back(label);
  }
  return std::make_shared<InMemoryDataset>("split-concat-bars", frontend::Shape{1, kSide, kSide}, 4,
                                           std::move(px), std::move(labels));
}

const bool kRegistered = [] {
  register_dataset(
      "split-concat-bars",
      [](const DataConfig&) {
        return DataSplits{bars(96, 21), bars(32, 22)};
      },
      fs::temp_directory_path().string());  // exists: a written configuration reads back
  return true;
}();

// A tiny ShuffleNet v2 (0.5x, 1 + 2 + 1 units: stage 3 has a basic unit,
// its split, identity-half copy and shuffled concatenation) or Plain-18.
const char* kShuffleNet =
    "  name: shufflenetv2\n  method: lsq\n  abits: 4\n  wbits: 4\n  width: 0.5\n"
    "  cyclic_groups: 2\n  blocks: [1, 2, 1]\n";
const char* kPlain18 =
    "  name: plain18\n  method: palquant\n  B: 2\n  G: 2\n  base_width: 4\n"
    "  blocks: [1, 1, 1, 1]\n";

std::string config_text(const std::string& network) {
  return "format: palsim-train-1\nnetwork:\n" + network +
         "  input_size: 12\n  input_channels: 1\n  classes: 4\n  stem: small\n"
         "data:\n  dataset: split-concat-bars\n"
         "training:\n  epochs: 1\n  batch_size: 32\n  lr_weights: 0.05\n  lr_quantizers: 0.001\n"
         "  momentum: 0.9\n  weight_decay: 0.0001\n  seed: 7\n  threads: 2\n";
}

TrainConfig config(const char* network) {
  return parse_train_config(config_text(network), "split-test.yaml");
}

TEST(SplitConcatPlan, ConcatenationPartsViewsAndCopiesShareOneQuantizer) {
  const ModelPlan p = plan_from_config(config(kShuffleNet));
  const auto& g = p.graph;
  EXPECT_TRUE(p.exportable) << p.not_exportable_reason;
  int views = 0, copies = 0, depthwise = 0;
  for (const auto& t : g.tensors) {
    const TensorPlan& tp = p.tensors[static_cast<size_t>(t.id)];
    if (t.is_view()) {
      ++views;
      EXPECT_EQ(tp.quantizer, p.tensors[static_cast<size_t>(t.view_of)].quantizer) << t.name;
    }
    // A group is named after its lowest id, which owns its space.
    EXPECT_LE(tp.quantizer, tp.id);
    EXPECT_FALSE(g.tensors[static_cast<size_t>(tp.quantizer)].is_view()) << t.name;
    EXPECT_EQ(tp.kind, p.tensors[static_cast<size_t>(tp.quantizer)].kind) << t.name;
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const auto& op = g.ops[i];
    if (op.kind == HwOpKind::kCopy) {
      ++copies;
      EXPECT_EQ(p.tensors[static_cast<size_t>(op.input)].quantizer,
                p.tensors[static_cast<size_t>(op.output)].quantizer)
          << op.name;
      EXPECT_EQ(p.ops[i].weight_quant, WeightQuant::kNone);
    }
    if (op.kind == HwOpKind::kConv && op.groups > 1 && op.groups == op.in.c) {
      ++depthwise;
      EXPECT_EQ(p.ops[i].weight_shape, (std::vector<int64_t>{op.out.c, 1, 3, 3})) << op.name;
      EXPECT_EQ(p.ops[i].weight_quant, WeightQuant::kLsq);
    }
  }
  EXPECT_GE(views, 4);
  EXPECT_EQ(copies, 1);     // the identity half of stage 3's basic unit
  EXPECT_EQ(depthwise, 7);  // 2 in each of the 3 downsampling units, 1 in the basic unit
  // Stage 3's two concatenations (its downsampling unit's and its basic
  // unit's, linked by the copy of the identity half) are one encoding; the
  // parts written by different convs share it.
  const TensorPlan& down = p.tensor("stage3.0.shuffle");
  const TensorPlan& basic = p.tensor("stage3.1.shuffle");
  EXPECT_EQ(down.quantizer, basic.quantizer);
  EXPECT_EQ(down.kind, ActQuant::kLsq);
  EXPECT_NE(p.tensor("stage2.0.shuffle").quantizer, down.quantizer);
  // Only a group's quantizer has trained parameters.
  std::set<std::string> names;
  for (const ParamSpec& s : parameter_specs(p)) names.insert(s.name);
  EXPECT_TRUE(names.count(tensor_key(p.tensors[static_cast<size_t>(down.quantizer)].name, "step")));
  EXPECT_FALSE(names.count(tensor_key("stage3.1.shuffle", "step")));
  EXPECT_FALSE(names.count(op_key("stage3.1.concat.copy0", "weight")));
}

TEST(SplitConcatConfig, NewBuildersAndTheirKeys) {
  const TrainConfig s = config(kShuffleNet);
  EXPECT_EQ(s.network.width, 0.5);
  EXPECT_EQ(s.network.cyclic_groups, 2);
  const TrainConfig back = parse_train_config(s.to_yaml(), "back.yaml");
  EXPECT_EQ(back.to_yaml(), s.to_yaml());
  const TrainConfig plain = config(kPlain18);
  EXPECT_EQ(plain.network.projections, "keep");
  EXPECT_EQ(parse_train_config(plain.to_yaml(), "back.yaml").to_yaml(), plain.to_yaml());
  EXPECT_NE(frontend::resolve_network(plain.network_request()).name().find("projections_keep"),
            std::string::npos);
  // Errors name the file, the line and the key.
  auto error_of = [](const std::string& network) {
    try {
      parse_train_config(config_text(network), "bad.yaml");
    } catch (const FileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string width = error_of(
      "  name: shufflenetv2\n  method: lsq\n  abits: 4\n  wbits: 4\n  width: 0.75\n"
      "  blocks: [1, 1, 1]\n");
  EXPECT_NE(width.find("bad.yaml:7"), std::string::npos) << width;
  EXPECT_NE(width.find("width"), std::string::npos) << width;
  const std::string base = error_of(
      "  name: shufflenetv2\n  method: lsq\n  abits: 4\n  wbits: 4\n  width: 0.5\n"
      "  base_width: 8\n  blocks: [1, 1, 1]\n");
  EXPECT_NE(base.find("base_width"), std::string::npos) << base;
  const std::string blocks = error_of(
      "  name: shufflenetv2\n  method: lsq\n  abits: 4\n  wbits: 4\n  width: 0.5\n"
      "  blocks: [1, 1, 1, 1]\n");
  EXPECT_NE(blocks.find("3 stages"), std::string::npos) << blocks;
  const std::string palquant = error_of(
      "  name: shufflenetv2\n  method: palquant\n  B: 2\n  G: 2\n  width: 0.5\n"
      "  blocks: [1, 1, 1]\n");
  EXPECT_NE(palquant.find("bad.yaml:4"), std::string::npos) << palquant;
  const std::string projections = error_of(
      "  name: resnet18\n  method: lsq\n  abits: 4\n  wbits: 4\n  base_width: 4\n"
      "  projections: drop\n  blocks: [1, 1, 1, 1]\n");
  EXPECT_NE(projections.find("plain18"), std::string::npos) << projections;
  const std::string cyclic = error_of(
      "  name: plain18\n  method: lsq\n  abits: 4\n  wbits: 4\n  base_width: 4\n"
      "  cyclic_groups: 2\n  blocks: [1, 1, 1, 1]\n");
  EXPECT_NE(cyclic.find("cyclic_groups"), std::string::npos) << cyclic;
}

// Trains one epoch (3 batches), exports, and runs test images through the
// integer path: every level of every tensor, the top-1 and the logits equal
// the trained fake-quantized path's.
void expect_trains_and_exports(const char* network) {
  TempDir d;
  TrainOptions o;
  o.progress = false;
  const TrainResult r = train(config(network), d.path() + "/run", o);
  ASSERT_TRUE(r.complete);
  EXPECT_TRUE(std::isfinite(r.epochs.back().train_loss));
  EXPECT_TRUE(r.exportable);
  const TrainedModel m = TrainedModel::load(d.path() + "/run");
  const IntegerModelFile f = integer_model_of(m, -10, 10);
  IntegerInference inference(f);
  const int count = 8;
  const auto test = bars(count, 22);
  std::vector<uint8_t> px(static_cast<size_t>(count) * kPixels);
  for (int i = 0; i < count; ++i) test->get(i, px.data() + static_cast<size_t>(i) * kPixels);
  const auto values = trained_tensor_values(m, px, count, 2);
  const std::vector<double>& logits = values[static_cast<size_t>(f.graph.output_tensor)];
  LevelComparison levels;
  for (int i = 0; i < count; ++i) {
    const IntegerPrediction p = inference.run(px.data() + static_cast<size_t>(i) * kPixels);
    compare_levels(m, p, values, i, levels);
    const double* trained_logits = logits.data() + static_cast<size_t>(i) * 4;
    EXPECT_EQ(p.top1, argmax(trained_logits, 4)) << "image " << i;
    for (int c = 0; c < 4; ++c) {
      EXPECT_NEAR(p.logits[static_cast<size_t>(c)], trained_logits[c],
                  1e-9 * (1 + std::fabs(trained_logits[c])));
    }
  }
  EXPECT_GT(levels.levels, count * 1000);
  EXPECT_EQ(levels.mismatches, 0);
  for (const auto& [t, n] : levels.mismatches_by_tensor) ADD_FAILURE() << t << ": " << n;
  // Every tensor the integer path computes was compared (views through their owners).
  for (const auto& t : m.graph().tensors) {
    if (t.is_view() || t.id == m.graph().output_tensor) continue;
    EXPECT_FALSE(values[static_cast<size_t>(t.id)].empty()) << t.name;
  }
}

TEST(SplitConcatTraining, ShuffleNetWithCyclicModulesTrainsAndExportsExactly) {
  expect_trains_and_exports(kShuffleNet);
}

TEST(SplitConcatTraining, Plain18PalQuantTrainsAndExportsExactly) {
  expect_trains_and_exports(kPlain18);
}

}  // namespace
}  // namespace palsim::training
