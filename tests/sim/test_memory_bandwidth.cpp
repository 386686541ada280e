// The bandwidth + latency model: latency + ceil(bits / bits_per_cycle) cycles
// per transfer, one transfer at a time.
#include <gtest/gtest.h>

#include <cstdint>

#include "common/error.h"
#include "sim/memory/bandwidth_memory.h"

namespace palsim::sim {
namespace {

frontend::OffchipConfig channel(int bits_per_cycle, int latency_cycles) {
  frontend::OffchipConfig c;
  c.model = frontend::OffchipModel::kBandwidth;
  c.bits_per_cycle = bits_per_cycle;
  c.latency_cycles = latency_cycles;
  c.pj_per_bit = 15;
  return c;
}

DramAccess read_bits(uint64_t bits) {
  DramAccess a;
  a.run_bits = bits;
  return a;
}

TEST(BandwidthMemory, DurationIsLatencyPlusCeilOfBitsOverWidth) {
  struct Case {
    int width, latency;
    uint64_t bits, cycles;
  };
  const Case cases[] = {
      {192, 14, 1, 15},                    // a single bit still takes a whole cycle
      {192, 14, 192, 15},                  // exactly one cycle of data
      {192, 14, 193, 16},                  // one bit over: a second cycle
      {192, 14, 1000, 20},                 // 1000 / 192 = 5.2 -> 6
      {192, 14, 4096, 36},                 // 4096 / 192 = 21.3 -> 22
      {192, 0, 384, 2},                    // no latency
      {192, 0, 385, 3},    {64, 0, 1, 1},  // the minimum duration of a non-empty transfer
      {7, 3, 50, 11},                      // 50 / 7 = 7.1 -> 8, plus 3
  };
  for (const Case& c : cases) {
    BandwidthMemory m(channel(c.width, c.latency));
    EXPECT_EQ(m.serve(100, read_bits(c.bits)), c.cycles)
        << c.bits << " bits at " << c.width << " bits/cycle, latency " << c.latency;
  }
}

TEST(BandwidthMemory, StridedAccessCountsEveryRun) {
  BandwidthMemory m(channel(192, 14));
  DramAccess a;
  a.run_bits = 100;
  a.inner_count = 3;
  a.inner_stride_bits = 1000;
  a.outer_count = 4;
  a.outer_stride_bits = 100000;
  // 1200 bits: ceil(1200 / 192) = 7 cycles of data.
  EXPECT_EQ(m.serve(0, a), 14u + 7u);
  EXPECT_EQ(m.stats().read_bits, 1200u);
}

TEST(BandwidthMemory, BackToBackTransfersSerialize) {
  BandwidthMemory m(channel(192, 14));
  const DramAccess a = read_bits(1920);  // 10 cycles of data, 24 in all
  EXPECT_EQ(m.serve(0, a), 24u);
  // Arrives while the first is still moving: waits until cycle 24, done at 48.
  EXPECT_EQ(m.serve(0, a), 48u);
  // Arrives exactly when the channel frees.
  EXPECT_EQ(m.serve(48, a), 24u);
  // Arrives late: the channel has been idle.
  EXPECT_EQ(m.serve(100, a), 24u);
  // Arrives in the middle of the previous transfer (which ends at 124).
  EXPECT_EQ(m.serve(110, a), 14u + 24u);
}

TEST(BandwidthMemory, Stats) {
  BandwidthMemory m(channel(192, 14));
  DramAccess r = read_bits(1920);
  DramAccess w = read_bits(193);
  w.write = true;
  m.serve(0, r);   // 24 cycles
  m.serve(10, w);  // waits to 24, then 14 + 2 = 16 cycles
  m.serve(100, r);
  const DramStats& s = m.stats();
  EXPECT_EQ(s.read_bits, 3840u);
  EXPECT_EQ(s.write_bits, 193u);
  EXPECT_EQ(s.transfers, 3u);
  EXPECT_EQ(s.busy_cycles, 24u + 16u + 24u);  // waiting is not busy time
  EXPECT_EQ(s.bursts, 0u);                    // DDR4-only counters stay zero
  EXPECT_EQ(s.current_energy_pj, 0.0);
}

TEST(BandwidthMemory, EmptyAccessTakesNoTimeAndIsNotCounted) {
  BandwidthMemory m(channel(192, 14));
  DramAccess a = read_bits(0);
  EXPECT_EQ(m.serve(5, a), 0u);
  a.run_bits = 64;
  a.inner_count = 0;
  EXPECT_EQ(m.serve(5, a), 0u);
  EXPECT_EQ(m.stats().transfers, 0u);
  EXPECT_EQ(m.stats().busy_cycles, 0u);
}

TEST(BandwidthMemory, RejectsImpossibleChannels) {
  EXPECT_THROW(BandwidthMemory(channel(0, 0)), InputError);
  EXPECT_THROW(BandwidthMemory(channel(64, -1)), InputError);
  EXPECT_NO_THROW(BandwidthMemory(channel(1, 0)));
}

TEST(BandwidthMemory, DescribeNamesTheParameters) {
  BandwidthMemory m(channel(192, 14));
  EXPECT_NE(m.describe().find("192 bits/cycle"), std::string::npos);
  EXPECT_NE(m.describe().find("14 cycles"), std::string::npos);
}

}  // namespace
}  // namespace palsim::sim
