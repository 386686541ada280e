#include "kernels/conv.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "common/error.h"

namespace palsim::kernels {
namespace {

IntTensor random_tensor(int n, int c, int h, int w, int lo, int hi, std::mt19937& rng) {
  IntTensor t(n, c, h, w);
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  for (auto& v : t.values()) v = dist(rng);
  return t;
}

// Output-stationary gather, bounds checked per tap: deliberately the opposite
// loop structure of the kernel (which sweeps each weight over output rows and
// handles padding by ranges).
AccTensor naive_conv(const IntTensor& in, const IntTensor& w, const Conv2dParams& p) {
  const int out_h = (in.h() + 2 * p.pad_h - (w.h() - 1) * p.dilation_h - 1) / p.stride_h + 1;
  const int out_w = (in.w() + 2 * p.pad_w - (w.w() - 1) * p.dilation_w - 1) / p.stride_w + 1;
  const int out_per_group = w.n() / p.groups;
  AccTensor out(in.n(), w.n(), out_h, out_w);
  for (int n = 0; n < in.n(); ++n) {
    for (int o = 0; o < w.n(); ++o) {
      const int g = o / out_per_group;
      for (int oy = 0; oy < out_h; ++oy) {
        for (int ox = 0; ox < out_w; ++ox) {
          int64_t sum = 0;
          for (int c = 0; c < w.c(); ++c) {
            for (int ky = 0; ky < w.h(); ++ky) {
              for (int kx = 0; kx < w.w(); ++kx) {
                const int iy = oy * p.stride_h - p.pad_h + ky * p.dilation_h;
                const int ix = ox * p.stride_w - p.pad_w + kx * p.dilation_w;
                const bool inside = iy >= 0 && iy < in.h() && ix >= 0 && ix < in.w();
                const int64_t v = inside ? in.at(n, g * w.c() + c, iy, ix) : p.pad_value;
                sum += v * w.at(o, c, ky, kx);
              }
            }
          }
          out.at(n, o, oy, ox) = sum;
        }
      }
    }
  }
  return out;
}

TEST(ConvOutputSize, Formula) {
  EXPECT_EQ(conv_output_size(224, 7, 2, 3), 112);
  EXPECT_EQ(conv_output_size(112, 3, 2, 1), 56);
  EXPECT_EQ(conv_output_size(56, 3, 1, 1), 56);
  EXPECT_EQ(conv_output_size(56, 1, 2, 0), 28);
  EXPECT_EQ(conv_output_size(7, 7, 1, 0), 1);
  EXPECT_EQ(conv_output_size(8, 3, 2, 0), 3);
  EXPECT_THROW(conv_output_size(2, 7, 1, 2), palsim::ArgumentError);
  EXPECT_THROW(conv_output_size(8, 3, 0, 0), palsim::ArgumentError);
}

TEST(Conv2d, MatchesNaiveLoop) {
  std::mt19937 rng(2024);
  const int channels = 8;
  struct Kernel {
    int h, w;
  };
  int checked = 0;
  for (int groups : {1, 2, 4, channels}) {
    for (Kernel k : {Kernel{1, 1}, Kernel{3, 3}, Kernel{7, 7}, Kernel{3, 5}, Kernel{1, 3}}) {
      for (int stride_h : {1, 2}) {
        for (int stride_w : {1, 2}) {
          for (int pad : {0, 1, 3}) {
            for (int32_t pad_value : {0, 5}) {
              Conv2dParams p;
              p.stride_h = stride_h;
              p.stride_w = stride_w;
              p.pad_h = pad;
              p.pad_w = pad == 3 ? 1 : pad;  // unequal padding too
              p.groups = groups;
              p.pad_value = pad_value;
              // Depthwise gets a channel multiplier of 2.
              const int out_channels =
                  groups == channels ? 2 * channels : 2 * groups + (groups == 1 ? 4 : 0);
              const IntTensor in = random_tensor(2, channels, 11, 14, -8, 8, rng);
              IntTensor w = random_tensor(out_channels, channels / groups, k.h, k.w, -8, 8, rng);
              for (size_t i = 0; i < w.size(); i += 5) w.values()[i] = 0;
              const AccTensor got = conv2d(in, w, p);
              const AccTensor want = naive_conv(in, w, p);
              ASSERT_TRUE(got.same_shape(want));
              ASSERT_EQ(got.h(), conv_output_size(11, k.h, stride_h, p.pad_h));
              ASSERT_EQ(got.w(), conv_output_size(14, k.w, stride_w, p.pad_w));
              ASSERT_EQ(got, want)
                  << "groups=" << groups << " k=" << k.h << "x" << k.w << " stride=" << stride_h
                  << "," << stride_w << " pad=" << pad << " pad_value=" << pad_value;
              ++checked;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 5 * 2 * 2 * 3 * 2);
}

TEST(Conv2d, DilatedMatchesNaiveLoop) {
  std::mt19937 rng(77);
  int checked = 0;
  for (int groups : {1, 4}) {
    for (int dilation_h : {2, 3}) {
      for (int dilation_w : {1, 2}) {
        for (int stride : {1, 2}) {
          for (int pad : {0, 2}) {
            Conv2dParams p;
            p.stride_h = p.stride_w = stride;
            p.pad_h = p.pad_w = pad;
            p.dilation_h = dilation_h;
            p.dilation_w = dilation_w;
            p.groups = groups;
            const IntTensor in = random_tensor(2, 8, 13, 11, -8, 8, rng);
            const IntTensor w = random_tensor(8, 8 / groups, 3, 3, -8, 8, rng);
            const AccTensor got = conv2d(in, w, p);
            ASSERT_EQ(got.h(), conv_output_size(13, 3, stride, pad, dilation_h));
            ASSERT_EQ(got.w(), conv_output_size(11, 3, stride, pad, dilation_w));
            ASSERT_EQ(got, naive_conv(in, w, p))
                << "groups=" << groups << " dilation=" << dilation_h << "x" << dilation_w
                << " stride=" << stride << " pad=" << pad;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 2 * 2 * 2 * 2 * 2);
}

TEST(Conv2d, DilationHandComputed) {
  // 1x5 input, 1x2 all-ones kernel with dilation 3: sums of elements 3 apart.
  IntTensor in(1, 1, 1, 5);
  in.values() = {1, 2, 4, 8, 16};
  const IntTensor w(1, 1, 1, 2, 1);
  Conv2dParams p;
  p.dilation_w = 3;
  const AccTensor out = conv2d(in, w, p);
  ASSERT_EQ(out.w(), 2);
  EXPECT_EQ(out.at(0, 0, 0, 0), 1 + 8);
  EXPECT_EQ(out.at(0, 0, 0, 1), 2 + 16);
  EXPECT_EQ(dilated_extent(3, 2), 5);
  EXPECT_THROW(conv_output_size(4, 3, 1, 0, 2), palsim::ArgumentError);  // extent 5 > 4
}

TEST(Conv2d, PaddingLargerThanInput) {
  // Rows and columns made entirely of padding, on a 2x3 input.
  std::mt19937 rng(5);
  Conv2dParams p;
  p.pad_h = 3;
  p.pad_w = 3;
  p.pad_value = -2;
  const IntTensor in = random_tensor(1, 2, 2, 3, -5, 5, rng);
  const IntTensor w = random_tensor(3, 2, 2, 2, -5, 5, rng);
  EXPECT_EQ(conv2d(in, w, p), naive_conv(in, w, p));
  p.stride_h = 3;
  p.stride_w = 2;
  EXPECT_EQ(conv2d(in, w, p), naive_conv(in, w, p));
}

TEST(Conv2d, HandComputed) {
  // 1 channel 3x3 input, 2x2 all-ones kernel, pad 1, stride 2: window sums.
  IntTensor in(1, 1, 3, 3);
  for (int i = 0; i < 9; ++i) in.values()[i] = i + 1;  // 1..9
  const IntTensor w(1, 1, 2, 2, 1);
  Conv2dParams p;
  p.pad_h = p.pad_w = 1;
  p.stride_h = p.stride_w = 2;
  const AccTensor out = conv2d(in, w, p);
  ASSERT_EQ(out.h(), 2);
  ASSERT_EQ(out.w(), 2);
  EXPECT_EQ(out.at(0, 0, 0, 0), 1);
  EXPECT_EQ(out.at(0, 0, 0, 1), 2 + 3);
  EXPECT_EQ(out.at(0, 0, 1, 0), 4 + 7);
  EXPECT_EQ(out.at(0, 0, 1, 1), 5 + 6 + 8 + 9);
  // Groups: channel 0 only sees weight 0's input, channel 1 only weight 1's.
  IntTensor in2(1, 2, 1, 1);
  in2.values() = {3, 4};
  IntTensor w2(2, 1, 1, 1);
  w2.values() = {10, 100};
  Conv2dParams g;
  g.groups = 2;
  const AccTensor out2 = conv2d(in2, w2, g);
  EXPECT_EQ(out2.at(0, 0, 0, 0), 30);
  EXPECT_EQ(out2.at(0, 1, 0, 0), 400);
}

TEST(Conv2d, RejectsInconsistentShapes) {
  const IntTensor in(1, 8, 5, 5);
  Conv2dParams p;
  EXPECT_THROW(conv2d(in, IntTensor(4, 4, 3, 3), p), palsim::ArgumentError);  // 8 != 1*4
  p.groups = 2;
  EXPECT_NO_THROW(conv2d(in, IntTensor(4, 4, 3, 3), p));
  EXPECT_THROW(conv2d(in, IntTensor(3, 4, 3, 3), p), palsim::ArgumentError);  // 3 % 2
  p.groups = 3;
  EXPECT_THROW(conv2d(in, IntTensor(3, 2, 3, 3), p), palsim::ArgumentError);  // 8 != 3*2
  p.groups = 0;
  EXPECT_THROW(conv2d(in, IntTensor(4, 8, 3, 3), p), palsim::ArgumentError);
  p = Conv2dParams{};
  EXPECT_THROW(conv2d(in, IntTensor(4, 8, 7, 7), p), palsim::ArgumentError);  // kernel > input
  p.stride_w = 0;
  EXPECT_THROW(conv2d(in, IntTensor(4, 8, 3, 3), p), palsim::ArgumentError);
  p = Conv2dParams{};
  p.pad_h = -1;
  EXPECT_THROW(conv2d(in, IntTensor(4, 8, 3, 3), p), palsim::ArgumentError);
  p = Conv2dParams{};
  EXPECT_THROW(conv2d(in, IntTensor(4, 8, 0, 3), p), palsim::ArgumentError);
}

TEST(Conv2d, RefusesLayersThatCouldOverflow64Bits) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  // One product of 32-bit operands always fits; (-2^31)^2 * 2 = 2^63 does not.
  EXPECT_EQ(conv2d(IntTensor(1, 1, 1, 2, kMax), IntTensor(1, 1, 1, 1, kMin), {}).at(0, 0, 0, 1),
            int64_t{kMax} * kMin);
  EXPECT_EQ(conv2d(IntTensor(1, 1, 1, 2, kMax), IntTensor(1, 1, 1, 2, kMax), {}).at(0, 0, 0, 0),
            2 * int64_t{kMax} * kMax);
  EXPECT_THROW(conv2d(IntTensor(1, 1, 1, 2, kMin), IntTensor(1, 1, 1, 2, kMin), {}),
               std::overflow_error);
  // Padding reads pad_value, which counts towards the bound too.
  Conv2dParams p;
  p.pad_w = 1;
  p.pad_value = kMin;
  EXPECT_THROW(conv2d(IntTensor(1, 1, 1, 1, 1), IntTensor(1, 1, 1, 2, kMin), p),
               std::overflow_error);
  EXPECT_THROW(linear(IntTensor(1, 4, 1, 1, kMax), IntTensor(1, 4, 1, 1, kMax)),
               std::overflow_error);
}

TEST(Linear, MatchesNaiveAndFlattensChw) {
  std::mt19937 rng(3);
  const IntTensor in = random_tensor(3, 4, 2, 5, -128, 127, rng);
  const IntTensor w = random_tensor(7, 4 * 2 * 5, 1, 1, 0, 255, rng);
  const AccTensor out = linear(in, w);
  ASSERT_EQ(out.n(), 3);
  ASSERT_EQ(out.c(), 7);
  ASSERT_EQ(out.h(), 1);
  ASSERT_EQ(out.w(), 1);
  for (int n = 0; n < 3; ++n) {
    for (int o = 0; o < 7; ++o) {
      int64_t sum = 0;
      for (int c = 0; c < 4; ++c) {
        for (int y = 0; y < 2; ++y) {
          for (int x = 0; x < 5; ++x)
            sum += int64_t{in.at(n, c, y, x)} * w.at(o, (c * 2 + y) * 5 + x, 0, 0);
        }
      }
      EXPECT_EQ(out.at(n, o, 0, 0), sum);
    }
  }
  // The same as a conv whose kernel covers the whole input.
  IntTensor wk(7, 4, 2, 5);
  wk.values() = w.values();
  EXPECT_EQ(linear(in, w), conv2d(in, wk, {}));
  EXPECT_THROW(linear(in, IntTensor(7, 39, 1, 1)), palsim::ArgumentError);
  EXPECT_THROW(linear(in, IntTensor(7, 4, 2, 5)), palsim::ArgumentError);
}

IntTensor naive_max_pool(const IntTensor& in, int k, int s, int p) {
  const int oh = (in.h() + 2 * p - k) / s + 1, ow = (in.w() + 2 * p - k) / s + 1;
  IntTensor out(in.n(), in.c(), oh, ow);
  for (int n = 0; n < in.n(); ++n)
    for (int c = 0; c < in.c(); ++c)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          int64_t best = std::numeric_limits<int64_t>::min();  // padding is -infinity
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int y = oy * s - p + ky, x = ox * s - p + kx;
              if (y >= 0 && y < in.h() && x >= 0 && x < in.w())
                best = std::max<int64_t>(best, in.at(n, c, y, x));
            }
          out.at(n, c, oy, ox) = static_cast<int32_t>(best);
        }
  return out;
}

AccTensor naive_sum_pool(const IntTensor& in, int k, int s, int p) {
  const int oh = (in.h() + 2 * p - k) / s + 1, ow = (in.w() + 2 * p - k) / s + 1;
  AccTensor out(in.n(), in.c(), oh, ow);
  for (int n = 0; n < in.n(); ++n)
    for (int c = 0; c < in.c(); ++c)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int y = oy * s - p + ky, x = ox * s - p + kx;
              if (y >= 0 && y < in.h() && x >= 0 && x < in.w())
                out.at(n, c, oy, ox) += in.at(n, c, y, x);
            }
  return out;
}

TEST(Pooling, MaxPoolPaddingNeverWins) {
  std::mt19937 rng(8);
  // All values negative: a padded zero would win if padding took part.
  const IntTensor neg = random_tensor(2, 3, 7, 10, -100, -1, rng);
  const IntTensor mixed = random_tensor(2, 3, 7, 10, -100, 100, rng);
  for (int k = 1; k <= 4; ++k) {
    for (int s = 1; s <= 3; ++s) {
      for (int p = 0; p <= k / 2; ++p) {
        const IntTensor out = max_pool2d(neg, k, s, p);
        ASSERT_EQ(out, naive_max_pool(neg, k, s, p)) << k << " " << s << " " << p;
        for (int32_t v : out.values()) ASSERT_LT(v, 0);
        ASSERT_EQ(max_pool2d(mixed, k, s, p), naive_max_pool(mixed, k, s, p));
      }
    }
  }
  // The ResNet stem pool.
  const IntTensor stem = random_tensor(1, 2, 112, 112, -3, 3, rng);
  const IntTensor pooled = max_pool2d(stem, 3, 2, 1);
  EXPECT_EQ(pooled.h(), 56);
  EXPECT_EQ(pooled.w(), 56);
  EXPECT_EQ(pooled, naive_max_pool(stem, 3, 2, 1));
  EXPECT_THROW(max_pool2d(neg, 3, 1, 2), palsim::ArgumentError);  // pad > k/2
  EXPECT_THROW(max_pool2d(neg, 3, 0, 1), palsim::ArgumentError);
  EXPECT_THROW(max_pool2d(neg, 0, 1, 0), palsim::ArgumentError);
  EXPECT_THROW(max_pool2d(neg, 8, 1, 0), palsim::ArgumentError);
}

TEST(Pooling, SumPoolAndGlobalSum) {
  std::mt19937 rng(9);
  const IntTensor in = random_tensor(2, 3, 7, 10, -100, 100, rng);
  for (int k = 1; k <= 4; ++k) {
    for (int s = 1; s <= 3; ++s) {
      for (int p = 0; p <= k / 2; ++p) {
        ASSERT_EQ(sum_pool2d(in, k, s, p), naive_sum_pool(in, k, s, p))
            << k << " " << s << " " << p;
      }
    }
  }
  EXPECT_THROW(sum_pool2d(in, 2, 1, 2), palsim::ArgumentError);
  const AccTensor g = global_sum_pool(in);
  ASSERT_EQ(g.n(), 2);
  ASSERT_EQ(g.c(), 3);
  ASSERT_EQ(g.h(), 1);
  ASSERT_EQ(g.w(), 1);
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      int64_t sum = 0;
      for (int y = 0; y < 7; ++y)
        for (int x = 0; x < 10; ++x) sum += in.at(n, c, y, x);
      EXPECT_EQ(g.at(n, c, 0, 0), sum);
    }
  }
  // Global sum is the sum pool whose window is the whole input.
  IntTensor square = random_tensor(1, 2, 5, 5, -9, 9, rng);
  EXPECT_EQ(global_sum_pool(square), sum_pool2d(square, 5, 1, 0));
}

// A tensor whose every element names its channel, so outputs read as the
// source channel list.
IntTensor channel_ids(int channels) {
  IntTensor t(2, channels, 2, 3);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < channels; ++c)
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x) t.at(n, c, y, x) = c + 1000 * n;
  return t;
}

std::vector<int> channels_of(const IntTensor& t) {
  std::vector<int> ids;
  for (int c = 0; c < t.c(); ++c) {
    for (int n = 0; n < t.n(); ++n)
      for (int y = 0; y < t.h(); ++y)
        for (int x = 0; x < t.w(); ++x) EXPECT_EQ(t.at(n, c, y, x), t.at(0, c, 0, 0) + 1000 * n);
    ids.push_back(t.at(0, c, 0, 0));
  }
  return ids;
}

TEST(ChannelShuffle, TransposesGroups) {
  // (G, C/G) = (2, 3): [[0,1,2],[3,4,5]] transposed and flattened.
  EXPECT_EQ(channels_of(channel_shuffle(channel_ids(6), 2)), (std::vector<int>{0, 3, 1, 4, 2, 5}));
  // (3, 2): [[0,1],[2,3],[4,5]].
  EXPECT_EQ(channels_of(channel_shuffle(channel_ids(6), 3)), (std::vector<int>{0, 2, 4, 1, 3, 5}));
  EXPECT_EQ(channels_of(channel_shuffle(channel_ids(8), 4)),
            (std::vector<int>{0, 2, 4, 6, 1, 3, 5, 7}));
  EXPECT_EQ(channel_shuffle(channel_ids(6), 1), channel_ids(6));
  EXPECT_EQ(channel_shuffle(channel_ids(6), 6), channel_ids(6));
  EXPECT_THROW(channel_shuffle(channel_ids(6), 4), palsim::ArgumentError);
  EXPECT_THROW(channel_shuffle(channel_ids(6), 0), palsim::ArgumentError);
}

TEST(ChannelShuffle, SourceHelperIsConsistentAndInvertible) {
  for (int channels : {4, 6, 12, 24, 64}) {
    for (int groups = 1; groups <= channels; ++groups) {
      if (channels % groups != 0) continue;
      const IntTensor in = channel_ids(channels);
      const IntTensor out = channel_shuffle(in, groups);
      const std::vector<int> ids = channels_of(out);
      std::set<int> distinct(ids.begin(), ids.end());
      ASSERT_EQ(static_cast<int>(distinct.size()), channels);
      for (int c = 0; c < channels; ++c)
        ASSERT_EQ(channel_shuffle_source(c, channels, groups), ids[c]);
      // Transposing (G, C/G) and then (C/G, G) restores the order.
      ASSERT_EQ(channel_shuffle(out, channels / groups), in);
    }
  }
  EXPECT_THROW(channel_shuffle_source(6, 6, 2), palsim::ArgumentError);
  EXPECT_THROW(channel_shuffle_source(0, 6, 4), palsim::ArgumentError);
}

TEST(CyclicGroupPermute, BothDirections) {
  // Groups of 2 channels: g0 = {0,1}, g1 = {2,3}, g2 = {4,5}.
  // Paper Eq. 8: Y[:, (i+1) mod G] = X[:, i], so output group 0 is input g2.
  EXPECT_EQ(channels_of(cyclic_group_permute(channel_ids(6), 3, +1)),
            (std::vector<int>{4, 5, 0, 1, 2, 3}));
  // Reference code: output group i = input group (i+1) mod G.
  EXPECT_EQ(channels_of(cyclic_group_permute(channel_ids(6), 3, -1)),
            (std::vector<int>{2, 3, 4, 5, 0, 1}));
  EXPECT_EQ(channels_of(cyclic_group_permute(channel_ids(4), 4, +1)),
            (std::vector<int>{3, 0, 1, 2}));
  EXPECT_EQ(channels_of(cyclic_group_permute(channel_ids(4), 4, -1)),
            (std::vector<int>{1, 2, 3, 0}));
  // G = 2: both directions swap the two halves.
  EXPECT_EQ(cyclic_group_permute(channel_ids(8), 2, +1),
            cyclic_group_permute(channel_ids(8), 2, -1));
  EXPECT_EQ(cyclic_group_permute(channel_ids(6), 1, +1), channel_ids(6));
  EXPECT_THROW(cyclic_group_permute(channel_ids(6), 3, 0), palsim::ArgumentError);
  EXPECT_THROW(cyclic_group_permute(channel_ids(6), 3, 2), palsim::ArgumentError);
  EXPECT_THROW(cyclic_group_permute(channel_ids(6), 4, 1), palsim::ArgumentError);
}

TEST(CyclicGroupPermute, SourceHelperIsConsistentAndDirectionsAreInverse) {
  for (int channels : {4, 6, 12, 64}) {
    for (int groups = 1; groups <= channels; ++groups) {
      if (channels % groups != 0) continue;
      const int per_group = channels / groups;
      const IntTensor in = channel_ids(channels);
      for (int direction : {+1, -1}) {
        const IntTensor out = cyclic_group_permute(in, groups, direction);
        const std::vector<int> ids = channels_of(out);
        for (int c = 0; c < channels; ++c) {
          const int src = cyclic_permute_source(c, channels, groups, direction);
          ASSERT_EQ(src, ids[c]);
          // Group moves as a whole, by one position in the stated direction.
          ASSERT_EQ(src % per_group, c % per_group);
          ASSERT_EQ((src / per_group + direction + groups) % groups, c / per_group);
        }
        ASSERT_EQ(cyclic_group_permute(out, groups, -direction), in);
      }
      // G applications of one step go all the way round.
      IntTensor t = in;
      for (int i = 0; i < groups; ++i) t = cyclic_group_permute(t, groups, +1);
      ASSERT_EQ(t, in);
    }
  }
}

}  // namespace
}  // namespace palsim::kernels
