// palsim export: a trained run as an integer model file (training/model_file.h),
// with the trained fake-quantized model's predictions on the test set and the
// check that the integer path computes the trained path's levels.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "cli/command.h"
#include "cli/model_data.h"
#include "cli/options.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/progress.h"
#include "training/integer_export.h"
#include "training/integer_inference.h"
#include "training/trained_model.h"

namespace palsim::cli {

namespace {

// Images per evaluation batch: every tensor of every image of a
// batch is held (as doubles).
constexpr int kBatch = 32;

}  // namespace

int run_export(const std::vector<std::string>& args) {
  std::string run_dir, output, data_dir;
  int64_t limit = 0, check_images = -1;
  int threads = 0;
  bool quiet = false;
  po::options_description desc("palsim export options");
  po::options_description_easy_init add = desc.add_options();
  add("run", po::value(&run_dir),
      "RUN_DIR: a training run (palsim train -o RUN_DIR) or its checkpoint");
  add("output,o", po::value(&output), "MODEL: the integer model file to write");
  add("data", po::value(&data_dir),
      "DIR: read the test set from here instead of the configured path");
  add("limit", po::value(&limit),
      "store the trained model's predictions for the first N test images (0: the whole test set; "
      "default: the configuration's data.test_limit, the images training evaluated)");
  add("check-images", po::value(&check_images),
      "compare every tensor's levels with the trained path on the first N images (default: all)");
  add("threads", po::value(&threads)->default_value(0), "torch threads (0: torch's default)");
  add("quiet,q", po::bool_switch(&quiet), "no progress on stderr");
  po::positional_options_description pos;
  pos.add("run", 1);
  po::variables_map vm;
  if (!parse_command_line(args, desc, pos, vm, "usage: palsim export RUN_DIR -o MODEL [options]",
                          "  palsim export /tmp/smoke -o /tmp/smoke.pim\n"
                          "  palsim export runs/b2g2 -o b2g2.pim --check-images 1000\n"
                          "  palsim export runs/b2g2 -o b2g2.pim --limit 256 --data ~/fmnist")) {
    return kExitOk;
  }
  if (run_dir.empty()) throw UsageError("missing RUN_DIR");
  if (output.empty()) throw UsageError("missing -o MODEL");
  if (limit < 0) throw UsageError("--limit: must not be negative");
  if (vm.count("check-images") && check_images < 0)
    throw UsageError("--check-images: must not be negative");
  if (threads < 0) throw UsageError("--threads: must not be negative");
  check_output_path(output, "-o");

  const training::TrainedModel trained = training::TrainedModel::load(run_dir);
  if (!trained.exportable()) {
    throw InputError(
        fmt::format("{}: not exportable: {}", run_dir, trained.not_exportable_reason()));
  }
  if (trained.epochs_trained() < trained.epochs()) {
    fmt::print(stderr, "export: {} has trained {} of {} epochs; exporting its last checkpoint\n",
               run_dir, trained.epochs_trained(), trained.epochs());
  }
  const auto test = open_test_split(trained.config_yaml(), run_dir + " (configuration)", data_dir,
                                    vm.count("limit") ? limit : -1);
  const int64_t count = test->size();
  if (count < 1) throw InputError(fmt::format("{}: the test set is empty", test->name()));
  const int64_t checked = vm.count("check-images") ? std::min(check_images, count) : count;

  // The integer model; the logit range of its 8-bit output tensor is set once
  // the trained logits are known (it changes nothing that is compared here).
  training::IntegerModelFile model = training::integer_model_of(trained, 0, 1);
  model.source = run_dir;
  training::IntegerInference inference(model);
  const int classes = model.classes();
  const size_t image_bytes = inference.image_bytes();
  if (static_cast<size_t>(test->image_shape().elements()) != image_bytes ||
      test->classes() != classes) {
    throw InputError(fmt::format("{}: images of {} in {} classes do not fit the network",
                                 test->name(), frontend::to_string(test->image_shape()),
                                 test->classes()));
  }
  training::ReferencePredictions ref;
  ref.dataset = test->name();
  ref.arithmetic = training::to_string(training::Arithmetic::kFloat64);
  ref.images = count;
  ref.logits.reserve(static_cast<size_t>(count * classes));
  ref.float32_logits.reserve(static_cast<size_t>(count * classes));
  training::LevelComparison levels;
  const int output_tensor = model.graph.output_tensor;

  // The reference is the trained model in double precision; the training
  // path's own float32 logits are kept beside it (trained_model.h, Arithmetic).
  training::TrainedEvaluator reference(trained, training::Arithmetic::kFloat64, threads);
  training::TrainedEvaluator training_path(trained, training::Arithmetic::kFloat32, threads);
  Progress bar("export (trained path, level check)", "images", count, !quiet);
  std::vector<uint8_t> pixels;
  for (int64_t start = 0; start < count; start += kBatch) {
    const int n = static_cast<int>(std::min<int64_t>(kBatch, count - start));
    pixels.assign(image_bytes * static_cast<size_t>(n), 0);
    for (int i = 0; i < n; ++i) {
      uint8_t* px = pixels.data() + image_bytes * static_cast<size_t>(i);
      ref.labels.push_back(test->get(start + i, px));
      ref.image_hashes.push_back(training::fnv1a64(px, image_bytes));
    }
    const std::vector<std::vector<double>> values = reference.tensor_values(pixels, n);
    const std::vector<double>& logits = values[static_cast<size_t>(output_tensor)];
    for (double v : logits) ref.logits.push_back(static_cast<float>(v));
    const std::vector<double> logits32 = training_path.logits(pixels, n);
    for (double v : logits32) ref.float32_logits.push_back(static_cast<float>(v));
    for (int i = 0; i < n; ++i) {
      if (start + i >= checked) {
        ref.levels_equal.push_back(-1);
        continue;
      }
      const training::IntegerPrediction p =
          inference.run(pixels.data() + image_bytes * static_cast<size_t>(i));
      const int64_t before = levels.mismatches;
      training::compare_levels(trained, p, values, i, levels, training::Arithmetic::kFloat64);
      ref.levels_equal.push_back(levels.mismatches == before ? 1 : 0);
      if (levels.mismatches != before) ++ref.level_check.images_differing;
    }
    bar.update(start + n);
  }
  ref.level_check.images = checked;
  ref.level_check.levels = levels.levels;
  ref.level_check.mismatches = levels.mismatches;
  bar.finish();

  const auto [lo, hi] = std::minmax_element(ref.logits.begin(), ref.logits.end());
  training::IntegerModelFile final_model = training::integer_model_of(trained, *lo, *hi);
  final_model.source = run_dir;
  int64_t correct = 0, correct32 = 0, top1_differs32 = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int top1 = training::argmax(ref.logits.data() + i * classes, classes);
    const int top1_32 = training::argmax(ref.float32_logits.data() + i * classes, classes);
    const int64_t label = ref.labels[static_cast<size_t>(i)];
    correct += top1 == label;
    correct32 += top1_32 == label;
    top1_differs32 += top1 != top1_32;
  }
  final_model.reference = std::move(ref);
  training::write_integer_model(final_model, output);

  fmt::print("{}: integer model of {} ({} ops), {} test images of {}\n", output, run_dir,
             final_model.graph.ops.size(), count, test->name());
  fmt::print(
      "trained fake-quantized top-1 {:.2f}% (float64 reference; the float32 training path: "
      "{:.2f}%, top-1 differs on {} of {} images)\n",
      100.0 * static_cast<double>(correct) / count, 100.0 * static_cast<double>(correct32) / count,
      top1_differs32, count);
  fmt::print(
      "levels: {} images checked, {} tensor levels compared, {} differ from the trained path "
      "(in {} images); largest logit difference {:.3g}\n",
      checked, levels.levels, levels.mismatches,
      final_model.reference->level_check.images_differing, levels.max_logit_error);
  if (levels.mismatches) {
    fmt::print(
        "  {} of them within 1e-3 of a level boundary in the trained path (rounding ties); the "
        "others follow from a differing level upstream\n",
        levels.near_ties);
  }
  for (const auto& [tensor, n] : levels.mismatches_by_tensor) {
    const auto ties = levels.near_ties_by_tensor.find(tensor);
    fmt::print("  tensor {}: {} levels differ ({} rounding ties)\n", tensor, n,
               ties == levels.near_ties_by_tensor.end() ? 0 : ties->second);
  }
  return kExitOk;
}

}  // namespace palsim::cli
