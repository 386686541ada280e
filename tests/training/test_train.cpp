// Training runs: a smoke run (files, metrics, the accessor), bit-exact resume
// (2 epochs in one go == 1 epoch + resume), the trained model's levels equal
// the kernels' quantizers, the CLI on workloads/fmnist/smoke.yaml.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "common/error.h"
#include "tests/common/test_util.h"
#include "training/array_file.h"
#include "training/config.h"
#include "training/dataset.h"
#include "training/train_model.h"
#include "training/trained_model.h"
#include "training/trainer.h"

namespace palsim::training {
namespace {

using palsim_test::Contains;
using palsim_test::TempDir;

namespace fs = std::filesystem;

// Three classes of 12x12 images: a bright horizontal bar in the top, middle
// or bottom third, on noise. Registered as the dataset "synthetic-bars": a
// user dataset the trainer knows only through the registry.
std::shared_ptr<const Dataset> bars(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> px;
  std::vector<int> labels;
  for (int i = 0; i < n; ++i) {
    const int label = i % 3;
    const int row = label * 4 + static_cast<int>(rng() % 3);
    for (int y = 0; y < 12; ++y) {
      for (int x = 0; x < 12; ++x) {
        const int noise = static_cast<int>(rng() % 60);
        px.push_back(static_cast<uint8_t>(y == row ? 190 + noise : noise));
      }
    }
    labels.push_back(label);
  }
  return std::make_shared<InMemoryDataset>("synthetic-bars", frontend::Shape{1, 12, 12}, 3,
                                           std::move(px), std::move(labels));
}

const bool kRegistered = [] {
  register_dataset(
      "synthetic-bars",
      [](const DataConfig&) {
        return DataSplits{bars(96, 1), bars(48, 2)};
      },
      // An existing directory: the run's config.yaml names it and must read
      // back (data.path is checked to exist).
      fs::temp_directory_path().string());
  return true;
}();

std::string config_text(const std::string& network, int epochs,
                        const std::string& extra_training = "") {
  return "format: palsim-train-1\nnetwork:\n  name: resnet18\n" + network +
         "  input_size: 12\n  input_channels: 1\n  classes: 3\n  base_width: 4\n  blocks: [1, 1, "
         "1, 1]\n"
         "  stem: small\n"
         "data:\n  dataset: synthetic-bars\n"
         "training:\n  epochs: " +
         std::to_string(epochs) +
         "\n  batch_size: 32\n  lr_weights: 0.05\n  momentum: 0.9\n  weight_decay: 0.0001\n  seed: "
         "5\n"
         "  threads: 2\n" +
         extra_training;
}

const char* kPalQuant = "  method: palquant\n  B: 2\n  G: 2\n  channel_shuffle: per_block\n";
const char* kLsq = "  method: lsq\n  abits: 4\n  wbits: 4\n";
const char* kEwgs = "  method: ewgs\n  abits: 3\n  wbits: 3\n";
const char* kFp = "  method: fp\n";

TrainConfig config(const char* network, int epochs) {
  std::string extra;
  if (std::string(network) != kFp) extra += "  lr_quantizers: 0.001\n";
  if (std::string(network) == kEwgs) extra += "  ewgs_delta: 0.01\n";
  return parse_train_config(config_text(network, epochs, extra), "test.yaml");
}

TrainOptions quiet(int stop_after = 0) {
  TrainOptions o;
  o.progress = false;
  o.stop_after_epochs = stop_after;
  return o;
}

// Every trained value and optimizer state of a checkpoint (meta/* excluded:
// it holds timings).
std::map<std::string, NamedArray> state_of(const std::string& run_dir) {
  const ArrayFile f = ArrayFile::read(run_dir + "/" + kCheckpointFile);
  std::map<std::string, NamedArray> out;
  for (const auto& [name, a] : f.arrays()) {
    if (name.rfind("meta/", 0) != 0) out[name] = a;
  }
  return out;
}

TEST(Train, SmokeRunWritesEverythingAndTheAccessorReadsIt) {
  TempDir d;
  const std::string run = d.path() + "/run";
  const TrainConfig c = config(kPalQuant, 1);
  const TrainResult r = train(c, run, quiet());
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.epochs_done, 1);
  ASSERT_EQ(r.epochs.size(), 1u);
  EXPECT_TRUE(std::isfinite(r.epochs[0].train_loss));
  EXPECT_GT(r.epochs[0].images_per_second, 0);
  for (const char* f : {"config.yaml", "network.yaml", "checkpoint.bin", "metrics.json"}) {
    EXPECT_TRUE(fs::exists(run + "/" + f)) << f;
  }
  std::ifstream in(run + "/metrics.json");
  const nlohmann::json m = nlohmann::json::parse(in);
  EXPECT_EQ(m["epochs"].size(), 1u);
  EXPECT_TRUE(m["exportable"].get<bool>());
  EXPECT_DOUBLE_EQ(m["final_test_accuracy_percent"].get<double>(), r.final_test_accuracy_percent);
  // The resolved configuration reads back.
  EXPECT_EQ(load_train_config(run + "/config.yaml").to_yaml(), c.to_yaml());

  const TrainedModel tm = TrainedModel::load(run);
  EXPECT_TRUE(tm.exportable());
  EXPECT_EQ(tm.epochs_trained(), 1);
  EXPECT_EQ(tm.ops().size(), tm.graph().ops.size());
  const TrainedOp& conv = tm.op("layer1.0.conv1");
  EXPECT_EQ(conv.weight_quant, WeightQuant::kUniform);
  EXPECT_LT(conv.w_lower, conv.w_upper);
  EXPECT_NE(conv.alpha, 1.0f);  // initialized on the first batch
  const TrainedTensor& t = tm.tensor("relu");
  EXPECT_EQ(t.kind, ActQuant::kUniform);
  EXPECT_LT(t.lower, t.upper);
  EXPECT_EQ(tm.tensor("avgpool").kind, ActQuant::kLsq);
  EXPECT_GT(tm.tensor("avgpool").step, 0.0f);

  // The model's quantized weights are the kernels' levels times their values.
  TrainModel model(tm.plan(), 0);
  model.load_values(tm.values());
  for (const TrainedOp& op : tm.ops()) {
    if (op.kind != frontend::HwOpKind::kConv) continue;
    const std::vector<int32_t> q = op.weight_levels();
    const torch::Tensor w = model.quantized_weight(op.name).contiguous();
    ASSERT_EQ(static_cast<size_t>(w.numel()), q.size()) << op.name;
    const float* wp = w.data_ptr<float>();
    for (size_t i = 0; i < q.size(); ++i)
      ASSERT_EQ(wp[i], op.weight_value(q[i])) << op.name << " " << i;
  }
  // The float64 evaluation model keeps the trained weight levels and computes
  // their values in double: (2 q - L) / L, or q s_w.
  TrainModel wide(tm.plan(), 0, torch::kDouble);
  wide.load_values(tm.values());
  int wide_checked = 0;
  for (const TrainedOp& op : tm.ops()) {
    if (op.kind != frontend::HwOpKind::kConv || op.weight_quant == WeightQuant::kNone) continue;
    const std::vector<int32_t> q = op.weight_levels();
    const torch::Tensor w = wide.quantized_weight(op.name).contiguous();
    ASSERT_EQ(w.scalar_type(), torch::kDouble);
    const double* wp = w.data_ptr<double>();
    const double levels = static_cast<double>((1 << op.w_bits) - 1);
    for (size_t i = 0; i < q.size(); ++i) {
      const double expected = op.weight_quant == WeightQuant::kUniform
                                  ? (2.0 * q[i] - levels) / levels
                                  : q[i] * static_cast<double>(op.w_step);
      ASSERT_EQ(wp[i], expected) << op.name << " " << i;
    }
    ++wide_checked;
  }
  EXPECT_GT(wide_checked, 5);

  // Every tensor's levels: the trained model's values on some images, run
  // through the kernels' quantizers, reproduce the model's own quantized values.
  std::vector<uint8_t> images(4 * 144);
  for (int i = 0; i < 4; ++i) bars(4, 9)->get(i, images.data() + i * 144);
  const auto values = trained_tensor_values(tm, images, 4, 2, Arithmetic::kFloat32);
  int checked = 0;
  for (const TrainedTensor& tt : tm.tensors()) {
    if (tt.kind != ActQuant::kUniform && tt.kind != ActQuant::kLsq) continue;
    ASSERT_FALSE(values[static_cast<size_t>(tt.id)].empty()) << tt.name;
    for (double v : values[static_cast<size_t>(tt.id)]) {
      const int32_t q = tt.level(static_cast<float>(v));
      ASSERT_GE(q, 0);
      ASSERT_LE(q, tt.max_level());
    }
    ++checked;
  }
  EXPECT_GT(checked, 10);
  EXPECT_EQ(values[static_cast<size_t>(tm.graph().output_tensor)].size(), 4u * 3u);
  // The logits alone are those of the same run.
  EXPECT_EQ(trained_logits(tm, images, 4, 2, Arithmetic::kFloat32),
            values[static_cast<size_t>(tm.graph().output_tensor)]);

  // One evaluator run batch after batch (as export runs it) gives what a
  // model built for each batch gives: nothing of one batch leaks into the next.
  for (const Arithmetic a : {Arithmetic::kFloat32, Arithmetic::kFloat64}) {
    TrainedEvaluator evaluator(tm, a, 2);
    const std::vector<uint8_t> first(images.begin(), images.begin() + 2 * 144),
        second(images.begin() + 2 * 144, images.end());
    EXPECT_EQ(evaluator.tensor_values(images, 4), trained_tensor_values(tm, images, 4, 2, a));
    EXPECT_EQ(evaluator.logits(first, 2), trained_logits(tm, first, 2, 2, a));
    EXPECT_EQ(evaluator.tensor_values(second, 2), trained_tensor_values(tm, second, 2, 2, a));
    EXPECT_EQ(evaluator.logits(images, 4), trained_logits(tm, images, 4, 2, a));
  }
}

void expect_resume_is_exact(const char* network) {
  TempDir d;
  const TrainConfig c = config(network, 2);
  const std::string once = d.path() + "/once", twice = d.path() + "/twice";
  const TrainResult a = train(c, once, quiet());
  EXPECT_TRUE(a.complete);
  const TrainResult b1 = train(c, twice, quiet(1));
  EXPECT_FALSE(b1.complete);
  EXPECT_EQ(b1.epochs_done, 1);
  const TrainResult b2 = train(c, twice, quiet());
  EXPECT_EQ(b2.start_epoch, 1);
  EXPECT_TRUE(b2.complete);
  const auto sa = state_of(once), sb = state_of(twice);
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, arr] : sa) {
    auto it = sb.find(name);
    ASSERT_NE(it, sb.end()) << name;
    EXPECT_EQ(arr.shape, it->second.shape) << name;
    EXPECT_TRUE(arr.data == it->second.data) << name << " differs after resuming";
  }
  ASSERT_EQ(a.epochs.size(), b2.epochs.size());
  for (size_t i = 0; i < a.epochs.size(); ++i) {
    EXPECT_EQ(a.epochs[i].train_loss, b2.epochs[i].train_loss);
    EXPECT_EQ(a.epochs[i].test_accuracy_percent, b2.epochs[i].test_accuracy_percent);
  }
}

TEST(Train, ResumeGivesBitIdenticalParametersPalQuant) {
  expect_resume_is_exact(kPalQuant);
}
TEST(Train, ResumeGivesBitIdenticalParametersLsq) {
  expect_resume_is_exact(kLsq);
}
TEST(Train, ResumeGivesBitIdenticalParametersEwgs) {
  expect_resume_is_exact(kEwgs);
}
TEST(Train, ResumeGivesBitIdenticalParametersFp) {
  expect_resume_is_exact(kFp);
}

TEST(Train, ResumeRefusesAnotherConfigurationAndKeepsAFinishedRun) {
  TempDir d;
  const std::string run = d.path() + "/run";
  train(config(kLsq, 1), run, quiet());
  const auto before = state_of(run);
  const TrainResult again = train(config(kLsq, 1), run, quiet());
  EXPECT_TRUE(again.complete);
  EXPECT_EQ(again.start_epoch, 1);
  const auto after = state_of(run);
  for (const auto& [name, arr] : before) EXPECT_TRUE(arr.data == after.at(name).data) << name;
  try {
    train(config(kLsq, 3), run, quiet());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "another configuration");
  }
}

TEST(Train, QuantizerParametersReceiveGradients) {
  const TrainConfig c = config(kPalQuant, 1);
  const ModelPlan plan = plan_from_config(c);
  TrainModel m(plan, 1);
  std::vector<uint8_t> px(32 * 144);
  std::vector<int64_t> lab(32);
  const auto data = bars(32, 4);
  for (int i = 0; i < 32; ++i) lab[static_cast<size_t>(i)] = data->get(i, px.data() + i * 144);
  const torch::Tensor x =
      torch::from_blob(px.data(), {32, 1, 12, 12}, torch::TensorOptions().dtype(torch::kUInt8))
          .to(torch::kFloat) /
      255.0f;
  m.initialize_quantizers(x);
  const torch::Tensor loss = torch::cross_entropy_loss(m.forward(x, true), torch::tensor(lab));
  loss.backward();
  const auto names = m.group_names(ParamGroup::kQuantizers);
  const auto params = m.group(ParamGroup::kQuantizers);
  int nonzero = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    ASSERT_TRUE(params[i].grad().defined()) << names[i];
    EXPECT_TRUE(std::isfinite(params[i].grad().item<float>())) << names[i];
    if (params[i].grad().item<float>() != 0.0f) ++nonzero;
  }
  EXPECT_GT(nonzero, static_cast<int>(params.size()) / 2);
}

// --trace writes one line per step with the loss, gradient norms and every
// quantizer parameter; --stop-after-steps stops mid-epoch without a
// checkpoint (a look at the first steps of a long recipe).
TEST(Train, TraceRecordsTheFirstStepsAndAStepLimitSavesNothing) {
  TempDir d;
  const std::string run = d.path() + "/run";
  TrainOptions o = quiet();
  o.trace_path = d.path() + "/trace.jsonl";
  o.trace_steps = 2;
  o.stop_after_steps = 3;
  const TrainResult r = train(config(kPalQuant, 2), run, o);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.epochs_done, 0);
  EXPECT_FALSE(fs::exists(run + "/" + kCheckpointFile));
  std::ifstream in(o.trace_path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j["step"].get<int>(), lines);
    EXPECT_TRUE(std::isfinite(j["loss"].get<double>()));
    EXPECT_GT(j["grad_norm"]["weights"].get<double>(), 0);
    EXPECT_TRUE(j["quantizer"].contains("op/layer1.0.conv1/alpha"));
    EXPECT_TRUE(j["quantizer_grad"].contains("op/layer1.0.conv1/alpha"));
    EXPECT_TRUE(j["weight_grad_norm"].contains("op/layer1.0.conv1/weight"));
    ++lines;
  }
  EXPECT_EQ(lines, 2);
}

// Int8Scales::kTracked: the 8-bit stem's and FC's weight steps are not
// learned; after the run each is max|w| / 127 of its final weights (the step
// export reads), and the FC's input step is a running maximum.
TEST(Train, TrackedInt8StepsFollowTheirWeights) {
  TempDir d;
  const std::string run = d.path() + "/run";
  train(config(kPalQuant, 1), run, quiet());
  const ArrayFile f = ArrayFile::read(run + "/" + kCheckpointFile);
  EXPECT_EQ(f.get_text("meta/int8_scales"), "tracked");
  for (const char* op : {"conv1", "fc"}) {
    const NamedArray& w = f.get(std::string("op/") + op + "/weight");
    const NamedArray& st = f.get(std::string("op/") + op + "/wq/step");
    std::vector<float> v(w.data.size() / 4);
    std::memcpy(v.data(), w.data.data(), w.data.size());
    float largest = 0;
    for (float x : v) largest = std::max(largest, std::fabs(x));
    float step = 0;
    std::memcpy(&step, st.data.data(), 4);
    EXPECT_FLOAT_EQ(step, largest / 127.0f) << op;
    // Not an Adam parameter.
    EXPECT_FALSE(f.has(std::string("opt/adam/exp_avg/op/") + op + "/wq/step")) << op;
  }
  EXPECT_FALSE(f.has("opt/adam/exp_avg/tensor/avgpool/step"));
  EXPECT_TRUE(f.has("opt/adam/exp_avg/op/layer1.0.conv1/alpha"));
}

TEST(Train, DatasetThatDoesNotFitTheNetworkIsAConfigError) {
  std::string text = config_text(kLsq, 1, "  lr_quantizers: 0.001\n");
  text.replace(text.find("input_size: 12"), 14, "input_size: 16");
  const TrainConfig c = parse_train_config(text, "bad.yaml");
  TempDir d;
  try {
    train(c, d.path() + "/run", quiet());
    FAIL();
  } catch (const FileError& e) {
    EXPECT_CONTAINS(e.what(), "bad.yaml:");
    EXPECT_CONTAINS(e.what(), "network.input_size");
  }
}

TEST(Cli, SmokeConfigTrainsFromTheCommandLine) {
  if (!fs::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  if (!fs::exists(PALSIM_BINARY)) GTEST_SKIP() << "palsim is not built";
  TempDir d;
  const std::string cmd = std::string(PALSIM_BINARY) + " train " + PALSIM_SOURCE_DIR +
                          "/workloads/fmnist/smoke.yaml -o " + d.path() + "/run 2>" + d.path() +
                          "/err";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int status = ::pclose(p);
  std::ifstream err_in(d.path() + "/err");
  std::stringstream err;
  err << err_in.rdbuf();
  ASSERT_EQ(status, 0) << err.str();
  EXPECT_CONTAINS(out, "test accuracy");
  EXPECT_CONTAINS(err.str(), "images/s");
  EXPECT_CONTAINS(err.str(), "epoch 1/1");
  EXPECT_TRUE(fs::exists(d.path() + "/run/checkpoint.bin"));
}

}  // namespace
}  // namespace palsim::training
