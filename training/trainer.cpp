#include "training/trainer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/progress.h"
#include "frontend/ir/network_yaml.h"
#include "training/array_file.h"
#include "training/optim.h"
#include "training/quant_plan.h"
#include "training/step_trace.h"
#include "training/train_model.h"

namespace palsim::training {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

uint64_t epoch_seed(int64_t seed, int epoch) {
  return static_cast<uint64_t>(seed) * 1000003ull + static_cast<uint64_t>(epoch);
}

// Unbiased integer in [0, bound) from the generator's raw output (portable:
// no library distribution).
uint64_t below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;
  while (true) {
    const uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

// The order in which epoch `epoch` visits the training images.
std::vector<int64_t> epoch_order(int64_t n, int64_t seed, int epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(epoch_seed(seed, epoch));
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t j = below(rng, static_cast<uint64_t>(i) + 1);
    std::swap(order[static_cast<size_t>(i)], order[j]);
  }
  return order;
}

// Images (pixel / 255, float) and labels of `indices`.
void make_batch(const Dataset& d, const int64_t* indices, int64_t count,
                std::vector<uint8_t>& buffer, torch::Tensor& images, torch::Tensor& labels) {
  const frontend::Shape s = d.image_shape();
  const size_t per = static_cast<size_t>(s.elements());
  buffer.resize(per * static_cast<size_t>(count));
  labels = torch::empty({count}, torch::TensorOptions().dtype(torch::kLong));
  int64_t* lp = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < count; ++i)
    lp[i] = d.get(indices[i], buffer.data() + per * static_cast<size_t>(i));
  images = torch::from_blob(buffer.data(), {count, s.c, s.h, s.w},
                            torch::TensorOptions().dtype(torch::kUInt8))
               .to(torch::kFloat)
               .div_(255.0f);
}

nlohmann::json to_json(const EpochMetrics& m) {
  return nlohmann::json{{"epoch", m.epoch},
                        {"train_loss", m.train_loss},
                        {"train_accuracy_percent", m.train_accuracy_percent},
                        {"test_loss", m.test_loss},
                        {"test_accuracy_percent", m.test_accuracy_percent},
                        {"images_per_second", m.images_per_second},
                        {"seconds", m.seconds},
                        {"lr_weights", m.lr_weights},
                        {"lr_quantizers", m.lr_quantizers}};
}

EpochMetrics from_json(const nlohmann::json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch").get<int>();
  m.train_loss = j.at("train_loss").get<double>();
  m.train_accuracy_percent = j.at("train_accuracy_percent").get<double>();
  m.test_loss = j.at("test_loss").get<double>();
  m.test_accuracy_percent = j.at("test_accuracy_percent").get<double>();
  m.images_per_second = j.at("images_per_second").get<double>();
  m.seconds = j.at("seconds").get<double>();
  m.lr_weights = j.at("lr_weights").get<double>();
  m.lr_quantizers = j.at("lr_quantizers").get<double>();
  return m;
}

struct Evaluation {
  double loss = 0, accuracy_percent = 0;
  int64_t distinct_predictions = 0, distinct_labels = 0;
};

Evaluation evaluate(TrainModel& model, const Dataset& d, int batch_size) {
  torch::NoGradGuard no_grad;
  Evaluation e;
  const int64_t n = d.size();
  if (n == 0) return e;
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = i;
  std::vector<uint8_t> buffer;
  double loss_sum = 0;
  int64_t correct = 0;
  // Which classes are predicted and present (a collapsed network predicts one).
  std::vector<bool> predicted, present;
  const auto mark = [](std::vector<bool>& seen, const torch::Tensor& classes) {
    const torch::Tensor c = classes.contiguous();
    const int64_t* p = c.data_ptr<int64_t>();
    for (int64_t i = 0; i < c.numel(); ++i) {
      if (p[i] < 0) continue;
      if (static_cast<size_t>(p[i]) >= seen.size()) seen.resize(static_cast<size_t>(p[i]) + 1);
      seen[static_cast<size_t>(p[i])] = true;
    }
  };
  for (int64_t b = 0; b < n; b += batch_size) {
    const int64_t count = std::min<int64_t>(batch_size, n - b);
    torch::Tensor images, labels;
    make_batch(d, idx.data() + b, count, buffer, images, labels);
    const torch::Tensor logits = model.forward(images, false);
    loss_sum += torch::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum).item<double>();
    const torch::Tensor pred = logits.argmax(1);
    correct += pred.eq(labels).sum().item<int64_t>();
    mark(predicted, pred);
    mark(present, labels);
  }
  e.distinct_predictions = std::count(predicted.begin(), predicted.end(), true);
  e.distinct_labels = std::count(present.begin(), present.end(), true);
  e.loss = loss_sum / static_cast<double>(n);
  e.accuracy_percent = 100.0 * static_cast<double>(correct) / static_cast<double>(n);
  return e;
}

struct Run {
  const TrainConfig& config;
  ModelPlan plan;
  TrainModel model;
  Sgd sgd;
  std::unique_ptr<Adam> adam;
  std::vector<EpochMetrics> metrics;
  int epoch = 0;  // epochs done

  Run(const TrainConfig& c, ModelPlan p)
      : config(c),
        plan(std::move(p)),
        model(plan, static_cast<uint64_t>(c.training.seed)),
        sgd(model.group_names(ParamGroup::kWeights), model.group(ParamGroup::kWeights),
            c.training.momentum, c.training.weight_decay) {
    const auto q = model.group(ParamGroup::kQuantizers);
    if (!q.empty()) adam = std::make_unique<Adam>(model.group_names(ParamGroup::kQuantizers), q);
  }

  ArrayFile checkpoint(const std::string& resolved) const {
    ArrayFile f;
    f.put_text("meta/format", kCheckpointFormat);
    f.put_text("meta/config", resolved);
    f.put_text("meta/network", frontend::network_to_yaml(plan.network));
    f.put_int64("meta/epoch", epoch);
    f.put_int64("meta/epochs", config.training.epochs);
    f.put_int64("meta/quantizers_initialized", model.quantizers_initialized() ? 1 : 0);
    f.put_int64("meta/float_ends", plan.float_ends ? 1 : 0);
    f.put_text("meta/residual_quantizer", to_string(plan.residual));
    f.put_text("meta/int8_scales", to_string(plan.int8_scales));
    f.put_int64("meta/exportable", plan.exportable ? 1 : 0);
    const double delta = plan.ewgs_delta;
    f.put_doubles("meta/ewgs_delta", {}, &delta);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : metrics) list.push_back(to_json(m));
    f.put_text("meta/metrics", list.dump());
    auto& m = const_cast<TrainModel&>(model);
    for (const ParamSpec& s : model.specs()) put_tensor(f, s.name, m.value(s.name));
    sgd.save(f);
    if (adam) adam->save(f);
    return f;
  }

  void restore(const ArrayFile& f) {
    epoch = static_cast<int>(f.get_int64("meta/epoch"));
    model.set_quantizers_initialized(f.get_int64("meta/quantizers_initialized") != 0);
    model.load_values(f);
    sgd.load(f);
    if (adam) adam->load(f);
    metrics.clear();
    try {
      for (const auto& j : nlohmann::json::parse(f.get_text("meta/metrics")))
        metrics.push_back(from_json(j));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("checkpoint: unreadable metrics: {}", e.what()));
    }
  }
};

// `diverged`: why the run diverged and in which epoch ("" when it did not).
std::string metrics_json(const Run& run, bool complete, const std::string& diverged = "",
                         int diverged_epoch = 0) {
  nlohmann::json j;
  j["format"] = "palsim-train-metrics-1";
  j["network"] = run.plan.network.name();
  j["exportable"] = run.plan.exportable;
  j["threads"] = run.config.training.threads;
  j["epochs_total"] = run.config.training.epochs;
  j["epochs_done"] = run.epoch;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : run.metrics) list.push_back(to_json(m));
  j["epochs"] = list;
  if (complete && !run.metrics.empty() && diverged.empty()) {
    j["final_test_accuracy_percent"] = run.metrics.back().test_accuracy_percent;
  } else {
    j["final_test_accuracy_percent"] = nullptr;
  }
  if (!diverged.empty()) j["diverged"] = {{"epoch", diverged_epoch}, {"reason", diverged}};
  return j.dump(2) + "\n";
}

void check_data(const TrainConfig& c, const ModelPlan& plan, const DataSplits& data) {
  const frontend::Shape in = plan.graph.tensors[static_cast<size_t>(plan.graph.input_tensor)].shape;
  const frontend::Shape img = data.train->image_shape();
  const bool builtin = c.network.builtin;
  if (in != img) {
    const std::string key = !builtin
                                ? "network.name"
                                : (in.c != img.c ? "network.input_channels" : "network.input_size");
    c.fail(key, fmt::format("the network reads {} images, the dataset '{}' has {} images",
                            frontend::to_string(in), data.train->name(), frontend::to_string(img)));
  }
  const int classes = plan.graph.tensors[static_cast<size_t>(plan.graph.output_tensor)].shape.c;
  if (classes != data.train->classes()) {
    c.fail(builtin ? "network.classes" : "network.name",
           fmt::format("the network has {} outputs, the dataset '{}' has {} classes", classes,
                       data.train->name(), data.train->classes()));
  }
  if (data.train->size() < c.training.batch_size) {
    c.fail("training.batch_size",
           fmt::format("larger than the {} training images (the last incomplete batch of "
                       "an epoch is dropped)",
                       data.train->size()));
  }
}

}  // namespace

TrainResult train(const TrainConfig& config, const std::string& run_dir,
                  const TrainOptions& options) {
  ModelPlan plan = plan_from_config(config);
  DataSplits data = options.data ? *options.data : open_datasets(config.data);
  if (!data.train || !data.test) throw InputError("train: no training or test data");
  check_data(config, plan, data);

  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (!fs::is_directory(run_dir, ec)) {
    throw InputError(fmt::format("-o/--output: cannot create the run directory '{}'", run_dir));
  }
  torch::set_num_threads(config.training.threads);

  const std::string resolved = config.to_yaml();
  Run run(config, std::move(plan));
  const std::string ckpt_path = (fs::path(run_dir) / kCheckpointFile).string();
  TrainResult result;
  result.exportable = run.plan.exportable;
  if (fs::exists(ckpt_path, ec)) {
    const ArrayFile f = ArrayFile::read(ckpt_path);
    if (!f.has("meta/format") || f.get_text("meta/format") != kCheckpointFormat) {
      throw InputError(fmt::format("{}: not a palsim training checkpoint", ckpt_path));
    }
    if (f.get_text("meta/config") != resolved) {
      throw InputError(
          fmt::format("{}: the checkpoint was trained with another configuration (see "
                      "{}/config.yaml); resume with the same "
                      "configuration or train into another directory",
                      ckpt_path, run_dir));
    }
    run.restore(f);
    if (options.progress) {
      fmt::print(stderr, "train: resuming {} from {} after epoch {}/{}\n", run.plan.network.name(),
                 ckpt_path, run.epoch, config.training.epochs);
    }
  }
  result.start_epoch = run.epoch;
  write_file_atomically((fs::path(run_dir) / "config.yaml").string(), resolved);
  write_file_atomically((fs::path(run_dir) / "network.yaml").string(),
                        frontend::network_to_yaml(run.plan.network));

  const TrainConfig& c = config;
  const Dataset& train_set = *data.train;
  const int64_t batches = train_set.size() / c.training.batch_size;
  if (options.progress && run.epoch < c.training.epochs) {
    int64_t weights = 0;
    for (const auto& t : run.model.group(ParamGroup::kWeights)) weights += t.numel();
    fmt::print(
        stderr,
        "train {}: {} hardware ops, {} weights, {} training / {} test images, batch {}, {} "
        "threads, {}\n",
        run.plan.network.name(), run.plan.graph.ops.size(), weights, train_set.size(),
        data.test->size(), c.training.batch_size, c.training.threads,
        run.plan.exportable ? "exportable" : "not exportable: " + run.plan.not_exportable_reason);
  }
  const auto run_start = Clock::now();
  int trained_now = 0;
  int64_t steps_now = 0;
  bool stopped_mid_epoch = false;
  StepTrace trace(options.trace_path, options.trace_steps);
  const int classes = data.train->classes();
  // A diverged run: recorded in metrics.json, no checkpoint of this epoch.
  const auto diverge = [&](int epoch, const std::string& reason) {
    write_file_atomically((fs::path(run_dir) / kMetricsFile).string(),
                          metrics_json(run, false, reason, epoch));
    throw TrainingDiverged(fmt::format(
        "{}: training diverged in epoch {}: {}; not saved as a model (the last checkpoint, if "
        "any, is of epoch {}). Lower training.lr_weights or training.lr_quantizers, or try "
        "another seed",
        run_dir, epoch, reason, run.epoch));
  };
  std::vector<uint8_t> buffer;
  while (run.epoch < c.training.epochs && !stopped_mid_epoch) {
    if (options.stop_after_epochs > 0 && trained_now >= options.stop_after_epochs) break;
    const int e = run.epoch;
    const auto epoch_start = Clock::now();
    torch::manual_seed(epoch_seed(c.training.seed, e));
    const double lr_w = cosine_lr(c.training.lr_weights, e, c.training.epochs);
    const double lr_q = cosine_lr(c.training.lr_quantizers, e, c.training.epochs);
    const std::vector<int64_t> order = epoch_order(train_set.size(), c.training.seed, e);
    Progress progress(fmt::format("epoch {}/{}", e + 1, c.training.epochs), "batches", batches,
                      options.progress);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    double train_seconds = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const auto t0 = Clock::now();
      torch::Tensor images, labels;
      make_batch(train_set, order.data() + b * c.training.batch_size, c.training.batch_size, buffer,
                 images, labels);
      if (!run.model.quantizers_initialized()) run.model.initialize_quantizers(images);
      const torch::Tensor logits = run.model.forward(images, true);
      const torch::Tensor loss = torch::cross_entropy_loss(logits, labels);
      const double lv = loss.item<double>();
      if (!std::isfinite(lv)) diverge(e + 1, fmt::format("the loss is {} at batch {}", lv, b + 1));
      run.sgd.zero_grad();
      if (run.adam) run.adam->zero_grad();
      loss.backward();
      const int64_t batch_correct = logits.detach().argmax(1).eq(labels).sum().item<int64_t>();
      if (trace.active(steps_now)) {
        trace.record(steps_now, e + 1, b + 1, lv,
                     100.0 * static_cast<double>(batch_correct) / c.training.batch_size, lr_w, lr_q,
                     run.model);
      }
      run.sgd.step(lr_w);
      if (run.adam) run.adam->step(lr_q);
      // Also without Adam: an LSQ net whose only quantizers are tracked.
      run.model.project_quantizers();
      loss_sum += lv * static_cast<double>(c.training.batch_size);
      correct += batch_correct;
      seen += c.training.batch_size;
      train_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      ++steps_now;
      if (options.stop_after_steps > 0 && steps_now >= options.stop_after_steps) {
        stopped_mid_epoch = true;
        break;
      }
      if (b + 1 < batches) {  // the last line comes from finish()
        progress.update(
            b + 1, fmt::format("{:.0f} images/s, loss {:.4f}, accuracy {:.2f}%",
                               static_cast<double>(seen) / train_seconds,
                               loss_sum / static_cast<double>(seen),
                               100.0 * static_cast<double>(correct) / static_cast<double>(seen)));
      }
    }
    if (stopped_mid_epoch) {
      progress.finish(fmt::format("stopped after {} steps (--stop-after-steps)", steps_now));
      break;
    }
    EpochMetrics m;
    m.epoch = e + 1;
    m.train_loss = loss_sum / static_cast<double>(seen);
    m.train_accuracy_percent = 100.0 * static_cast<double>(correct) / static_cast<double>(seen);
    m.images_per_second = train_seconds > 0 ? static_cast<double>(seen) / train_seconds : 0;
    progress.finish(fmt::format("{:.0f} images/s, loss {:.4f}, accuracy {:.2f}%",
                                m.images_per_second, m.train_loss, m.train_accuracy_percent));
    const Evaluation ev = evaluate(run.model, *data.test, c.training.batch_size);
    m.test_loss = ev.loss;
    m.test_accuracy_percent = ev.accuracy_percent;
    m.lr_weights = lr_w;
    m.lr_quantizers = lr_q;
    m.seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    run.metrics.push_back(m);
    EpochHealth health;
    health.steps = batches;
    health.train_loss = m.train_loss;
    health.train_accuracy_percent = m.train_accuracy_percent;
    health.classes = classes;
    health.distinct_test_predictions = ev.distinct_predictions;
    health.distinct_test_labels = ev.distinct_labels;
    const std::string reason = divergence_reason(health);
    if (!reason.empty()) diverge(e + 1, reason);
    run.epoch = e + 1;
    ++trained_now;
    run.checkpoint(resolved).write(ckpt_path);
    write_file_atomically((fs::path(run_dir) / kMetricsFile).string(),
                          metrics_json(run, run.epoch >= c.training.epochs));
    if (options.progress) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - run_start).count();
      const int left = c.training.epochs - run.epoch;
      std::string eta;
      if (left > 0) eta = fmt::format(", ETA {}", format_duration(elapsed / trained_now * left));
      fmt::print(stderr,
                 "epoch {}/{}: test loss {:.4f}, test accuracy {:.2f}% ({} test images), {}{}\n",
                 m.epoch, c.training.epochs, m.test_loss, m.test_accuracy_percent,
                 data.test->size(), format_duration(m.seconds), eta);
    }
  }
  if (run.epoch >= c.training.epochs) {
    // Also when there was nothing left to do: the files describe the finished run.
    write_file_atomically((fs::path(run_dir) / kMetricsFile).string(), metrics_json(run, true));
  }
  result.epochs_done = run.epoch;
  result.complete = run.epoch >= c.training.epochs;
  result.epochs = run.metrics;
  if (!run.metrics.empty())
    result.final_test_accuracy_percent = run.metrics.back().test_accuracy_percent;
  return result;
}

}  // namespace palsim::training
