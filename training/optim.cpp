#include "training/optim.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "common/error.h"

namespace palsim::training {

double cosine_lr(double base, int epoch, int epochs) {
  constexpr double kPi = 3.14159265358979323846;
  return base * (1.0 + std::cos(kPi * static_cast<double>(epoch) / static_cast<double>(epochs))) /
         2.0;
}

void put_tensor(ArrayFile& f, const std::string& name, const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
  f.put_floats(name, c.sizes().vec(), c.data_ptr<float>());
}

void get_tensor(const ArrayFile& f, const std::string& name, torch::Tensor& into) {
  const NamedArray& a = f.get(name);
  if (a.dtype != DType::kFloat32 || a.shape != into.sizes().vec()) {
    throw InputError(
        fmt::format("checkpoint entry '{}' has another type or shape than the model's", name));
  }
  torch::NoGradGuard no_grad;
  torch::Tensor src = torch::empty(into.sizes(), torch::TensorOptions().dtype(torch::kFloat));
  if (!a.data.empty()) std::memcpy(src.data_ptr<float>(), a.data.data(), a.data.size());
  into.copy_(src);
}

Sgd::Sgd(std::vector<std::string> names, std::vector<torch::Tensor> params, double momentum,
         double weight_decay)
    : names_(std::move(names)),
      params_(std::move(params)),
      momentum_(params_.size()),
      momentum_factor_(momentum),
      weight_decay_(weight_decay) {}

void Sgd::step(double lr) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    torch::Tensor d = p.grad();
    if (weight_decay_ != 0) d = d.add(p, weight_decay_);
    if (momentum_factor_ != 0) {
      if (!momentum_[i].defined()) {
        momentum_[i] = d.clone().detach();
      } else {
        momentum_[i].mul_(momentum_factor_).add_(d);
      }
      d = momentum_[i];
    }
    p.add_(d, -lr);
  }
}

void Sgd::zero_grad() {
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
}

void Sgd::save(ArrayFile& f) const {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (momentum_[i].defined()) put_tensor(f, "opt/sgd/momentum/" + names_[i], momentum_[i]);
  }
}

void Sgd::load(const ArrayFile& f) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string key = "opt/sgd/momentum/" + names_[i];
    if (!f.has(key)) {
      momentum_[i] = torch::Tensor();
      continue;
    }
    momentum_[i] = torch::empty(params_[i].sizes(), torch::TensorOptions().dtype(torch::kFloat));
    get_tensor(f, key, momentum_[i]);
  }
}

Adam::Adam(std::vector<std::string> names, std::vector<torch::Tensor> params)
    : names_(std::move(names)), params_(std::move(params)) {
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p).detach());
    exp_avg_sq_.push_back(torch::zeros_like(p).detach());
  }
}

void Adam::step(double lr) {
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  torch::NoGradGuard no_grad;
  ++steps_;
  const double bias1 = 1.0 - std::pow(kBeta1, static_cast<double>(steps_));
  const double bias2 = 1.0 - std::pow(kBeta2, static_cast<double>(steps_));
  const double step_size = lr / bias1;
  const double bias2_sqrt = std::sqrt(bias2);
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    const torch::Tensor& grad = p.grad();
    exp_avg_[i].mul_(kBeta1).add_(grad, 1.0 - kBeta1);
    exp_avg_sq_[i].mul_(kBeta2).addcmul_(grad, grad, 1.0 - kBeta2);
    const torch::Tensor denom = (exp_avg_sq_[i].sqrt() / bias2_sqrt).add_(kEps);
    p.addcdiv_(exp_avg_[i], denom, -step_size);
  }
}

void Adam::zero_grad() {
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
}

void Adam::save(ArrayFile& f) const {
  f.put_int64("opt/adam/steps", steps_);
  for (size_t i = 0; i < params_.size(); ++i) {
    put_tensor(f, "opt/adam/exp_avg/" + names_[i], exp_avg_[i]);
    put_tensor(f, "opt/adam/exp_avg_sq/" + names_[i], exp_avg_sq_[i]);
  }
}

void Adam::load(const ArrayFile& f) {
  steps_ = f.get_int64("opt/adam/steps");
  for (size_t i = 0; i < params_.size(); ++i) {
    get_tensor(f, "opt/adam/exp_avg/" + names_[i], exp_avg_[i]);
    get_tensor(f, "opt/adam/exp_avg_sq/" + names_[i], exp_avg_sq_[i]);
  }
}

}  // namespace palsim::training
