#include "training/integer_inference.h"

#include <fmt/format.h>

#include "common/error.h"
#include "kernels/conv.h"
#include "kernels/quantize.h"

namespace palsim::training {

using frontend::HwOp;

namespace {

const HwOp& output_op(const frontend::HwGraph& g) {
  for (const HwOp& op : g.ops) {
    if (op.output == g.output_tensor) return op;
  }
  throw InternalError("integer model: no op writes the output tensor");
}

}  // namespace

IntegerInference::IntegerInference(const IntegerModelFile& file) : file_(file), model_(file.model) {
  const frontend::HwTensor& in = file.graph.tensors[static_cast<size_t>(file.graph.input_tensor)];
  model_.input = kernels::IntTensor(1, in.shape.c, in.shape.h, in.shape.w);
  image_bytes_ = model_.input.size();
}

const frontend::IntegerModel& IntegerInference::model_for(const uint8_t* pixels) {
  for (size_t i = 0; i < image_bytes_; ++i) model_.input.values()[i] = pixels[i];
  return model_;
}

IntegerPrediction IntegerInference::run(const uint8_t* pixels) {
  IntegerPrediction p;
  p.tensors = frontend::reference_execute(file_.graph, model_for(pixels));
  // The FC's accumulators (the file checks it has no rotation, shuffle,
  // residual or ReLU): its input levels against its signed weight integers.
  const HwOp& fc = output_op(file_.graph);
  const size_t index = static_cast<size_t>(&fc - file_.graph.ops.data());
  kernels::IntTensor w = model_.ops[index].weights;
  if (fc.uniform_quantizer) {
    for (auto& v : w.values()) v = kernels::palquant_weight_integer(v, fc.w_bits);
  }
  kernels::Conv2dParams cp;
  cp.stride_h = fc.sh;
  cp.stride_w = fc.sw;
  cp.pad_h = fc.ph;
  cp.pad_w = fc.pw;
  cp.dilation_h = fc.dh;
  cp.dilation_w = fc.dw;
  cp.groups = fc.groups;
  const kernels::AccTensor acc = kernels::conv2d(p.tensors.at(fc.input), w, cp);
  if (acc.size() != file_.logit_scale.size()) {
    throw InternalError(
        fmt::format("integer model: the FC '{}' produced {} accumulators for {} "
                    "classes",
                    fc.name, acc.size(), file_.logit_scale.size()));
  }
  p.logits.resize(acc.size());
  for (size_t c = 0; c < acc.size(); ++c) {
    p.logits[c] =
        file_.logit_scale[c] * static_cast<double>(acc.values()[c]) + file_.logit_offset[c];
  }
  p.top1 = argmax(p.logits.data(), static_cast<int>(p.logits.size()));
  return p;
}

}  // namespace palsim::training
