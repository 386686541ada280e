// The integer model file and export: the format round trip, refusal of
// corrupt, truncated, other-version and mismatched files, the integer path's
// levels against the trained fake-quantized path (PalQuant, LSQ, EWGS), and
// train -> export -> validate -> evaluate through the palsim executable.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/input_file.h"
#include "frontend/ir/network_yaml.h"
#include "frontend/lowering/int_model.h"
#include "tests/common/test_util.h"
#include "training/array_file.h"
#include "training/config.h"
#include "training/dataset.h"
#include "training/integer_export.h"
#include "training/integer_inference.h"
#include "training/model_file.h"
#include "training/trained_model.h"
#include "training/trainer.h"

namespace palsim::training {
namespace {

using palsim_test::Contains;
using palsim_test::TempDir;

namespace fs = std::filesystem;

// Four classes of 12x12 images: a bright bar in one of four places.
std::shared_ptr<const Dataset> bars(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> px;
  std::vector<int> labels;
  for (int i = 0; i < n; ++i) {
    const int label = i % 4;
    const int at = (label % 2) * 6 + static_cast<int>(rng() % 4);
    for (int y = 0; y < 12; ++y) {
      for (int x = 0; x < 12; ++x) {
        const bool bar = label < 2 ? y == at : x == at;
        px.push_back(static_cast<uint8_t>((bar ? 170 : 0) + rng() % 80));
      }
    }
    labels.push_back(label);
  }
  return std::make_shared<InMemoryDataset>("export-bars", frontend::Shape{1, 12, 12}, 4,
                                           std::move(px), std::move(labels));
}

const bool kRegistered = [] {
  register_dataset(
      "export-bars",
      [](const DataConfig&) {
        return DataSplits{bars(128, 11), bars(64, 12)};
      },
      "/nonexistent");
  return true;
}();

TrainConfig config(const std::string& form) {
  const std::string text =
      "format: palsim-train-1\nnetwork:\n  name: resnet18\n" + form +
      "  input_size: 12\n  input_channels: 1\n  classes: 4\n  base_width: 4\n"
      "  blocks: [1, 1, 1, 1]\n  stem: small\n"
      "data:\n  dataset: export-bars\n"
      "training:\n  epochs: 2\n  batch_size: 32\n  lr_weights: 0.05\n  lr_quantizers: 0.001\n"
      "  momentum: 0.9\n  weight_decay: 0.0001\n  seed: 3\n  threads: 2\n" +
      (form.find("ewgs") != std::string::npos ? "  ewgs_delta: 0.01\n" : "");
  return parse_train_config(text, "export-test.yaml");
}

const char* kPalQuant = "  method: palquant\n  B: 2\n  G: 2\n";
// The residual-only branch with a quantizer of its own (the previous default).
const char* kPalQuantOwnResidual =
    "  method: palquant\n  B: 2\n  G: 2\n  residual_quantizer: own\n";
const char* kLsq = "  method: lsq\n  abits: 4\n  wbits: 4\n";
const char* kEwgs = "  method: ewgs\n  abits: 3\n  wbits: 3\n";

TrainedModel trained(const std::string& form, const TempDir& d) {
  TrainOptions o;
  o.progress = false;
  train(config(form), d.path() + "/run", o);
  return TrainedModel::load(d.path() + "/run");
}

std::vector<uint8_t> test_images(int count) {
  const auto test = bars(64, 12);
  std::vector<uint8_t> px(static_cast<size_t>(count) * 144);
  for (int i = 0; i < count; ++i) test->get(i, px.data() + static_cast<size_t>(i) * 144);
  return px;
}

// Every quantized tensor's levels and the logits of the integer path equal
// the trained path's on the test images.
void expect_integer_path_reproduces(const char* form) {
  TempDir d;
  const TrainedModel m = trained(form, d);
  ASSERT_TRUE(m.exportable()) << m.not_exportable_reason();
  const IntegerModelFile f = integer_model_of(m, -10, 10);
  IntegerInference inference(f);
  const int count = 64;
  const std::vector<uint8_t> px = test_images(count);
  const auto values = trained_tensor_values(m, px, count, 2);
  const std::vector<double>& logits = values[static_cast<size_t>(f.graph.output_tensor)];
  LevelComparison levels;
  for (int i = 0; i < count; ++i) {
    const IntegerPrediction p = inference.run(px.data() + static_cast<size_t>(i) * 144);
    compare_levels(m, p, values, i, levels);
    const double* trained_logits = logits.data() + static_cast<size_t>(i) * 4;
    EXPECT_EQ(p.top1, argmax(trained_logits, 4)) << "image " << i;
    for (int c = 0; c < 4; ++c) {
      EXPECT_NEAR(p.logits[static_cast<size_t>(c)], trained_logits[c],
                  1e-9 * (1 + std::fabs(trained_logits[c])));
    }
  }
  EXPECT_GT(levels.levels, 64 * 1000);
  EXPECT_EQ(levels.mismatches, 0) << "levels differing from the trained path";
  for (const auto& [t, n] : levels.mismatches_by_tensor) ADD_FAILURE() << t << ": " << n;
}

// The requantization parameters are the trained model's affine maps in exact
// arithmetic, as the float64 reference evaluates them: a uniform tensor's
// step (u - l) / L in particular is not rounded to single precision (it was:
// export then differed from the float64 reference by ~1e-6 of a level, and
// trained LSQ 6/6 and 8/8 Fashion-MNIST models flipped levels on ties).
// Levels and logits of small models rarely show such an error; the
// parameters do.
void expect_residual_scales_are_exact(const char* form) {
  TempDir d;
  const TrainedModel m = trained(form, d);
  const IntegerModelFile f = integer_model_of(m, -10, 10);
  using Real = long double;
  const auto step = [](const TrainedTensor& t) -> Real {
    if (t.kind == ActQuant::kLsq) return t.step;
    return (static_cast<Real>(t.upper) - t.lower) / t.max_level();
  };
  int checked = 0;
  for (size_t i = 0; i < f.graph.ops.size(); ++i) {
    const frontend::HwOp& op = f.graph.ops[i];
    if (op.residual < 0) continue;
    const TrainedTensor& res = m.tensors()[static_cast<size_t>(op.residual)];
    const TrainedTensor& out = m.tensors()[static_cast<size_t>(op.output)];
    const kernels::RequantParams& rq = f.model.ops[i].requant;
    // residual_scale = (the residual's step) / (the output's step), in 2^-frac_bits units.
    const Real expected = step(res) / step(out);
    const Real got = std::ldexp(static_cast<Real>(rq.residual_scale), -rq.frac_bits);
    EXPECT_NEAR(static_cast<double>(got / expected), 1.0, 1e-12) << op.name;
    checked += res.kind == ActQuant::kUniform || out.kind == ActQuant::kUniform;
  }
  EXPECT_GT(checked, 0) << "no residual op involves a uniform tensor";
}

TEST(Export, RequantizationIsExactForLsqResiduals) {
  expect_residual_scales_are_exact(kLsq);
}
TEST(Export, RequantizationIsExactForPalQuantResiduals) {
  expect_residual_scales_are_exact(kPalQuant);
}

TEST(Export, RequantizationIsExactForPalQuantOwnResidualQuantizers) {
  expect_residual_scales_are_exact(kPalQuantOwnResidual);
}

TEST(Export, IntegerPathReproducesTheTrainedPalQuantModel) {
  expect_integer_path_reproduces(kPalQuant);
}
TEST(Export, IntegerPathReproducesTheTrainedPalQuantModelWithOwnResidualQuantizers) {
  expect_integer_path_reproduces(kPalQuantOwnResidual);
}
TEST(Export, IntegerPathReproducesTheTrainedLsqModel) {
  expect_integer_path_reproduces(kLsq);
}
TEST(Export, IntegerPathReproducesTheTrainedEwgsModel) {
  expect_integer_path_reproduces(kEwgs);
}

// A model file without training: the smoke network's graph with synthetic
// parameters and a small reference.
IntegerModelFile synthetic_file() {
  const TrainConfig c = config(kPalQuant);
  IntegerModelFile f;
  f.network = build_network(c);
  f.graph = integer_model_graph(f.network);
  f.model.ops = frontend::synthetic_model(f.graph, 7).ops;
  f.config_yaml = c.to_yaml();
  f.source = "synthetic";
  f.logit_scale = {0.5, 0.25, -0.125, 1.0};
  f.logit_offset = {0.0, 1.5, -2.0, 0.25};
  ReferencePredictions r;
  r.dataset = "export-bars";
  r.images = 3;
  r.logits = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  r.labels = {0, 3, 2};
  r.image_hashes = {1, 2, 3};
  r.levels_equal = {1, 0, -1};
  r.level_check = {2, 1000, 1, 1};
  r.arithmetic = "float64";
  r.float32_logits = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12.5};
  f.reference = r;
  return f;
}

void expect_error(const std::string& bytes, const std::string& part) {
  try {
    parse_integer_model(bytes, "m.pim");
    ADD_FAILURE() << "accepted; expected an error with '" << part << "'";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("m.pim"), std::string::npos) << what;
    EXPECT_NE(what.find(part), std::string::npos) << what;
  }
}

TEST(ModelFile, RoundTripsEveryValue) {
  const IntegerModelFile f = synthetic_file();
  const IntegerModelFile g = parse_integer_model(serialize_integer_model(f), "m.pim");
  ASSERT_EQ(g.model.ops.size(), f.model.ops.size());
  for (size_t i = 0; i < f.model.ops.size(); ++i) {
    const auto &a = f.model.ops[i], &b = g.model.ops[i];
    EXPECT_EQ(a.weights, b.weights) << i;
    if (f.graph.ops[i].kind == frontend::HwOpKind::kMaxPool) continue;
    EXPECT_EQ(a.requant.scale, b.requant.scale) << i;
    EXPECT_EQ(a.requant.offset, b.requant.offset) << i;
    EXPECT_EQ(a.requant.frac_bits, b.requant.frac_bits) << i;
    EXPECT_EQ(a.requant.relu_before_residual, b.requant.relu_before_residual) << i;
    EXPECT_EQ(a.requant.relu_after_residual, b.requant.relu_after_residual) << i;
    EXPECT_EQ(a.requant.has_residual, b.requant.has_residual) << i;
    EXPECT_EQ(a.requant.residual_scale, b.requant.residual_scale) << i;
    EXPECT_EQ(a.requant.residual_offset, b.requant.residual_offset) << i;
    EXPECT_EQ(a.requant.out_min, b.requant.out_min) << i;
    EXPECT_EQ(a.requant.out_max, b.requant.out_max) << i;
  }
  EXPECT_EQ(g.logit_scale, f.logit_scale);
  EXPECT_EQ(g.logit_offset, f.logit_offset);
  EXPECT_EQ(g.config_yaml, f.config_yaml);
  EXPECT_EQ(g.graph.ops.size(), f.graph.ops.size());
  ASSERT_TRUE(g.reference.has_value());
  EXPECT_EQ(g.reference->logits, f.reference->logits);
  EXPECT_EQ(g.reference->labels, f.reference->labels);
  EXPECT_EQ(g.reference->image_hashes, f.reference->image_hashes);
  EXPECT_EQ(g.reference->levels_equal, f.reference->levels_equal);
  EXPECT_EQ(g.reference->level_check.mismatches, 1);
  EXPECT_EQ(g.reference->arithmetic, "float64");
  EXPECT_EQ(g.reference->float32_logits, f.reference->float32_logits);
  // Both run identically.
  IntegerInference a(f), b(g);
  const std::vector<uint8_t> px = test_images(2);
  for (int i = 0; i < 2; ++i) {
    const IntegerPrediction pa = a.run(px.data() + i * 144), pb = b.run(px.data() + i * 144);
    EXPECT_EQ(pa.logits, pb.logits);
    EXPECT_EQ(pa.tensors, pb.tensors);
  }
}

TEST(ModelFile, RefusesCorruptTruncatedAndOtherFiles) {
  const std::string good = serialize_integer_model(synthetic_file());
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x20;
  expect_error(flipped, "checksum");
  expect_error(good.substr(0, good.size() - 100), "corrupt");
  expect_error(good.substr(0, 10), "");
  std::string magic = good;
  magic[0] = 'X';
  expect_error(magic, "bad magic");
  expect_error("", "palsim export");
  // A checkpoint (another kind of array file).
  ArrayFile other;
  other.put_text("meta/format", "palsim-train-checkpoint-1");
  expect_error(other.serialize(), "not a palsim integer model");
}

// Re-serializes `good` with one entry changed.
std::string edited(const std::string& good, const std::function<void(ArrayFile&)>& edit) {
  ArrayFile a = ArrayFile::parse(good, "m.pim");
  edit(a);
  return a.serialize();
}

// A file written before the arithmetic entries holds a float32 reference.
TEST(ModelFile, WithoutArithmeticEntriesHoldsAFloat32Reference) {
  const std::string old = edited(serialize_integer_model(synthetic_file()), [](ArrayFile& a) {
    a.remove("reference/arithmetic");
    a.remove("reference/float32_logits");
  });
  const IntegerModelFile h = parse_integer_model(old, "old.pim");
  EXPECT_EQ(h.reference->arithmetic, "float32");
  EXPECT_TRUE(h.reference->float32_logits.empty());
}

TEST(ModelFile, RefusesOtherVersionsAndFilesThatDoNotMatchTheirNetwork) {
  const IntegerModelFile f = synthetic_file();
  const std::string good = serialize_integer_model(f);
  const std::string conv = f.graph.ops[0].name;
  expect_error(edited(good, [](ArrayFile& a) { a.put_int64("meta/version", 2); }),
               "format version 2");
  expect_error(edited(good,
                      [&](ArrayFile& a) {
                        const int64_t w[2] = {1, 1};
                        a.put_int64s("op/" + conv + "/weights", {2}, w);
                      }),
               "entry 'op/" + conv + "/weights' has shape [2]");
  expect_error(edited(good,
                      [&](ArrayFile& a) {
                        std::vector<int64_t> s = a.get("op/" + conv + "/scale").int64s();
                        s.pop_back();
                        a.put_int64s("op/" + conv + "/scale", {static_cast<int64_t>(s.size())},
                                     s.data());
                      }),
               "/scale' has shape");
  expect_error(edited(good, [](ArrayFile& a) { a.put_int64("op/nowhere/weights", 1); }),
               "unexpected entry 'op/nowhere/weights'");
  // Another network: wider, so every conv's weights mismatch.
  IntegerModelFile wider = f;
  TrainConfig c = config(kPalQuant);
  c.network.base_width = 8;
  wider.network = build_network(c);
  expect_error(edited(good,
                      [&](ArrayFile& a) {
                        a.put_text("meta/network", frontend::network_to_yaml(wider.network));
                      }),
               "the network needs");
  // Weight levels out of their range.
  expect_error(edited(good,
                      [&](ArrayFile& a) {
                        std::vector<int64_t> w = a.get("op/" + conv + "/weights").int64s();
                        w[0] = 100000;
                        a.put_int64s("op/" + conv + "/weights",
                                     a.get("op/" + conv + "/weights").shape, w.data());
                      }),
               "outside");
  expect_error(edited(good,
                      [](ArrayFile& a) {
                        a.put_int64s("reference/labels", {3}, std::vector<int64_t>{0, 9, 1}.data());
                      }),
               "reference label 9");
}

// ---------------------------------------------------------------------------
// The executable: train -> export -> validate -> evaluate on the smoke config.
// ---------------------------------------------------------------------------

struct CliRun {
  int code = -1;
  std::string out, err;
};

CliRun run_palsim(const std::string& args, const TempDir& d) {
  const std::string err_file = d.path() + "/stderr";
  const std::string cmd = std::string("'") + PALSIM_BINARY + "' " + args + " 2>'" + err_file + "'";
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  return r;
}

TEST(Cli, SmokeModelTrainsExportsValidatesAndEvaluates) {
  if (!fs::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  if (!fs::exists(PALSIM_BINARY)) GTEST_SKIP() << "palsim is not built";
  TempDir d;
  const std::string run = d.path() + "/run", model = d.path() + "/smoke.pim";
  CliRun r = run_palsim(
      std::string("train -q ") + PALSIM_SOURCE_DIR + "/workloads/fmnist/smoke.yaml -o " + run, d);
  ASSERT_EQ(r.code, 0) << r.err;

  r = run_palsim("export " + run + " -o " + model + " --limit 256", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("256 test images"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("images/s"), std::string::npos) << r.err;  // progress

  r = run_palsim("validate " + model + " --json --sim-images 1", d);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const nlohmann::json v = nlohmann::json::parse(r.out);
  EXPECT_TRUE(v["bit_exact_integer"].get<bool>()) << v.dump(2);
  EXPECT_TRUE(v["bit_exact_sim"].get<bool>()) << v.dump(2);
  EXPECT_EQ(v["images"].get<int>(), 256);
  EXPECT_EQ(v["top1_differences"].get<int>(), 0);
  EXPECT_GE(v["accuracy"].get<double>(), 0.0);
  EXPECT_EQ(v["accuracy"].get<double>(), v["trained_accuracy"].get<double>());
  EXPECT_EQ(v["reference_arithmetic"], "float64");
  EXPECT_EQ(v["logit_tolerance"].get<double>(), 1e-6);
  // The training path's own float32 evaluation, reported beside it.
  EXPECT_GE(v["float32_top1_differences"].get<int>(), 0);
  EXPECT_NEAR(v["float32_accuracy"].get<double>(), v["accuracy"].get<double>(), 0.02);
  EXPECT_EQ(v["sim_runs"].size(), 1u);

  r = run_palsim("evaluate " + model + " --json --limit 64 --refine 1", d);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json e = nlohmann::json::parse(r.out);
  EXPECT_EQ(e["fp_layers"], "int8");
  EXPECT_GT(e["cycles"].get<double>(), 0);
  EXPECT_GT(e["energy_pj"].get<double>(), 0);
  EXPECT_GT(e["bitops"].get<double>(), 0);
  EXPECT_TRUE(e["energy_breakdown_pj"].is_object());
  EXPECT_EQ(e["images"].get<int>(), 64);

  // A model whose stored trained predictions disagree fails loudly.
  ArrayFile a = ArrayFile::read(model);
  std::vector<float> logits = a.get("reference/logits").floats();
  for (size_t i = 0; i < 10; ++i) logits[i] = i == 0 ? 100.0f : (i == 1 ? 200.0f : 0.0f);
  a.put_floats("reference/logits", a.get("reference/logits").shape, logits.data());
  const std::string bad = d.path() + "/bad.pim";
  a.write(bad);
  r = run_palsim("validate " + bad + " --sim-images 0 --limit 8", d);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.err.find("validate: FAILED"), std::string::npos) << r.err;

  // A truncated file is refused with its name.
  const std::string bytes = palsim::read_file(model);
  std::ofstream(d.path() + "/cut.pim", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  r = run_palsim("validate " + d.path() + "/cut.pim", d);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cut.pim"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace palsim::training
