// BitOps with the counting rule of docs/method.md §4.
#include "frontend/bitops.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/builders/method.h"
#include "frontend/builders/resnet.h"

namespace palsim::frontend {
namespace {

MethodOptions lsq(int a, int w) {
  MethodOptions m;
  m.method = Method::kLsq;
  m.a_bits = a;
  m.w_bits = w;
  return m;
}
MethodOptions palquant(int B, int G) {
  MethodOptions m;
  m.method = Method::kPalQuant;
  m.B = B;
  m.G = G;
  return m;
}

BitOpsReport bitops_of(int depth, const MethodOptions& m) {
  const Network net = build_resnet("net", resnet_options_for_depth(depth), m);
  return count_bitops(net, m.bitops_w_bits(), m.bitops_a_bits());
}

// thop's MACs of an ImageNet ResNet (basic blocks), counted straight from the
// architecture of docs/method.md §3 without the IR: conv C_out*H*W*(C_in/g)*k^2,
// BN 2 per element, global pool (h*w + 1) per output, FC in*out.
int64_t thop_resnet_macs(const std::vector<int>& blocks, int G, bool cyclic_modules) {
  int64_t macs = 0;
  auto conv = [&](int64_t cin, int64_t cout, int64_t k, int64_t h_out, int64_t groups) {
    macs += cout * h_out * h_out * (cin / groups) * k * k;
  };
  auto bn = [&](int64_t c, int64_t h) { macs += 2 * c * h * h; };
  int64_t c = 64 * G;
  conv(3, c, 7, 112, 1);  // 224 -> 112
  bn(c, 112);
  int64_t h = 56;  // max pool
  for (int s = 0; s < 4; ++s) {
    const int64_t planes = (int64_t{64} << s) * G;
    if (s > 0 && G > 1 && cyclic_modules) {  // Conv1x1_g C -> C, BN
      conv(c, c, 1, h, G);
      bn(c, h);
    }
    for (int k = 0; k < blocks[static_cast<size_t>(s)]; ++k) {
      const bool down = s > 0 && k == 0;
      const int64_t h_out = down ? h / 2 : h;
      conv(c, planes, 3, h_out, G);
      bn(planes, h_out);
      conv(planes, planes, 3, h_out, G);
      bn(planes, h_out);
      if (down) {
        conv(c, planes, 1, h_out, G);
        bn(planes, h_out);
      }
      c = planes;
      h = h_out;
    }
  }
  macs += (h * h + 1) * c;  // global average pool
  macs += c * 1000;         // FC
  return macs;
}

// The rule in integer arithmetic: MACs rounded to 1e6 (3 decimals of 1e9),
// times b_w * b_a, rounded to 1e7 (2 decimals of 1e9); printed "%.2f".
std::string rule_bitops(int64_t macs, int bw, int ba) {
  const int64_t macs_m = (macs + 500000) / 1000000;
  const int64_t centi = (macs_m * bw * ba + 5) / 10;
  return fmt::format("{}.{:02d}", centi / 100, centi % 100);
}

std::string printed(double bitops_g) {
  return fmt::format("{:.2f}", bitops_g);
}

TEST(BitOpsResNet18, PaperFigures) {
  struct Case {
    MethodOptions method;
    const char* bitops;
    int64_t macs;
  };
  const Case cases[] = {
      {lsq(4, 4), "29.10", 1819066368},      {lsq(6, 6), "65.48", 1819066368},
      {lsq(8, 8), "116.42", 1819066368},     {palquant(2, 2), "14.87", 3716608000},
      {palquant(2, 3), "22.30", 5574912000}, {palquant(2, 4), "29.73", 7433216000},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method.label());
    const BitOpsReport r = bitops_of(18, c.method);
    EXPECT_EQ(r.macs, c.macs);
    EXPECT_EQ(printed(r.bitops_g), c.bitops);
    EXPECT_DOUBLE_EQ(r.bitops_g, std::stod(c.bitops));  // the value itself, not only its print
  }
  EXPECT_DOUBLE_EQ(bitops_of(18, lsq(4, 4)).macs_g_rounded, 1.819);
  EXPECT_DOUBLE_EQ(bitops_of(18, palquant(2, 2)).macs_g_rounded, 3.717);
}

TEST(BitOpsResNet18, IndependentCountMatchesTheKnownIntegers) {
  // Validates the counter below before it is trusted for ResNet-34.
  EXPECT_EQ(thop_resnet_macs({2, 2, 2, 2}, 1, false), 1819066368);
  EXPECT_EQ(thop_resnet_macs({2, 2, 2, 2}, 2, true), 3716608000);
  EXPECT_EQ(thop_resnet_macs({2, 2, 2, 2}, 3, true), 5574912000);
  EXPECT_EQ(thop_resnet_macs({2, 2, 2, 2}, 4, true), 7433216000);
  EXPECT_EQ(rule_bitops(1819066368, 8, 8), "116.42");
  EXPECT_EQ(rule_bitops(3716608000, 2, 2), "14.87");
}

TEST(BitOpsResNet34, SixFormsMatchTheRule) {
  const std::vector<int> blocks = {3, 4, 6, 3};
  struct Case {
    MethodOptions method;
    int G;
    int bits;
  };
  const Case cases[] = {{lsq(4, 4), 1, 4},      {lsq(6, 6), 1, 6},      {lsq(8, 8), 1, 8},
                        {palquant(2, 2), 2, 2}, {palquant(2, 3), 3, 2}, {palquant(2, 4), 4, 2}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method.label());
    const int64_t expected_macs = thop_resnet_macs(blocks, c.G, true);
    const BitOpsReport r = bitops_of(34, c.method);
    EXPECT_EQ(r.macs, expected_macs);
    EXPECT_EQ(printed(r.bitops_g), rule_bitops(expected_macs, c.bits, c.bits));
  }
  // thop's well-known figure for torchvision's resnet34.
  EXPECT_EQ(thop_resnet_macs(blocks, 1, false), 3671263232);
}

TEST(BitOpsResNet, OtherFormsShareTheirMacs) {
  const int64_t lsq_macs = bitops_of(18, lsq(4, 4)).macs;
  MethodOptions ewgs = lsq(4, 4);
  ewgs.method = Method::kEwgs;
  EXPECT_EQ(bitops_of(18, ewgs).macs, lsq_macs);
  MethodOptions bd = lsq(4, 4);
  bd.method = Method::kBitDecomposed;
  EXPECT_EQ(bitops_of(18, bd).macs, lsq_macs);
  EXPECT_EQ(printed(bitops_of(18, bd).bitops_g), "29.10");
  EXPECT_EQ(bitops_of(18, palquant(2, 1)).macs, lsq_macs);  // G = 1 is the plain B-bit ResNet
  EXPECT_EQ(printed(bitops_of(18, palquant(2, 1)).bitops_g), "7.28");
  // fp: 32 x 32 x 1.819 = 1862.656 -> 1862.66.
  EXPECT_EQ(printed(bitops_of(18, MethodOptions{}).bitops_g), "1862.66");
  // Without the cyclic modules / their permutation (the permutation counts 0).
  MethodOptions nocyc = palquant(2, 2);
  nocyc.cyclic_shuffle = false;
  EXPECT_EQ(bitops_of(18, nocyc).macs, thop_resnet_macs({2, 2, 2, 2}, 2, false));
  MethodOptions noperm = palquant(2, 2);
  noperm.cyclic_permutation = false;
  EXPECT_EQ(bitops_of(18, noperm).macs, 3716608000);
  MethodOptions perblock = palquant(2, 2);
  perblock.channel_shuffle = ShuffleMode::kPerBlock;
  EXPECT_EQ(bitops_of(18, perblock).macs, 3716608000);
}

TEST(BitOpsLayers, PerLayerMacsByHand) {
  const Network net = build_resnet("r18", resnet_options_for_depth(18), MethodOptions{});
  auto macs = [&](const std::string& name) { return layer_macs(net, net.find(name)); };
  EXPECT_EQ(macs("conv1"), 64LL * 112 * 112 * 3 * 49);             // 118013952
  EXPECT_EQ(macs("bn1"), 2LL * 64 * 112 * 112);                    // 1605632
  EXPECT_EQ(macs("layer1.0.conv1"), 64LL * 56 * 56 * 64 * 9);      // 115605504
  EXPECT_EQ(macs("layer2.0.conv1"), 128LL * 28 * 28 * 64 * 9);     // stride 2
  EXPECT_EQ(macs("layer2.0.downsample.0"), 128LL * 28 * 28 * 64);  // 1x1
  EXPECT_EQ(macs("layer4.1.conv2"), 512LL * 7 * 7 * 512 * 9);
  EXPECT_EQ(macs("avgpool"), (7LL * 7 + 1) * 512);
  EXPECT_EQ(macs("fc"), 512LL * 1000);
  for (const char* zero :
       {"input", "relu", "maxpool", "layer1.0.add", "layer1.0.relu2", "flatten"}) {
    EXPECT_EQ(macs(zero), 0) << zero;
  }
  EXPECT_EQ(macs("conv1"), 118013952);

  const Network pq = build_resnet("pq", resnet_options_for_depth(18), palquant(2, 2));
  auto pmacs = [&](const std::string& name) { return layer_macs(pq, pq.find(name)); };
  EXPECT_EQ(pmacs("conv1"), 128LL * 112 * 112 * 3 * 49);                // stem not grouped
  EXPECT_EQ(pmacs("layer1.0.conv1"), 128LL * 56 * 56 * (128 / 2) * 9);  // groups = 2
  EXPECT_EQ(pmacs("shuffle2.conv1.0"), 128LL * 56 * 56 * (128 / 2));
  EXPECT_EQ(pmacs("shuffle3.conv1.0"), 256LL * 28 * 28 * (256 / 2));
  EXPECT_EQ(pmacs("layer3.0.downsample.0"), 512LL * 14 * 14 * (256 / 2));
  EXPECT_EQ(pmacs("fc"), 1024LL * 1000);
  for (const char* zero : {"shuffle2.permute", "shuffle2.add", "layer2.0.shuffle"})
    EXPECT_EQ(pmacs(zero), 0);

  // The report lists exactly the layers with a nonzero count, summing to the total.
  const BitOpsReport r = count_bitops(pq, 2, 2);
  int64_t sum = 0;
  for (const auto& l : r.layers) {
    EXPECT_GT(l.macs, 0) << l.name;
    EXPECT_EQ(l.macs, pmacs(l.name)) << l.name;
    EXPECT_EQ(l.slice_products, l.macs) << l.name;  // not decomposed
    sum += l.macs;
  }
  EXPECT_EQ(sum, r.macs);
  EXPECT_EQ(r.layers.front().name, "conv1");
  EXPECT_EQ(r.layers.back().name, "fc");
  EXPECT_EQ(r.w_bits, 2);
  EXPECT_EQ(r.a_bits, 2);
}

TEST(BitOpsLayers, AvgPoolConvBiasAndUnflattenedFc) {
  Network net("t");
  net.add("input", InputAttrs{{8, 8, 8}}, {});
  ConvAttrs c;
  c.out_channels = 4;
  c.kernel_h = c.kernel_w = 3;
  c.pad_h = c.pad_w = 1;
  c.bias = true;
  net.add("conv", c, {0});
  net.add("pool", AvgPoolAttrs{2, 2, 0}, {1});
  FcAttrs fc;
  fc.out_features = 5;
  net.add("fc", fc, {2});  // reads a 4x4x4 tensor directly
  net.infer_shapes();
  EXPECT_EQ(layer_macs(net, 1), 4LL * 8 * 8 * 8 * 9);  // no bias term (docs/method.md §4)
  EXPECT_EQ(layer_macs(net, 2), 4LL * 4 * 4);          // thop: one op per output
  EXPECT_EQ(layer_macs(net, 3), 64LL * 5);
}

TEST(BitOpsLayers, BitDecomposedSliceProducts) {
  struct Case {
    int a, w, slice, sa, sw;
  };
  const Case cases[] = {{4, 4, 2, 2, 2}, {8, 8, 2, 4, 4}, {6, 4, 4, 2, 1},
                        {3, 5, 2, 2, 3}, {4, 4, 1, 4, 4}, {8, 2, 4, 2, 1}};
  for (const auto& c : cases) {
    MethodOptions m;
    m.method = Method::kBitDecomposed;
    m.a_bits = c.a;
    m.w_bits = c.w;
    m.slice_bits = c.slice;
    SCOPED_TRACE(m.label());
    const Network net = build_resnet("bd", resnet_options_for_depth(18), m);
    const BitOpsReport r = count_bitops(net, m.bitops_w_bits(), m.bitops_a_bits());
    int checked = 0;
    for (const auto& l : r.layers) {
      const Layer& layer = net.layer(net.find(l.name));
      const bool body_conv = layer.is<ConvAttrs>() && layer.role == LayerRole::kBody;
      if (body_conv) {
        EXPECT_EQ(l.slice_products, static_cast<int64_t>(c.sa) * c.sw * l.macs) << l.name;
        ++checked;
      } else {
        EXPECT_EQ(l.slice_products, l.macs) << l.name;  // stem, BN, pool, FC
      }
    }
    EXPECT_EQ(checked, 19);
  }
}

TEST(BitOpsRound, RoundDecimalEdgeCases) {
  struct Case {
    double value;
    int decimals;
    double expected;
  };
  const Case cases[] = {
      {116.415, 2, 116.42},  // stored as 116.41499999999999...: the decimal value rounds up
      {29.104, 2, 29.10},
      {65.484, 2, 65.48},
      {14.868, 2, 14.87},
      {22.3, 2, 22.30},
      {1.8190664, 3, 1.819},
      {3.716608, 3, 3.717},
      {0.125, 2, 0.13},
      {2.675, 2, 2.68},
      {1.005, 2, 1.01},
      {-1.005, 2, -1.01},
      {-2.5, 0, -3.0},
      {2.5, 0, 3.0},
      {0.5, 0, 1.0},
      {1.0005, 3, 1.001},
      {9.995, 2, 10.0},
      {99.9999, 3, 100.0},
      {0.0, 2, 0.0},
      {1e-12, 3, 0.0},
      {5e-4, 3, 0.001},
      {4.9999e-4, 3, 0.0},
      {7.0, 2, 7.0},
      {123456789.125, 2, 123456789.13},
      {1862.656, 2, 1862.66},
      // No double rounding: the decimal value 1.0049999996 is below the half.
      {1.0049999996, 2, 1.0},
      {0.4999999999, 0, 0.0},
      {0.44999999, 1, 0.4},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(round_decimal(c.value, c.decimals), c.expected)
        << fmt::format("round_decimal({}, {})", c.value, c.decimals);
  }
  // Results are the doubles nearest the decimal figures, so they print exactly.
  EXPECT_EQ(fmt::format("{}", round_decimal(1.819 * 16, 2)), "29.1");
  EXPECT_EQ(fmt::format("{}", round_decimal(3.717 * 4, 2)), "14.87");
  EXPECT_EQ(fmt::format("{}", round_decimal(1.819 * 64, 2)), "116.42");
  EXPECT_TRUE(std::isnan(round_decimal(std::nan(""), 2)));
  EXPECT_EQ(round_decimal(INFINITY, 2), INFINITY);
  EXPECT_EQ(round_decimal(1e300, 2), 1e300);
  EXPECT_EQ(round_decimal(4e-320, 2), 0.0);  // subnormal
}

}  // namespace
}  // namespace palsim::frontend
