// Trained models in sweeps: a `models:` entry becomes points crossed with the
// hardware list, they record the model's accuracy (from its stored test
// predictions) beside cycles and energy, the key follows the file's content,
// and `palsim plot` draws accuracy against energy.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "frontend/builders/registry.h"
#include "frontend/lowering/int_model.h"
#include "tests/cli/cli_test_util.h"
#include "training/model_file.h"

namespace palsim_test {
namespace {

using palsim::training::IntegerModelFile;

// A narrow PalQuant ResNet with synthetic parameters and a stored reference
// whose top-1 is right on `correct` of `images` images.
void write_model(const std::string& path, int correct, int images, uint64_t seed) {
  palsim::frontend::NetworkRequest req;
  req.network = "resnet18";
  req.method_given = true;
  req.method.method = palsim::frontend::Method::kPalQuant;
  req.method.B = 2;
  req.method.G = 2;
  req.input_size = 16;
  req.input_channels = 1;
  req.classes = 3;
  req.base_width = 4;
  req.blocks = std::vector<int>{1, 1, 1, 1};
  req.stem = "small";
  IntegerModelFile f;
  f.network = palsim::frontend::resolve_network(req);
  f.graph = palsim::training::integer_model_graph(f.network);
  f.model.ops = palsim::frontend::synthetic_model(f.graph, seed).ops;
  f.config_yaml = "format: palsim-train-1\n";
  f.source = "test";
  f.logit_scale = {1, 1, 1};
  f.logit_offset = {0, 0, 0};
  palsim::training::ReferencePredictions r;
  r.dataset = "test-set";
  r.images = images;
  for (int i = 0; i < images; ++i) {
    r.logits.insert(r.logits.end(), {0.f, 2.f, 1.f});  // top-1: class 1
    r.labels.push_back(i < correct ? 1 : 2);
    r.image_hashes.push_back(static_cast<uint64_t>(i));
    r.levels_equal.push_back(-1);
  }
  f.reference = r;
  palsim::training::write_integer_model(f, path);
}

TEST(CliSweepModels, PointsRecordAccuracyAndPlotAgainstEnergy) {
  TempDir dir;
  const std::string d = dir.path();
  write_model(d + "/a.palsim", 3, 4, 1);
  fs::create_directories(d + "/runs/b2g2");
  write_model(d + "/runs/b2g2/model.palsim", 1, 4, 2);
  {
    std::ofstream s(d + "/sweep.yaml");
    s << "format: palsim-sweep-1\nname: models\n"
      << "models: [a.palsim, {file: runs/b2g2/model.palsim}]\n"
      << "hardware: [" << kSource << "/configs/bitfusion.yaml, " << kSource
      << "/configs/bpvec.yaml]\n";
  }
  const Result run =
      palsim("sweep " + quoted(d + "/sweep.yaml") + " --db " + quoted(d + "/sweep.db") + " -j 2");
  ASSERT_EQ(run.code, 0) << run.err;
  const Result res = palsim("results " + quoted(d + "/sweep.db") + " --json");
  ASSERT_EQ(res.code, 0) << res.err;
  const auto points = nlohmann::json::parse(res.out);
  ASSERT_EQ(points.size(), 4u);
  std::map<std::string, double> accuracy;
  for (const auto& p : points) {
    EXPECT_EQ(p["status"], "done") << p.dump();
    EXPECT_EQ(p["method"], "trained");
    EXPECT_EQ(p["fp_layers"], "int8");
    EXPECT_GT(p["cycles"].get<uint64_t>(), 0u);
    accuracy[p["label"].get<std::string>()] = p["accuracy"].get<double>();
  }
  // Labels: the file's stem, or the run directory of a model.palsim.
  EXPECT_DOUBLE_EQ(accuracy.at("a"), 0.75);
  EXPECT_DOUBLE_EQ(accuracy.at("b2g2"), 0.25);

  const Result plot = palsim("plot " + quoted(d + "/sweep.db") + " -o " + quoted(d + "/plots"));
  ASSERT_EQ(plot.code, 0) << plot.err;
  const std::string csv = slurp(d + "/plots/accuracy_vs_energy.csv");
  EXPECT_CONTAINS(csv, "bitfusion,a,");
  EXPECT_CONTAINS(csv, ",75.000");
  EXPECT_CONTAINS(csv, "bpvec,b2g2,");

  // Another model under the same name is another point: --resume runs it again.
  write_model(d + "/a.palsim", 4, 4, 3);
  const Result again = palsim("sweep " + quoted(d + "/sweep.yaml") + " --db " +
                              quoted(d + "/sweep.db") + " --resume -j 2");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_CONTAINS(again.err + again.out, "2 done");
}

TEST(CliSweepModels, MissingOrCorruptModelIsAnErrorAtItsLine) {
  TempDir dir;
  const std::string d = dir.path();
  {
    std::ofstream s(d + "/sweep.yaml");
    s << "format: palsim-sweep-1\nname: models\nhardware: [" << kSource
      << "/configs/bitfusion.yaml]\n"
      << "models:\n  - nothing.palsim\n";
  }
  Result r = palsim("sweep " + quoted(d + "/sweep.yaml"));
  EXPECT_NE(r.code, 0);
  EXPECT_CONTAINS(r.err, "sweep.yaml:5");
  EXPECT_CONTAINS(r.err, "models[0]");
  {
    std::ofstream m(d + "/nothing.palsim");
    m << "not a model";
  }
  r = palsim("sweep " + quoted(d + "/sweep.yaml"));
  EXPECT_NE(r.code, 0);
  EXPECT_CONTAINS(r.err, "sweep.yaml:5");
  EXPECT_CONTAINS(r.err, "nothing.palsim");
  EXPECT_FALSE(fs::exists(d + "/sweep.db"));
}

}  // namespace
}  // namespace palsim_test
