#pragma once
// The trainable model: the hardware graph of a ModelPlan executed op by op
// with torch (internal to the training module: includes torch).
//
// One op per HwOp, in order, with the accelerator's fusion:
//   conv:  x = the input tensor as this conv reads it (a_hat for uniform
//          weights; the dequantized value otherwise), its channel groups
//          rotated (conv group g reads input group (g - in_group_rotate) mod G);
//          y = conv2d(x, w_q, bias) (times |alpha| for uniform weights);
//          batch norm (momentum 0.1, eps 1e-5: PyTorch's defaults; batch
//          statistics in training, running statistics in evaluation);
//          ReLU if relu_before_residual; output channel p = y[src(p)] with src
//          the channel shuffle over out_shuffle_groups
//          (kernels::channel_shuffle_source); + the residual tensor's
//          dequantized value; ReLU if relu_after_residual.
//   maxpool on the quantized values (the output shares the input's quantizer);
//   copy: the input's quantized values, channel-shuffled when the op has
//     out_shuffle_groups (the output shares the input's quantizer);
//   avgpool / global avgpool average the dequantized values.
// Channel views (frontend/lowering/hw_graph.h): an op writing a view (a
// concatenation's part) produces that view's channels; an op reading a
// tensor no op writes whole (the concatenated tensor, a split's range of it)
// gathers the channels from the ops that wrote them. Views and their owner
// share one quantizer, so gathering quantized values is quantizing the
// gathered values.
// Every tensor is then quantized by its tensor quantizer (quant_plan.h).
// Weights: uniform w_hat = 2 (q_w / (2^b - 1) - 0.5) with learnable bounds,
// or LSQ signed q_w s_w. The FC's output (the logits) stays float.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "training/array_file.h"
#include "training/quant_plan.h"

namespace palsim::training {

class TrainModel {
 public:
  // Creates every parameter (parameter_specs order) and initializes weights
  // from `seed` (kaiming normal, fan out, for convs; PyTorch's Linear
  // initialization for the FC; BN weight 1, bias 0). `dtype` kDouble makes an
  // evaluation model (Arithmetic::kFloat64): parameters held in double, the
  // weight levels still those of the single-precision quantizers (as
  // trained), every activation computed in double; train in kFloat only.
  TrainModel(const ModelPlan& plan, uint64_t seed, torch::Dtype dtype = torch::kFloat);

  // images: (N, C, H, W) float, pixel / 255. Returns logits (N, classes).
  torch::Tensor forward(const torch::Tensor& images, bool training);
  // The reference initialization on one batch (docs/method.md §2): weight bounds
  // +-3 std(w), activation bounds min(a) and 3 std(a) / sqrt(1 - 2/pi), LSQ
  // steps 2 mean|v| / sqrt(Q_P), alpha = mean|conv(x, W)| / mean|conv(x_hat,
  // w_hat)|, each set as the forward pass reaches it (training-mode BN, which
  // updates the running statistics once, as the reference code does).
  void initialize_quantizers(const torch::Tensor& images);
  bool quantizers_initialized() const { return initialized_; }
  void set_quantizers_initialized(bool v) { initialized_ = v; }
  // Keeps quantizers valid after an optimizer step: steps >= 1e-8 and
  // upper >= lower + 1e-6; and sets every tracked weight step
  // (Int8Scales::kTracked) to max|w| / Q_P of the updated weights.
  void project_quantizers();

  // Copies every value of parameter_specs() from a checkpoint.
  void load_values(const ArrayFile& f);
  // The quantized weights a conv op uses (w_hat or q_w s_w; the float weights
  // when unquantized), without the |alpha| scale.
  torch::Tensor quantized_weight(const std::string& op);
  // While set, forward() stores every tensor's value before its quantizer
  // (by tensor id; a max pool's output: the pool of its input's values).
  void set_record(std::vector<torch::Tensor>* record) { record_ = record; }

  const ModelPlan& plan() const { return plan_; }
  const std::vector<ParamSpec>& specs() const { return specs_; }
  torch::Tensor& value(const std::string& name);
  std::vector<torch::Tensor> group(ParamGroup g) const;
  std::vector<std::string> group_names(ParamGroup g) const;

 private:
  struct OpState {
    torch::Tensor weight, bias, alpha, w_lower, w_upper, w_step;
    torch::Tensor bn_weight, bn_bias, bn_mean, bn_var;
    torch::Tensor rotate_index, shuffle_index;  // int64 channel indices, undefined when none
    double w_grad_scale = 1;
  };
  struct TensorState {
    torch::Tensor lower, upper, step;
    double grad_scale = 1;
    bool need_act = false, need_deq = false;
  };
  struct Value {
    torch::Tensor act;  // what a uniform conv reads (a_hat), else the value
    torch::Tensor deq;  // the (dequantized) value
    torch::Tensor raw;  // before quantization (initialization only)
  };

  // How to read a tensor no op writes whole: its owner's writers (a
  // concatenation's parts, or the tensor a split view is a range of),
  // concatenated along channels, then `index` (undefined: in order).
  struct Gather {
    std::vector<int> parts;
    torch::Tensor index;
  };

  void plan_reads();
  // The value of tensor t in this forward pass (gathered and cached in `vals`
  // for a tensor no op writes whole).
  const Value& read(std::vector<Value>& vals, int t);
  torch::Tensor quantized_weight(size_t op);
  Value quantize(size_t tensor, const torch::Tensor& y);
  void init_weight_quantizer(size_t op);
  void track_weight_step(size_t op);
  void init_tensor_quantizer(size_t tensor, const torch::Tensor& y);

  ModelPlan plan_;
  torch::Dtype dtype_;
  std::vector<ParamSpec> specs_;
  std::map<std::string, torch::Tensor> values_;
  std::vector<OpState> ops_;
  std::vector<TensorState> tensors_;
  std::vector<Gather> reads_;             // by tensor id
  std::vector<bool> initialized_groups_;  // initialization pass: quantizers set so far
  bool initialized_ = false;
  bool init_pass_ = false;
  bool training_ = false;  // the current forward pass is in training mode
  std::vector<torch::Tensor>* record_ = nullptr;
};

}  // namespace palsim::training
