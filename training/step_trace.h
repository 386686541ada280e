#pragma once
// Per-step diagnostics of a training run (internal: includes torch). A
// diverging run shows itself in the first hundred steps: quantizer bounds
// that collapse, an output scale alpha that shrinks towards 0, gradient norms
// that explode. StepTrace writes one JSON object per line for each of the
// first `steps` training steps, so a run can be compared step by step with
// the reference code without training whole epochs:
//   {"step", "epoch", "batch", "loss", "batch_accuracy_percent",
//    "lr_weights", "lr_quantizers",
//    "grad_norm": {"weights", "quantizers"},       L2 over each group
//    "weight_grad_norm": {name: L2 of its gradient}, every trained weight tensor
//    "quantizer": {name: value},                   every quantizer parameter
//    "quantizer_grad": {name: gradient}}           (scalars, before the step)
#include <torch/torch.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "training/train_model.h"

namespace palsim::training {

class StepTrace {
 public:
  // An empty path disables the trace.
  StepTrace(const std::string& path, int64_t steps);
  bool active(int64_t step) const { return out_.is_open() && step < steps_; }
  // Call after backward() and before the optimizer steps (the gradients and
  // the parameters they were computed at).
  void record(int64_t step, int epoch, int64_t batch, double loss, double batch_accuracy,
              double lr_w, double lr_q, TrainModel& model);

 private:
  std::ofstream out_;
  int64_t steps_ = 0;
};

}  // namespace palsim::training
