#pragma once
// Dense 4-D integer tensors in NCHW order, the one container of the kernels.
// Weights use the same type in OIHW order (out channels, in channels per
// group, kernel height, kernel width); FC inputs are (N, C, 1, 1).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/error.h"

namespace palsim::kernels {

template <typename T>
class Tensor {
 public:
  Tensor() = default;
  Tensor(int n, int c, int h, int w, T fill = T{})
      : n_(n), c_(c), h_(h), w_(w), data_(checked_size(n, c, h, w), fill) {}

  int n() const { return n_; }
  int c() const { return c_; }
  int h() const { return h_; }
  int w() const { return w_; }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

  size_t index(int n, int c, int h, int w) const {
    return ((static_cast<size_t>(n) * c_ + c) * h_ + h) * w_ + w;
  }
  T& at(int n, int c, int h, int w) { return data_[index(n, c, h, w)]; }
  const T& at(int n, int c, int h, int w) const { return data_[index(n, c, h, w)]; }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  std::vector<T>& values() { return data_; }
  const std::vector<T>& values() const { return data_; }

  bool same_shape(const Tensor& o) const {
    return n_ == o.n_ && c_ == o.c_ && h_ == o.h_ && w_ == o.w_;
  }
  bool operator==(const Tensor& o) const { return same_shape(o) && data_ == o.data_; }
  bool operator!=(const Tensor& o) const { return !(*this == o); }

 private:
  static size_t checked_size(int n, int c, int h, int w) {
    if (n < 0 || c < 0 || h < 0 || w < 0) throw ArgumentError("Tensor: negative dimension");
    return static_cast<size_t>(n) * c * h * w;
  }
  int n_ = 0, c_ = 0, h_ = 0, w_ = 0;
  std::vector<T> data_;
};

// Quantized operands (activations, weights, their bit slices).
using IntTensor = Tensor<int32_t>;
// Accumulators: 64-bit, wide enough for every layer palsim accepts (see
// accumulator_bits() in conv.h for the bound).
using AccTensor = Tensor<int64_t>;

}  // namespace palsim::kernels
