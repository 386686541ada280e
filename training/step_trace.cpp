#include "training/step_trace.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace palsim::training {

StepTrace::StepTrace(const std::string& path, int64_t steps) : steps_(steps) {
  if (path.empty()) return;
  out_.open(path, std::ios::out | std::ios::trunc);
  if (!out_) throw InputError(fmt::format("--trace: cannot write '{}'", path));
}

namespace {

double grad_norm(const torch::Tensor& t) {
  return t.grad().defined() ? t.grad().norm().item<double>() : 0.0;
}

// JSON has no NaN or infinity: a non-finite value is written as its name.
nlohmann::json number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

}  // namespace

void StepTrace::record(int64_t step, int epoch, int64_t batch, double loss, double batch_accuracy,
                       double lr_w, double lr_q, TrainModel& model) {
  if (!active(step)) return;
  torch::NoGradGuard no_grad;
  nlohmann::json j;
  j["step"] = step;
  j["epoch"] = epoch;
  j["batch"] = batch;
  j["loss"] = number(loss);
  j["batch_accuracy_percent"] = batch_accuracy;
  j["lr_weights"] = lr_w;
  j["lr_quantizers"] = lr_q;
  double w2 = 0, q2 = 0;
  nlohmann::json wg = nlohmann::json::object(), qv = nlohmann::json::object(),
                 qg = nlohmann::json::object();
  for (const std::string& name : model.group_names(ParamGroup::kWeights)) {
    const double n = grad_norm(model.value(name));
    w2 += n * n;
    wg[name] = number(n);
  }
  for (const std::string& name : model.group_names(ParamGroup::kQuantizers)) {
    const torch::Tensor& t = model.value(name);
    const double g = t.grad().defined() ? t.grad().item<double>() : 0.0;
    q2 += g * g;
    qv[name] = number(t.item<double>());
    qg[name] = number(g);
  }
  j["grad_norm"] = {{"weights", number(std::sqrt(w2))}, {"quantizers", number(std::sqrt(q2))}};
  j["weight_grad_norm"] = wg;
  j["quantizer"] = qv;
  j["quantizer_grad"] = qg;
  out_ << j.dump() << "\n";
  out_.flush();
}

}  // namespace palsim::training
