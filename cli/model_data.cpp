#include "cli/model_data.h"

#include <fmt/format.h>

#include <vector>

#include "common/error.h"
#include "common/progress.h"
#include "sim/compile.h"
#include "training/config.h"

namespace palsim::cli {

std::shared_ptr<const training::Dataset> open_test_split(const std::string& config_yaml,
                                                         const std::string& where,
                                                         const std::string& data_dir,
                                                         int64_t limit) {
  const training::TrainConfig config = training::parse_train_config(config_yaml, where, "/");
  training::DataConfig data = config.data;
  if (limit < 0) limit = data.test_limit;  // as the configuration evaluated it
  if (!data_dir.empty()) data.path = data_dir;
  if (data.path.empty()) data.path = training::default_dataset_path(data.dataset);
  std::shared_ptr<const training::Dataset> test;
  if (data.dataset == "fashion-mnist") {
    // Only the test split (open_datasets would also decompress the 60,000
    // training images).
    test = training::load_fashion_mnist(data.path, "t10k");
  } else {
    data.train_limit = data.test_limit = 0;
    test = training::open_datasets(data).test;
  }
  if (limit > 0) test = std::make_shared<training::LimitedDataset>(test, limit);
  return test;
}

int64_t run_integer_path(const training::IntegerModelFile& model, const training::Dataset& data,
                         int64_t count, bool progress, const std::string& what,
                         const EachPrediction& each) {
  training::IntegerInference inference(model);
  const frontend::Shape shape = data.image_shape();
  if (static_cast<size_t>(shape.elements()) != inference.image_bytes()) {
    throw InputError(fmt::format("{}: images of {} do not fit the network's input ({} elements)",
                                 data.name(), frontend::to_string(shape), inference.image_bytes()));
  }
  if (data.classes() != model.classes()) {
    throw InputError(fmt::format("{}: {} classes, the model has {}", data.name(), data.classes(),
                                 model.classes()));
  }
  Progress bar(what, "images", count, progress);
  std::vector<uint8_t> pixels(inference.image_bytes());
  int64_t correct = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int label = data.get(i, pixels.data());
    const training::IntegerPrediction p = inference.run(pixels.data());
    if (p.top1 == label) ++correct;
    if (each) each(i, pixels.data(), label, p);
    bar.update(i + 1);
  }
  bar.finish(
      fmt::format("top-1 {:.2f}%",
                  count ? 100.0 * static_cast<double>(correct) / static_cast<double>(count) : 0.0));
  return correct;
}

frontend::Compiled compile_model(const frontend::HwConfig& hw,
                                 const training::IntegerModelFile& model, bool onchip,
                                 size_t refine, double cycle_tolerance, bool progress) {
  frontend::LoweringOptions lowering;
  lowering.fp_layers = frontend::FpLayerTreatment::kInt8;
  lowering.batch = 1;
  lowering.onchip_intermediates = onchip;
  frontend::Compiled c =
      sim::compile(hw, model.network, lowering, refine, cycle_tolerance, progress);
  const frontend::HwGraph& a = c.plan.graph;
  const frontend::HwGraph& b = model.graph;
  bool same = a.ops.size() == b.ops.size() && a.tensors.size() == b.tensors.size() &&
              a.input_tensor == b.input_tensor && a.output_tensor == b.output_tensor;
  for (size_t i = 0; same && i < a.ops.size(); ++i) {
    const frontend::HwOp& x = a.ops[i];
    const frontend::HwOp& y = b.ops[i];
    same = x.name == y.name && x.kind == y.kind && x.input == y.input && x.output == y.output &&
           x.residual == y.residual && x.out == y.out;
  }
  for (size_t t = 0; same && t < a.tensors.size(); ++t) {
    same = a.tensors[t].bits == b.tensors[t].bits && a.tensors[t].shape == b.tensors[t].shape;
  }
  if (!same) {
    throw InternalError(
        "the compiled hardware graph differs from the integer model's (lowering options)");
  }
  return c;
}

}  // namespace palsim::cli
