#pragma once
// The reference code's optimizers, written out (internal: includes torch) so
// that their whole state is a set of named tensors in the checkpoint:
//   weights, biases, BN affine: SGD with momentum and weight decay
//     (PyTorch SGD, dampening 0, no Nesterov);
//   quantizer parameters: Adam (PyTorch Adam, betas 0.9 / 0.999, eps 1e-8,
//     no weight decay).
// Learning rates follow a cosine schedule over the epochs (eta_min 0), set
// per epoch from the epoch index (the scheduler position).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "training/array_file.h"

namespace palsim::training {

double cosine_lr(double base, int epoch, int epochs);

class Sgd {
 public:
  Sgd(std::vector<std::string> names, std::vector<torch::Tensor> params, double momentum,
      double weight_decay);
  void step(double lr);
  void zero_grad();
  void save(ArrayFile& f) const;
  void load(const ArrayFile& f);  // throws InputError on a missing / mis-shaped state

 private:
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> momentum_;  // undefined until the first step
  double momentum_factor_, weight_decay_;
};

class Adam {
 public:
  Adam(std::vector<std::string> names, std::vector<torch::Tensor> params);
  void step(double lr);
  void zero_grad();
  void save(ArrayFile& f) const;
  void load(const ArrayFile& f);

 private:
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_, exp_avg_, exp_avg_sq_;
  int64_t steps_ = 0;
};

// Tensors <-> array files (float32 only).
void put_tensor(ArrayFile& f, const std::string& name, const torch::Tensor& t);
// Copies the stored values into `into` (same shape), or throws InputError.
void get_tensor(const ArrayFile& f, const std::string& name, torch::Tensor& into);

}  // namespace palsim::training
