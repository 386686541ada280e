#pragma once
// What export, validate and evaluate share: the test images a model was
// trained with, and the integer path run over them with progress.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "frontend/arch/hw_config.h"
#include "frontend/lowering/compile.h"
#include "training/dataset.h"
#include "training/integer_inference.h"
#include "training/model_file.h"

namespace palsim::cli {

// The test split of the dataset in a training configuration (palsim-train-1
// text, `where` names it in errors), read from `data_dir` instead of the
// configured path when given; the first `limit` images (0: all of them;
// negative: the configuration's own data.test_limit, what training evaluated).
std::shared_ptr<const training::Dataset> open_test_split(const std::string& config_yaml,
                                                         const std::string& where,
                                                         const std::string& data_dir,
                                                         int64_t limit);

// Runs the integer path of `model` on the first `count` images of `data`,
// calling `each(index, pixels, label, prediction)` per image; progress on
// stderr. Returns the number of correct top-1 predictions.
using EachPrediction = std::function<void(int64_t index, const uint8_t* pixels, int label,
                                          const training::IntegerPrediction& p)>;
int64_t run_integer_path(const training::IntegerModelFile& model, const training::Dataset& data,
                         int64_t count, bool progress, const std::string& what,
                         const EachPrediction& each);

// Compiles a model file's network for an accelerator the way `palsim
// simulate` does (sim::compile), with the stem and classifier as 8-bit layers
// (fp_layers int8: the trained model's ends are 8-bit), batch 1, and checks
// that the compiled graph is the file's (its parameters are parallel to it).
frontend::Compiled compile_model(const frontend::HwConfig& hw,
                                 const training::IntegerModelFile& model, bool onchip,
                                 size_t refine, double cycle_tolerance, bool progress);

}  // namespace palsim::cli
