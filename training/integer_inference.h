#pragma once
// Runs an integer model file on images the way the accelerator computes
// them: frontend::reference_execute (the kernels) for every tensor, then the
// final FC's accumulators mapped to float logits (model_file.h). Torch-free.
#include <cstdint>
#include <map>
#include <vector>

#include "kernels/tensor.h"
#include "training/model_file.h"

namespace palsim::training {

struct IntegerPrediction {
  std::map<int, kernels::IntTensor> tensors;  // every tensor of the graph, by id
  std::vector<double> logits;                 // classes
  int top1 = -1;
};

class IntegerInference {
 public:
  explicit IntegerInference(const IntegerModelFile& file);
  // `pixels`: one image, CHW, as many bytes as the graph's input tensor has
  // elements.
  IntegerPrediction run(const uint8_t* pixels);
  // The file's integer model with this image as its input (what the
  // simulator runs).
  const frontend::IntegerModel& model_for(const uint8_t* pixels);
  size_t image_bytes() const { return image_bytes_; }

 private:
  const IntegerModelFile& file_;
  frontend::IntegerModel model_;
  size_t image_bytes_ = 0;
};

// The index of the largest value (the first of equal ones, as torch.argmax).
template <typename T>
int argmax(const T* values, int count) {
  int best = 0;
  for (int i = 1; i < count; ++i) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

}  // namespace palsim::training
