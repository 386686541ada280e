// A diverged run is reported as such and never saved as a finished model:
// the rules of divergence.h, and a run on labels no network can learn (its
// training accuracy stays at chance) failing with TrainingDiverged, its
// metrics.json saying why, and no checkpoint written.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "tests/common/test_util.h"
#include "training/config.h"
#include "training/dataset.h"
#include "training/divergence.h"
#include "training/trainer.h"

namespace palsim::training {
namespace {

namespace fs = std::filesystem;
using palsim_test::TempDir;

EpochHealth healthy() {
  EpochHealth h;
  h.steps = 100;
  h.train_loss = 0.5;
  h.train_accuracy_percent = 80;
  h.classes = 10;
  h.distinct_test_predictions = 10;
  h.distinct_test_labels = 10;
  return h;
}

TEST(Divergence, AHealthyEpochPasses) {
  EXPECT_EQ(divergence_reason(healthy()), "");
}

TEST(Divergence, ANonFiniteLossIsDivergence) {
  for (double loss :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    EpochHealth h = healthy();
    h.train_loss = loss;
    EXPECT_NE(divergence_reason(h), "") << loss;
    h.steps = 1;  // whatever the epoch's length
    EXPECT_NE(divergence_reason(h), "") << loss;
  }
}

TEST(Divergence, TrainingAccuracyAtChanceIsDivergence) {
  EXPECT_DOUBLE_EQ(chance_threshold_percent(10), 14.5);
  EpochHealth h = healthy();
  h.train_accuracy_percent = 16.0;  // the diverged epoch: above the threshold ...
  EXPECT_EQ(divergence_reason(h), "");
  h.train_accuracy_percent = 11.0;
  EXPECT_NE(divergence_reason(h).find("at chance"), std::string::npos);
  // ... a handful of steps is not judged by accuracy.
  h.steps = kMinStepsToJudge - 1;
  EXPECT_EQ(divergence_reason(h), "");
}

TEST(Divergence, OneClassForEveryTestImageIsDivergence) {
  EpochHealth h = healthy();
  h.train_accuracy_percent = 16.0;
  h.distinct_test_predictions = 1;
  EXPECT_NE(divergence_reason(h).find("one class"), std::string::npos);
  h.distinct_test_labels = 1;  // a one-class test set says nothing
  EXPECT_EQ(divergence_reason(h), "");
}

// Ten classes of noise images with random labels: nothing to learn, so the
// accuracy on each batch before its step is chance (10% +- 1.5% over 400
// images, against the 14.5% threshold).
std::shared_ptr<const Dataset> noise(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> px;
  std::vector<int> labels;
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 64; ++k) px.push_back(static_cast<uint8_t>(rng() % 256));
    labels.push_back(static_cast<int>(rng() % 10));
  }
  return std::make_shared<InMemoryDataset>("random-labels", frontend::Shape{1, 8, 8}, 10,
                                           std::move(px), std::move(labels));
}

const bool kRegistered = [] {
  register_dataset(
      "random-labels",
      [](const DataConfig&) {
        return DataSplits{noise(400, 1), noise(100, 2)};
      },
      fs::temp_directory_path().string());
  return true;
}();

TEST(Divergence, ARunAtChanceFailsAndSavesNoModel) {
  const std::string text =
      "format: palsim-train-1\n"
      "network:\n  name: resnet18\n  method: lsq\n  abits: 4\n  wbits: 4\n  input_size: 8\n"
      "  input_channels: 1\n  classes: 10\n  base_width: 4\n  blocks: [1, 1, 1, 1]\n"
      "  stem: small\n"
      "data:\n  dataset: random-labels\n"
      "training:\n  epochs: 2\n  batch_size: 8\n  lr_weights: 0.05\n  lr_quantizers: 0.001\n"
      "  momentum: 0.9\n  weight_decay: 0.0001\n  seed: 1\n  threads: 1\n";
  const TrainConfig c = parse_train_config(text, "chance.yaml");
  TempDir d;
  const std::string run = d.path() + "/run";
  TrainOptions o;
  o.progress = false;
  try {
    train(c, run, o);
    FAIL() << "a run at chance was not reported";
  } catch (const TrainingDiverged& e) {
    EXPECT_NE(std::string(e.what()).find("diverged in epoch 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("at chance"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(run + "/" + kCheckpointFile));
  std::ifstream in(run + "/" + kMetricsFile);
  ASSERT_TRUE(in.good());
  const nlohmann::json m = nlohmann::json::parse(in);
  EXPECT_EQ(m["diverged"]["epoch"].get<int>(), 1);
  EXPECT_NE(m["diverged"]["reason"].get<std::string>().find("at chance"), std::string::npos);
  EXPECT_TRUE(m["final_test_accuracy_percent"].is_null());
  ASSERT_EQ(m["epochs"].size(), 1u);  // the diverged epoch's figures, for the record
  EXPECT_LT(m["epochs"][0]["train_accuracy_percent"].get<double>(), 14.5);
}

}  // namespace
}  // namespace palsim::training
