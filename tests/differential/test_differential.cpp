// Differential tests: the integer kernels against libtorch's float64
// operators, an implementation this project did not write. Operands are small
// random integers, so every float64 sum is exact and the comparison is exact.
// Covered: conv2d (groups, stride, padding, non-square kernels, batch),
// linear, max and sum pooling, global sum pooling, the channel shuffle and
// cyclic group permutation, and bit decomposition (a conv computed from the
// kernels' slices, shifted and summed by torch, equals torch's conv of the
// whole operands).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "kernels/bit_decompose.h"
#include "kernels/conv.h"

namespace palsim::kernels {
namespace {

constexpr int kCases = 150;

IntTensor random_tensor(std::mt19937& rng, int n, int c, int h, int w, int lo, int hi) {
  IntTensor t(n, c, h, w);
  std::uniform_int_distribution<int> d(lo, hi);
  for (auto& v : t.values()) v = d(rng);
  return t;
}

template <typename T>
torch::Tensor to_torch(const Tensor<T>& t) {
  auto out = torch::empty({t.n(), t.c(), t.h(), t.w()}, torch::kFloat64);
  auto* p = out.template data_ptr<double>();
  for (size_t i = 0; i < t.size(); ++i) p[i] = static_cast<double>(t.values()[i]);
  return out;
}

// Exact equality of a kernels result with a float64 torch result.
template <typename T>
::testing::AssertionResult SameValues(const Tensor<T>& mine, const torch::Tensor& theirs) {
  const torch::Tensor t = theirs.contiguous();
  if (t.dim() != 4 || t.size(0) != mine.n() || t.size(1) != mine.c() || t.size(2) != mine.h() ||
      t.size(3) != mine.w()) {
    return ::testing::AssertionFailure()
           << "shape " << mine.n() << "x" << mine.c() << "x" << mine.h() << "x" << mine.w()
           << " vs torch " << t.sizes();
  }
  const double* p = t.data_ptr<double>();
  for (size_t i = 0; i < mine.size(); ++i) {
    if (static_cast<double>(mine.values()[i]) != p[i]) {
      return ::testing::AssertionFailure()
             << "element " << i << ": kernels " << mine.values()[i] << ", torch " << p[i];
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(DifferentialTorch, Conv2dWithGroupsStridePadding) {
  std::mt19937 rng(1);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < kCases; ++i) {
    const int groups = std::vector<int>{1, 2, 3, 4}[pick(0, 3)];
    const int n = pick(1, 2), cg = pick(1, 4), mg = pick(1, 3);
    const int kh = pick(1, 3), kw = pick(1, 3);
    const int h = pick(kh, 9), w = pick(kw, 9);
    Conv2dParams p;
    p.groups = groups;
    p.stride_h = pick(1, 2);
    p.stride_w = pick(1, 2);
    p.pad_h = pick(0, kh - 1);
    p.pad_w = pick(0, kw - 1);
    const bool unsigned_input = pick(0, 1);
    const IntTensor x =
        random_tensor(rng, n, groups * cg, h, w, unsigned_input ? 0 : -8, unsigned_input ? 15 : 7);
    const IntTensor wt = random_tensor(rng, groups * mg, cg, kh, kw, -8, 7);
    const AccTensor mine = conv2d(x, wt, p);
    const torch::Tensor theirs =
        torch::conv2d(to_torch(x), to_torch(wt), {}, {p.stride_h, p.stride_w}, {p.pad_h, p.pad_w},
                      {1, 1}, groups);
    ASSERT_TRUE(SameValues(mine, theirs))
        << "case " << i << ": groups " << groups << ", kernel " << kh << "x" << kw << ", stride "
        << p.stride_h << "x" << p.stride_w << ", pad " << p.pad_h << "x" << p.pad_w;
  }
}

TEST(DifferentialTorch, Linear) {
  std::mt19937 rng(2);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < kCases; ++i) {
    const int n = pick(1, 3), c = pick(1, 6), h = pick(1, 3), w = pick(1, 3), out = pick(1, 10);
    const IntTensor x = random_tensor(rng, n, c, h, w, -8, 7);
    const IntTensor wt = random_tensor(rng, out, c * h * w, 1, 1, -8, 7);
    const AccTensor mine = linear(x, wt);
    const torch::Tensor theirs =
        torch::linear(to_torch(x).reshape({n, c * h * w}), to_torch(wt).reshape({out, c * h * w}))
            .reshape({n, out, 1, 1});
    ASSERT_TRUE(SameValues(mine, theirs)) << "case " << i;
  }
}

TEST(DifferentialTorch, MaxAndSumPooling) {
  std::mt19937 rng(3);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < kCases; ++i) {
    const int k = pick(1, 4), s = pick(1, 3), pad = pick(0, k / 2);
    const int h = pick(k, 10), w = pick(k, 10);
    const IntTensor x = random_tensor(rng, pick(1, 2), pick(1, 4), h, w, -20, 20);
    ASSERT_TRUE(SameValues(max_pool2d(x, k, s, pad),
                           torch::max_pool2d(to_torch(x), {k, k}, {s, s}, {pad, pad})))
        << "max pool case " << i << ": k " << k << ", stride " << s << ", pad " << pad;
    // Sum pooling: average pooling with padded zeros counted and a divisor of 1.
    ASSERT_TRUE(SameValues(sum_pool2d(x, k, s, pad), torch::avg_pool2d(to_torch(x), {k, k}, {s, s},
                                                                       {pad, pad}, false, true, 1)))
        << "sum pool case " << i << ": k " << k << ", stride " << s << ", pad " << pad;
    ASSERT_TRUE(SameValues(global_sum_pool(x), to_torch(x).sum({2, 3}, true)))
        << "global pool case " << i;
  }
}

TEST(DifferentialTorch, ChannelShuffleAndCyclicPermutation) {
  std::mt19937 rng(4);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < kCases; ++i) {
    const int g = pick(1, 4), per = pick(1, 4), n = pick(1, 2), h = pick(1, 4), w = pick(1, 4);
    const IntTensor x = random_tensor(rng, n, g * per, h, w, -100, 100);
    const torch::Tensor t = to_torch(x);
    // ShuffleNet's shuffle: view as (groups, channels per group), transpose.
    const torch::Tensor shuffled =
        t.view({n, g, per, h, w}).transpose(1, 2).reshape({n, g * per, h, w});
    ASSERT_TRUE(SameValues(channel_shuffle(x, g), shuffled)) << "shuffle case " << i;
    // Paper (Eq. 8): group i moves to position i + 1; reference: output group
    // i is input group i + 1.
    const torch::Tensor grouped = t.view({n, g, per, h, w});
    ASSERT_TRUE(SameValues(cyclic_group_permute(x, g, +1),
                           torch::roll(grouped, 1, 1).reshape({n, g * per, h, w})))
        << "cyclic (paper) case " << i;
    ASSERT_TRUE(SameValues(cyclic_group_permute(x, g, -1),
                           torch::roll(grouped, -1, 1).reshape({n, g * per, h, w})))
        << "cyclic (reference) case " << i;
  }
}

TEST(DifferentialTorch, BitDecomposedConvEqualsWholeOperandConv) {
  std::mt19937 rng(5);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < kCases; ++i) {
    const int a_bits = pick(2, 8), w_bits = pick(2, 8),
              slice_bits = std::vector<int>{1, 2, 4}[pick(0, 2)];
    const bool a_signed = pick(0, 1), w_signed = true;
    const int groups = pick(1, 2), cg = pick(1, 3), mg = pick(1, 3), k = pick(1, 3);
    const int h = pick(k, 7), w = pick(k, 7);
    const int a_lo = a_signed ? -(1 << (a_bits - 1)) : 0,
              a_hi = a_signed ? (1 << (a_bits - 1)) - 1 : (1 << a_bits) - 1;
    const IntTensor x = random_tensor(rng, 1, groups * cg, h, w, a_lo, a_hi);
    const IntTensor wt =
        random_tensor(rng, groups * mg, cg, k, k, -(1 << (w_bits - 1)), (1 << (w_bits - 1)) - 1);
    const std::vector<int64_t> stride = {1, 1}, pad = {k / 2, k / 2}, dil = {1, 1};
    const torch::Tensor whole =
        torch::conv2d(to_torch(x), to_torch(wt), {}, stride, pad, dil, groups);
    torch::Tensor sliced = torch::zeros_like(whole);
    torch::Tensor x_back = torch::zeros({1, groups * cg, h, w}, torch::kFloat64);
    for (int si = 0; si < slice_count(a_bits, slice_bits); ++si) {
      const torch::Tensor xs = to_torch(slice_tensor(x, a_bits, a_signed, slice_bits, si));
      x_back += xs * std::ldexp(1.0, si * slice_bits);
      for (int sj = 0; sj < slice_count(w_bits, slice_bits); ++sj) {
        const torch::Tensor ws = to_torch(slice_tensor(wt, w_bits, w_signed, slice_bits, sj));
        sliced += torch::conv2d(xs, ws, {}, stride, pad, dil, groups) *
                  std::ldexp(1.0, (si + sj) * slice_bits);
      }
    }
    ASSERT_TRUE(SameValues(x, x_back)) << "slices do not compose back, case " << i;
    ASSERT_TRUE(torch::equal(sliced, whole))
        << "case " << i << ": " << a_bits << "x" << w_bits << " bits, slices of " << slice_bits;
    // And the kernels' own conv agrees with both.
    Conv2dParams p;
    p.groups = groups;
    p.pad_h = p.pad_w = k / 2;
    ASSERT_TRUE(SameValues(conv2d(x, wt, p), whole)) << "case " << i;
  }
}

}  // namespace
}  // namespace palsim::kernels
