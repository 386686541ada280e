// palsim validate: runs the test set through the integer kernels and checks
// that they reproduce the trained fake-quantized model (identical top-1 on
// every image, logits within float rounding), and that the SystemC model of
// an accelerator computes every tensor of some images bit for bit.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/command.h"
#include "cli/model_data.h"
#include "cli/options.h"
#include "cli/provenance.h"
#include "common/data_dir.h"
#include "common/error.h"
#include "sim/simulator.h"
#include "training/integer_inference.h"
#include "training/model_file.h"

namespace palsim::cli {

namespace {

// Logits agree when |integer - trained| <= tolerance * (1 + |trained|). The
// integer path evaluates each op's affine map almost exactly (fixed point with
// 40+ fraction bits) from the integer accumulators. A float64 reference
// (trained_model.h, Arithmetic) differs from it by ~1e-15 and is stored in
// single precision (6e-8 relative): 1e-6. A float32 reference (files exported
// before the float64 one) sums the products in single precision (relative
// rounding ~1e-7 per operation, growing with the reduction length; measured
// differences below 1e-5): 1e-4. One level of difference at the classifier's
// input moves a logit by s_a s_w |q_w|, orders of magnitude more than either.
constexpr double kLogitToleranceFloat64 = 1e-6;
constexpr double kLogitToleranceFloat32 = 1e-4;

bool within_tolerance(double integer, double trained, double tolerance) {
  return std::fabs(integer - trained) <= tolerance * (1 + std::fabs(trained));
}

}  // namespace

int run_validate(const std::vector<std::string>& args) {
  std::string model_path, data_dir, hw_file = data_path("configs/bitfusion.yaml");
  int64_t limit = 0, sim_images = 1;
  bool json = false, quiet = false;
  po::options_description desc("palsim validate options");
  po::options_description_easy_init add = desc.add_options();
  add("model", po::value(&model_path), "MODEL: an integer model file (palsim export)");
  add("json", po::bool_switch(&json),
      "print one JSON object (accuracy, bit_exact_integer, bit_exact_sim, counts)");
  add("sim-images", po::value(&sim_images)->default_value(1),
      "run the first N test images through the SystemC detailed model and compare every tensor "
      "with the kernels (0: none)");
  add("hw", po::value(&hw_file)->default_value(hw_file),
      "accelerator configuration for --sim-images");
  add("data", po::value(&data_dir),
      "DIR: read the test set from here instead of the configured path");
  add("limit", po::value(&limit)->default_value(0),
      "validate the first N test images (0: every image the model file has predictions for)");
  add("quiet,q", po::bool_switch(&quiet), "no progress on stderr");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm, "usage: palsim validate MODEL [options]",
          "  palsim validate b2g2.pim\n"
          "  palsim validate b2g2.pim --json --sim-images 4 --hw configs/bpvec.yaml\n"
          "  palsim validate b2g2.pim --limit 1000 --sim-images 0")) {
    return kExitOk;
  }
  if (model_path.empty()) throw UsageError("missing MODEL");
  if (limit < 0) throw UsageError("--limit: must not be negative");
  if (sim_images < 0) throw UsageError("--sim-images: must not be negative");

  const training::IntegerModelFile model = training::read_integer_model(model_path);
  if (!model.reference) {
    throw InputError(
        fmt::format("{}: holds no predictions of the trained model to validate against "
                    "(export it with palsim export)",
                    model_path));
  }
  const training::ReferencePredictions& ref = *model.reference;
  const int64_t count = limit > 0 ? std::min(limit, ref.images) : ref.images;
  const auto test =
      open_test_split(model.config_yaml, model_path + " (meta/config)", data_dir, count);
  if (test->size() < count) {
    throw InputError(fmt::format("{}: {} test images, the model file has predictions for {}",
                                 test->name(), test->size(), count));
  }
  if (sim_images > count)
    throw UsageError(fmt::format("--sim-images: only {} test images are validated", count));

  const int classes = model.classes();
  const double tolerance =
      ref.arithmetic == "float64" ? kLogitToleranceFloat64 : kLogitToleranceFloat32;
  // The training path's own float32 predictions, when the file has them beside
  // a float64 reference: reported, not required to match.
  const bool has32 = !ref.float32_logits.empty();
  int64_t top1_differs = 0, outside = 0, outside_with_level_ties = 0, trained_correct = 0;
  int64_t float32_correct = 0, float32_top1_differs = 0;
  double max_error = 0, max_error_exact_levels = 0;
  int64_t first_top1_difference = -1, first_outside = -1;
  const int64_t correct = run_integer_path(
      model, *test, count, !quiet, "validate (integer kernels)",
      [&](int64_t i, const uint8_t* pixels, int label, const training::IntegerPrediction& p) {
        const size_t k = static_cast<size_t>(i);
        if (training::fnv1a64(pixels, static_cast<size_t>(test->image_shape().elements())) !=
                ref.image_hashes[k] ||
            label != ref.labels[k]) {
          throw InputError(fmt::format(
              "{}: test image {} differs from the one the model was exported with ({}); "
              "--data must point to the same data set",
              test->name(), i, ref.dataset));
        }
        const float* trained = ref.logits.data() + k * static_cast<size_t>(classes);
        const int trained_top1 = training::argmax(trained, classes);
        if (trained_top1 == label) ++trained_correct;
        if (trained_top1 != p.top1) {
          ++top1_differs;
          if (first_top1_difference < 0) first_top1_difference = i;
        }
        if (has32) {
          const int top1_32 = training::argmax(
              ref.float32_logits.data() + k * static_cast<size_t>(classes), classes);
          float32_correct += top1_32 == label;
          float32_top1_differs += top1_32 != p.top1;
        }
        bool ok = true;
        double err = 0;
        for (int c = 0; c < classes; ++c) {
          err = std::max(err, std::fabs(p.logits[static_cast<size_t>(c)] - trained[c]));
          ok = ok && within_tolerance(p.logits[static_cast<size_t>(c)], trained[c], tolerance);
        }
        max_error = std::max(max_error, err);
        // Images on which export found a level differing from the trained
        // path (a float rounding tie) are reported, not held to the tolerance.
        if (ref.levels_equal[k] == 0) {
          if (!ok) ++outside_with_level_ties;
        } else {
          max_error_exact_levels = std::max(max_error_exact_levels, err);
          if (!ok) {
            ++outside;
            if (first_outside < 0) first_outside = i;
          }
        }
      });

  // The detailed model on the first images.
  nlohmann::json sim_runs = nlohmann::json::array();
  bool sim_exact = sim_images > 0;
  std::string hw_name;
  std::optional<frontend::HwConfig> sim_hw;  // the configuration the images ran on
  if (sim_images > 0) {
    sim_hw = frontend::load_hw_config(hw_file);
    const frontend::HwConfig& cfg = *sim_hw;
    hw_name = cfg.name;
    const frontend::Compiled compiled = compile_model(cfg, model, true, 1, 0.01, false);
    training::IntegerInference inference(model);
    std::vector<uint8_t> pixels(inference.image_bytes());
    for (int64_t i = 0; i < sim_images; ++i) {
      test->get(i, pixels.data());
      sim::SimOptions so;
      so.mode = sim::SimMode::kDetailed;
      so.graph = &compiled.plan.graph;
      so.model = &inference.model_for(pixels.data());
      so.check_values = true;
      so.progress = !quiet;
      const sim::RunStats r = sim::simulate(cfg, compiled.program, so);
      const bool exact = r.values_checked && r.bit_exact;
      sim_exact = sim_exact && exact;
      nlohmann::json run = {{"image", i}, {"cycles", r.cycles}, {"bit_exact", exact}};
      if (!exact) run["first_mismatch"] = r.first_mismatch;
      sim_runs.push_back(run);
    }
  }

  const bool integer_exact = top1_differs == 0 && outside == 0;
  const double accuracy = static_cast<double>(correct) / static_cast<double>(count);
  const double trained_accuracy = static_cast<double>(trained_correct) / static_cast<double>(count);
  int64_t images_with_level_ties = 0;
  for (int64_t i = 0; i < count; ++i)
    images_with_level_ties += ref.levels_equal[static_cast<size_t>(i)] == 0;
  if (json) {
    nlohmann::json j;
    j["provenance"] =
        provenance_json(sim_hw ? &*sim_hw : nullptr, model_provenance(model_path, model.network),
                        {{"sim_images", sim_images}, {"mode", "detailed"}});
    j["model"] = model_path;
    j["dataset"] = ref.dataset;
    j["images"] = count;
    j["correct"] = correct;
    j["accuracy"] = accuracy;
    j["trained_accuracy"] = trained_accuracy;
    j["reference_arithmetic"] = ref.arithmetic;
    if (has32) {
      j["float32_accuracy"] = static_cast<double>(float32_correct) / static_cast<double>(count);
      j["float32_top1_differences"] = float32_top1_differs;
    }
    j["bit_exact_integer"] = integer_exact;
    j["top1_differences"] = top1_differs;
    j["logit_tolerance"] = tolerance;
    j["logit_tolerance_rule"] = "|integer - trained| <= tol * (1 + |trained|)";
    j["logits_outside_tolerance"] = outside;
    j["max_logit_difference"] = max_error;
    j["max_logit_difference_exact_levels"] = max_error_exact_levels;
    j["export_level_check"] = {{"images", ref.level_check.images},
                               {"levels", ref.level_check.levels},
                               {"levels_differing", ref.level_check.mismatches},
                               {"images_differing", ref.level_check.images_differing}};
    j["images_with_level_ties"] = images_with_level_ties;
    j["images_with_level_ties_outside_tolerance"] = outside_with_level_ties;
    j["bit_exact_sim"] = sim_exact;
    j["sim_images"] = sim_images;
    j["hardware"] = hw_name;
    j["sim_runs"] = sim_runs;
    std::cout << j.dump(2) << "\n";
  } else {
    fmt::print("model        {} ({} test images of {})\n", model_path, count, ref.dataset);
    fmt::print(
        "accuracy     {:.2f}% integer kernels, {:.2f}% trained fake-quantized model ({} "
        "reference)\n",
        100 * accuracy, 100 * trained_accuracy, ref.arithmetic);
    fmt::print("top-1        {} ({} of {} images differ)\n",
               top1_differs == 0 ? "identical" : "DIFFERENT", top1_differs, count);
    if (has32) {
      fmt::print(
          "float32      the training path's own single-precision evaluation: {:.2f}%, top-1 "
          "differs from the integer kernels on {} images (rounding ties; not required)\n",
          100.0 * static_cast<double>(float32_correct) / static_cast<double>(count),
          float32_top1_differs);
    }
    fmt::print(
        "logits       max |difference| {:.3g} ({:.3g} on images with every level equal); "
        "tolerance {:g} x (1 + |logit|): {} images outside\n",
        max_error, max_error_exact_levels, tolerance, outside);
    fmt::print(
        "levels       export compared {} levels of {} images: {} differ (rounding ties, "
        "in {} images)\n",
        ref.level_check.levels, ref.level_check.images, ref.level_check.mismatches,
        ref.level_check.images_differing);
    if (sim_images > 0) {
      fmt::print("SystemC      {} images on {}: {}\n", sim_images, hw_name,
                 sim_exact ? "every tensor bit-exact with the kernels" : "MISMATCH");
    } else {
      fmt::print("SystemC      not run (--sim-images 0)\n");
    }
  }
  std::vector<std::string> failures;
  if (top1_differs) {
    failures.push_back(fmt::format("top-1 differs from the trained model on {} images (first: {})",
                                   top1_differs, first_top1_difference));
  }
  if (outside) {
    failures.push_back(fmt::format("logits outside the tolerance on {} images (first: {})", outside,
                                   first_outside));
  }
  for (const auto& run : sim_runs) {
    if (!run["bit_exact"].get<bool>()) {
      failures.push_back(fmt::format("the detailed model differs from the kernels on image {}: {}",
                                     run["image"].get<int64_t>(),
                                     run["first_mismatch"].get<std::string>()));
    }
  }
  if (!failures.empty()) {
    for (const auto& f : failures) fmt::print(stderr, "validate: FAILED: {}\n", f);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace palsim::cli
