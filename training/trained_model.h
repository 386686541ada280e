#pragma once
// Read access to a trained model for an exporter, without torch: every
// trained value of a hardware op or tensor of the model's HwGraph, as plain
// floats, plus the integer levels the accelerator's kernels compute from them.
//
// The HwGraph is frontend::build_hw_graph(network(), {fp_layers = int8,
// batch = 1}) (ops and tensors are the same for any batch). What the trained
// float model computes, in the terms of frontend/lowering/int_model.h:
//
//   tensor t (kind, bits b, L = 2^b - 1), level q (an unsigned b-bit integer):
//     image:   q = the pixel, value q / 255
//     uniform: q = round(L clip((x - l) / (u - l), 0, 1));
//              a conv with uniform weights reads a_hat = q / L,
//              everything else reads value(q) = l + (u - l) (q / L)
//     lsq:     q = round(clip(x / s, 0, L)); value(q) = q s
//     float:   the logits (no quantizer)
//   A max pool's or a copy's output uses its input's quantizer, a channel
//   view its owner's (quantizer != id; quant_plan.h).
//
//   conv op: acc = conv2d(X', W'), X' = the levels of its input with groups
//     rotated (in_group_rotate), W' = the weight levels (weight_levels());
//     uniform weights: y = |alpha| ((conv2d(q_a / L_a, w_hat) + bias)),
//       w_hat = 2 (q_w / L_w - 0.5) = (2 q_w - L_w) / L_w, so
//       y = |alpha| (acc_signed / (L_a L_w) + bias) with acc_signed the
//       accumulation over 2 q_w - L_w (kernels::palquant_weight_integer);
//     lsq weights: y = conv2d(value(q_a), q_w s_w) + bias = s_a s_w acc + bias
//       (when the input is lsq; an image input: s_a = 1/255; a uniform input
//       read by an lsq conv: value(q_a), not zero-point free);
//     then BN (eval): bn_weight (y - running_mean) / sqrt(running_var + 1e-5)
//       + bn_bias; ReLU if relu_before_residual; output channel p takes
//       channel channel_shuffle_source(p); + value(residual level); ReLU if
//       relu_after_residual; then the output tensor's quantizer.
//   avgpool / global avgpool: the mean of value(q) of the window, quantized.
//   maxpool: the max of the levels. copy: the levels, channel-shuffled.
//   Views: an op reading or writing a channel view reads or writes those
//   channels of the owning tensor (int_model.h).
//
// Rounding is half to even in single precision throughout; the levels of
// weights and activations recomputed here with the kernels' quantizers equal
// the training path's bit for bit.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "frontend/ir/network.h"
#include "frontend/lowering/hw_graph.h"
#include "training/array_file.h"
#include "training/quant_plan.h"

namespace palsim::training {

struct TrainedTensor {
  int id = -1;
  std::string name;
  ActQuant kind = ActQuant::kFloat;
  int bits = 0;
  int quantizer = -1;          // the tensor whose quantizer applies (itself or its group's)
  float lower = 0, upper = 0;  // uniform
  float step = 0;              // lsq
  bool ewgs = false;

  int32_t max_level() const { return (int32_t{1} << bits) - 1; }
  // The level of a float value (kernels::UniformQuantizer / LsqQuantizer; the
  // image: round(255 clip(x, 0, 1))). Throws for a float tensor.
  int32_t level(float x) const;
  // The same quantizer evaluated in double precision (the float64 reference,
  // Arithmetic::kFloat64).
  int32_t level_exact(double x) const;
  // The value a level stands for, in the training path's arithmetic.
  float value(int32_t q) const;
  // What a conv with uniform weights reads: q / (2^b - 1).
  float normalized(int32_t q) const;
};

struct TrainedOp {
  int id = -1;
  std::string name;
  frontend::HwOpKind kind = frontend::HwOpKind::kConv;
  WeightQuant weight_quant = WeightQuant::kNone;
  int w_bits = 0;
  std::vector<int64_t> weight_shape;  // OIHW
  std::vector<float> weight;          // float master weights (empty for pools)
  std::vector<float> bias;            // empty: none
  float alpha = 1;                    // uniform weights; the op multiplies by |alpha|
  float w_lower = 0, w_upper = 0;     // uniform weight bounds
  float w_step = 0;                   // lsq weight step
  std::string bn;                     // absorbed batch-norm layer ("" if none)
  std::vector<float> bn_weight, bn_bias, bn_running_mean, bn_running_var;
  double bn_eps = 1e-5;

  // Integer weight levels, OIHW: uniform q_w in 0..2^b-1, lsq q_w in
  // -2^(b-1)..2^(b-1)-1 (kernels quantizers). Throws for unquantized weights.
  std::vector<int32_t> weight_levels() const;
  // The value each level stands for in training (w_hat, or q_w s_w).
  float weight_value(int32_t q) const;
};

class TrainedModel {
 public:
  // `path`: a run directory (reads its checkpoint.bin) or a checkpoint file.
  // Throws InputError naming the file when it is missing, corrupt or does not
  // match the network it carries.
  static TrainedModel load(const std::string& path);

  const frontend::Network& network() const { return plan_.network; }
  const frontend::HwGraph& graph() const { return plan_.graph; }
  const ModelPlan& plan() const { return plan_; }
  bool exportable() const { return plan_.exportable; }
  const std::string& not_exportable_reason() const { return plan_.not_exportable_reason; }
  int epochs_trained() const { return epochs_trained_; }
  int epochs() const { return epochs_; }
  const std::string& config_yaml() const { return config_yaml_; }

  const std::vector<TrainedOp>& ops() const { return ops_; }  // parallel to graph().ops
  const std::vector<TrainedTensor>& tensors() const {
    return tensors_;
  }                                                            // parallel to graph().tensors
  const TrainedOp& op(const std::string& name) const;          // throws InputError
  const TrainedTensor& tensor(const std::string& name) const;  // throws InputError
  // Every stored value by name (quant_plan.h names, optimizer state, meta/*).
  const ArrayFile& values() const { return file_; }

 private:
  ModelPlan plan_;
  ArrayFile file_;
  std::vector<TrainedOp> ops_;
  std::vector<TrainedTensor> tensors_;
  int epochs_trained_ = 0, epochs_ = 0;
  std::string config_yaml_;
};

// The arithmetic the trained model is evaluated in. kFloat32 is the training
// path itself. kFloat64 is the same model (the trained single-precision
// parameters and weight levels) with every activation computed in double: the
// reference the integer path is held to. The integer path evaluates each
// layer's affine map almost exactly (integer_export.h); single precision puts
// a value that lies within ~1e-7 (relative) of a level boundary on either
// side of it, and one level that differs propagates downstream, so the
// float32 path is an approximation of the trained function that the exact
// integer path cannot be asked to reproduce.
enum class Arithmetic { kFloat32, kFloat64 };
const char* to_string(Arithmetic a);

// The trained model built once for evaluation in arithmetic `a`: run it on
// batch after batch without rebuilding its parameters (an exporter checks a
// whole test set 32 images at a time). `threads` > 0 sets torch's thread
// count.
class TrainedEvaluator {
 public:
  TrainedEvaluator(const TrainedModel& model, Arithmetic a, int threads = 0);
  ~TrainedEvaluator();
  TrainedEvaluator(const TrainedEvaluator&) = delete;
  TrainedEvaluator& operator=(const TrainedEvaluator&) = delete;

  // Runs the model with the trainer's path, in evaluation mode (BN running
  // statistics), on `count` images (8-bit pixels, CHW, one after the other)
  // and returns per HwGraph tensor (by id) the values that enter the tensor's
  // quantizer, NCHW (a max pool's output: the pool of its input's values; the
  // network output: the logits). An exporter checks its integer pipeline
  // against the levels of these values (TrainedTensor::level for kFloat32,
  // level_exact for kFloat64).
  std::vector<std::vector<double>> tensor_values(const std::vector<uint8_t>& images, int count);
  // Only the logits (images x classes) of the same run, without recording
  // the other tensors.
  std::vector<double> logits(const std::vector<uint8_t>& images, int count);

 private:
  struct Impl;  // holds the torch model (train_model.h)
  std::unique_ptr<Impl> impl_;
};

// One batch through a TrainedEvaluator built for it.
std::vector<std::vector<double>> trained_tensor_values(const TrainedModel& model,
                                                       const std::vector<uint8_t>& images,
                                                       int count, int threads = 0,
                                                       Arithmetic a = Arithmetic::kFloat64);
std::vector<double> trained_logits(const TrainedModel& model, const std::vector<uint8_t>& images,
                                   int count, int threads = 0, Arithmetic a = Arithmetic::kFloat64);

}  // namespace palsim::training
