// The burst rule, the access-cost prices and the tensor layouts that the
// mapper and the memory models share (frontend/arch/dram_access.h,
// access_cost.h, frontend/mapping/tensor_layout.h).
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "frontend/arch/access_cost.h"
#include "frontend/arch/cached_access_cost.h"
#include "frontend/arch/dram_access.h"
#include "frontend/mapping/tensor_layout.h"

namespace palsim::frontend {
namespace {

constexpr uint64_t kBurst = 512;

TEST(DramAccess, BurstsOfContiguousAndStridedRuns) {
  DramAccess a;
  a.base_bit = 100;
  a.run_bits = 1000;  // bits 100..1099: bursts 0, 1, 2
  EXPECT_EQ(bursts_moved(a, kBurst), 3u);
  // Two runs in the same burst move it once; runs that touch end to end fold.
  a.base_bit = 0;
  a.run_bits = 64;
  a.inner_count = 4;
  a.inner_stride_bits = 128;  // 0..63, 128..191, 256..319, 384..447: all burst 0
  EXPECT_EQ(bursts_moved(a, kBurst), 1u);
  a.inner_stride_bits = 64;  // contiguous: one run of 256 bits
  EXPECT_EQ(fold_contiguous_runs(a).inner_count, 1u);
  EXPECT_EQ(bursts_moved(a, kBurst), 1u);
  // Runs a burst apart move one burst each.
  a.inner_stride_bits = 1024;
  EXPECT_EQ(bursts_moved(a, kBurst), 4u);
}

TEST(AccessCost, Ddr4ClosedFormCountsTheBurstsTheRuleMoves) {
  const Ddr4Config config;
  const Ddr4Cost cost(config, 500);
  EXPECT_EQ(cost.burst_bits(), kBurst);
  std::mt19937_64 rng(19);
  for (int k = 0; k < 2000; ++k) {
    DramAccess a;
    a.base_bit = rng() % 4096;
    a.run_bits = 1 + rng() % 3000;
    a.inner_count = static_cast<uint32_t>(1 + rng() % 20);
    // Strides of whole bursts (the closed form) and of any bits (the walk).
    a.inner_stride_bits = (rng() % 2 ? kBurst * (1 + rng() % 8) : 1 + rng() % 4000);
    a.outer_count = static_cast<uint32_t>(1 + rng() % 5);
    a.outer_stride_bits = (rng() % 2 ? kBurst * (1 + rng() % 200) : 1 + rng() % 90000);
    const TransferPrice p = cost.price(a);
    EXPECT_EQ(p.moved_bits, bursts_moved(a, kBurst) * kBurst) << k;
    EXPECT_GE(p.moved_bits, a.total_bits() > 0 ? (a.total_bits() + kBurst - 1) / kBurst : 0);
    EXPECT_GE(p.cycles, cost.latency_cycles());
  }
}

TEST(AccessCost, Ddr4SequentialRateAndLatencyComeFromTheTimings) {
  const Ddr4Config c;
  const Ddr4Cost cost(c, 500);
  // tRCD + CL = 34 tCK of 0.833 ns at 500 MHz.
  EXPECT_NEAR(cost.latency_cycles(), 34 * 0.833 * 0.5, 1e-9);
  // 512 bits per BL/2 = 4 tCK, stretched by tREFI / (tREFI - tRFC).
  EXPECT_NEAR(cost.sequential_bits_per_cycle(),
              512.0 / (4 * 0.833 * 0.5) * (c.tREFI - c.tRFC) / c.tREFI, 1e-9);
  // A long sequential transfer runs at that rate.
  DramAccess a;
  a.run_bits = kBurst * 10000;
  const TransferPrice p = cost.price(a);
  EXPECT_NEAR(static_cast<double>(a.run_bits) /
                  (p.cycles - cost.latency_cycles() * c.tREFI / (c.tREFI - c.tRFC)),
              cost.sequential_bits_per_cycle(), 1e-6);
  // Short ranges far apart each wait for an activate slot (tFAW / 4 > one burst).
  DramAccess scattered;
  scattered.run_bits = kBurst;
  scattered.inner_count = 100;
  scattered.inner_stride_bits = kBurst * 64;
  EXPECT_GT(cost.price(scattered).cycles, 100 * 4 * 0.833 * 0.5 * 2);
}

TEST(AccessCost, BandwidthPricesBitsAlone) {
  OffchipConfig c;
  c.bits_per_cycle = 192;
  c.latency_cycles = 14;
  const BandwidthCost cost(c);
  DramAccess a;
  a.run_bits = 100;
  a.inner_count = 3;
  a.inner_stride_bits = 5000;
  EXPECT_EQ(cost.price(a).moved_bits, 300u);
  EXPECT_EQ(cost.price(a).cycles, 14 + 2);
  EXPECT_EQ(transfer_moved_bits(c, a), 300u);
  c.model = OffchipModel::kDdr4;
  EXPECT_EQ(transfer_moved_bits(c, a), 3 * kBurst);
}

// AccessCost's contract, which CachedAccessCost relies on: moving a transfer
// by whole granules leaves its price alone; and the cache answers exactly
// what the wrapped cost answers, from the first call and from the cache.
TEST(AccessCost, PricesAreTranslationInvariantAndTheCacheAnswersAlike) {
  const Ddr4Config config;
  const Ddr4Cost ddr4(config, 500);
  CachedAccessCost cached(std::make_unique<Ddr4Cost>(config, 500));
  std::mt19937_64 rng(7);
  auto pick = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  for (int k = 0; k < 2000; ++k) {
    DramAccess a;
    a.write = pick(0, 1) == 1;
    a.base_bit = pick(0, 1 << 20);
    a.run_bits = pick(1, 3000);
    a.inner_count = static_cast<uint32_t>(pick(1, 400));
    a.inner_stride_bits = a.run_bits + pick(0, 2000);
    a.outer_count = static_cast<uint32_t>(pick(1, 4));
    a.outer_stride_bits = a.inner_stride_bits * a.inner_count + pick(0, 5000);
    DramAccess moved = a;
    moved.base_bit += pick(1, 1000) * ddr4.granularity_bits();
    const TransferPrice p = ddr4.price(a), q = ddr4.price(moved);
    ASSERT_EQ(p.moved_bits, q.moved_bits) << k;
    ASSERT_EQ(p.cycles, q.cycles) << k;
    for (const DramAccess& x : {a, moved, a}) {
      const TransferPrice c = cached.price(x);
      ASSERT_EQ(c.moved_bits, p.moved_bits) << k;
      ASSERT_EQ(c.cycles, p.cycles) << k;
    }
  }
  EXPECT_EQ(cached.misses(), 2000u);
  EXPECT_EQ(cached.hits(), 4000u);
}

// The bit address of element (n, c, h, w) of a stored tensor, written from
// the layout's definition (tensor_layout.h), independently of box_accesses.
uint64_t element_bit(const TensorLayout& t, int n, int p, int h, int w) {
  const int C = t.stored_channels();
  if (t.group_major > 1) p = group_major_position(p, C, t.group_major);
  if (t.block == 0) return t.base_bit + ((((uint64_t)n * C + p) * t.h + h) * t.w + w) * t.bits;
  const int nb = C / t.block;
  return t.base_bit +
         (((((uint64_t)n * nb + p / t.block) * t.h + h) * t.w + w) * t.block + p % t.block) *
             t.bits;
}

std::set<uint64_t> access_bits(const std::vector<DramAccess>& accesses) {
  std::set<uint64_t> bits;
  for (const DramAccess& a : accesses)
    for (uint64_t o = 0; o < a.outer_count; ++o)
      for (uint64_t i = 0; i < a.inner_count; ++i)
        for (uint64_t b = 0; b < a.run_bits; ++b)
          bits.insert(a.base_bit + o * a.outer_stride_bits + i * a.inner_stride_bits + b);
  return bits;
}

TEST(TensorLayout, EveryLayoutFetchesExactlyTheBoxElements) {
  for (int block : {0, 1, 2, 4, 8}) {
    for (int shuffle : {0, 2}) {
      for (int group_major : {0, 2}) {
        TensorLayout t{4096, 2, 8, 3, 5};
        t.block = block;
        t.group_major = group_major;
        for (const Box box : {Box{0, 2, 0, 8, 0, 3, 0, 5}, Box{1, 1, 2, 4, 1, 2, 0, 5},
                              Box{0, 1, 3, 3, 0, 3, 1, 3}, Box{0, 2, 4, 4, 2, 1, 2, 2}}) {
          SCOPED_TRACE(testing::Message()
                       << "block " << block << " shuffle " << shuffle << " group-major "
                       << group_major << " box c" << box.c0 << "+" << box.c);
          std::set<uint64_t> expected;
          for (int n = box.n0; n < box.n0 + box.n; ++n)
            for (int c = box.c0; c < box.c0 + box.c; ++c)
              for (int h = box.h0; h < box.h0 + box.h; ++h)
                for (int w = box.w0; w < box.w0 + box.w; ++w) {
                  const uint64_t e = element_bit(t, n, physical_channel(c, t.c, shuffle), h, w);
                  for (int b = 0; b < t.bits; ++b) expected.insert(e + b);
                }
          const std::vector<DramAccess> a = box_accesses(t, box, shuffle, false);
          uint64_t total = 0;
          for (const DramAccess& x : a) total += x.total_bits();
          EXPECT_EQ(total, expected.size());  // no bit fetched twice
          EXPECT_EQ(access_bits(a), expected);
        }
      }
    }
  }
}

TEST(TensorLayout, BlockedTileOfWholeBlocksAndRowsIsOneRun) {
  TensorLayout t{0, 2, 64, 56, 56};
  t.block = 32;
  const auto a = box_accesses(t, Box{0, 1, 32, 32, 8, 4, 0, 56}, 0, false);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(fold_contiguous_runs(a[0]).inner_count * fold_contiguous_runs(a[0]).outer_count, 1u);
  EXPECT_EQ(layout_name({32, 0}), "NCHW32c");
  EXPECT_EQ(layout_name({0, 2}), "NCHW/g2");
  EXPECT_TRUE(valid_block(32, 64));
  EXPECT_FALSE(valid_block(24, 64));
}

}  // namespace
}  // namespace palsim::frontend
