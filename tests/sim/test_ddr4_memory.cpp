// The DDR4 off-chip model: bursts, address mapping, row hits and conflicts,
// refresh, the two clock domains, over-fetch, energy, and the factory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "sim/memory/ddr4_memory.h"
#include "sim/memory/offchip_memory.h"

namespace palsim::sim {
namespace {

// DRAMsim3 configs/DDR4_8Gb_x16_2400.ini, four x16 devices on a 64-bit channel.
frontend::Ddr4Config ddr4_2400() {
  frontend::Ddr4Config d;
  d.tck_ns = 0.833;
  d.channel_width_bits = 64;
  d.device_width_bits = 16;
  d.bank_groups = 2;
  d.banks_per_group = 4;
  d.rows = 65536;
  d.columns = 1024;
  d.burst_length = 8;
  d.CL = 17;
  d.CWL = 12;
  d.tRCD = 17;
  d.tRP = 17;
  d.tRAS = 39;
  d.tRRD_S = 7;
  d.tRRD_L = 8;
  d.tCCD_S = 4;
  d.tCCD_L = 6;
  d.tWTR_S = 3;
  d.tWTR_L = 9;
  d.tRTP = 9;
  d.tWR = 18;
  d.tFAW = 36;
  d.tRFC = 420;
  d.tREFI = 9360;
  d.IDD0 = 80;
  d.IDD2N = 34;
  d.IDD3N = 47;
  d.IDD4R = 243;
  d.IDD4W = 228;
  d.IDD5AB = 280;
  d.VDD = 1.2;
  d.page_policy = frontend::PagePolicy::kOpen;
  return d;
}

constexpr double kClockMhz = 500;  // accelerator period 2000 ps; DRAM period 833 ps
constexpr uint64_t kBurstBits = 512;
constexpr uint64_t kMiB = 8ull << 20;  // bits

DramAccess contiguous(uint64_t base_bit, uint64_t bits, bool write = false) {
  DramAccess a;
  a.write = write;
  a.base_bit = base_bit;
  a.run_bits = bits;
  return a;
}

// Achieved bits per accelerator cycle over one transfer.
double rate(uint64_t bits, uint64_t cycles) {
  return static_cast<double>(bits) / static_cast<double>(cycles);
}

TEST(Ddr4Memory, AddressMapping) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  EXPECT_EQ(m.burst_bits(), kBurstBits);
  // row : bank : column : bank group, least significant last.
  auto expect_at = [&](uint64_t burst, int group, int bank, int64_t row, int column) {
    const Ddr4Memory::Location l = m.map_burst(burst);
    EXPECT_EQ(l.bank_group, group) << burst;
    EXPECT_EQ(l.bank, bank) << burst;
    EXPECT_EQ(l.row, row) << burst;
    EXPECT_EQ(l.column, column) << burst;
  };
  expect_at(0, 0, 0, 0, 0);
  expect_at(1, 1, 0, 0, 0);                // the next burst: the other bank group
  expect_at(2, 0, 0, 0, 8);                // then the next column burst (BL 8 columns)
  expect_at(255, 1, 0, 0, 1016);           // 2 groups x 128 column bursts share row 0 of bank 0
  expect_at(256, 0, 1, 0, 0);              // then the next bank
  expect_at(1024, 0, 0, 1, 0);             // 64 KiB on: row 1 of bank 0 (a conflict)
  expect_at(1024ull * 65536, 0, 0, 0, 0);  // past the device: wraps around
}

TEST(Ddr4Memory, ClosedPageMappingInterleavesBanks) {
  frontend::Ddr4Config d = ddr4_2400();
  d.page_policy = frontend::PagePolicy::kClosed;
  Ddr4Memory m(d, kClockMhz);
  // row : column : bank : bank group.
  EXPECT_EQ(m.map_burst(1).bank_group, 1);
  EXPECT_EQ(m.map_burst(2).bank, 1);
  EXPECT_EQ(m.map_burst(7).bank, 3);
  EXPECT_EQ(m.map_burst(8).column, 8);
  EXPECT_EQ(m.map_burst(8).bank, 0);
  EXPECT_EQ(m.map_burst(1024).row, 1);
  EXPECT_EQ(m.map_burst(1023).column, 1016);
}

TEST(Ddr4Memory, ClockDomainConversionOfOneBurst) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  EXPECT_EQ(m.accelerator_period_ps(), 2000);
  EXPECT_EQ(m.dram_period_ps(), 833);
  // Cycle 1000 is 2,000,000 ps; the first DRAM cycle at or after it is
  // ceil(2,000,000 / 833) = 2401 (2,000,033 ps). The bank is closed: ACT at
  // 2401, RD at 2401 + tRCD = 2418, data done at 2418 + CL + BL/2 = 2439,
  // i.e. 2439 x 833 = 2,031,687 ps = accelerator cycle 1015.84 -> 1016.
  EXPECT_EQ(m.serve(1000, contiguous(0, kBurstBits)), 16u);
  EXPECT_EQ(m.stats().row_misses, 1u);
  EXPECT_EQ(m.stats().activates, 1u);
  EXPECT_EQ(m.stats().busy_cycles, 16u);
}

TEST(Ddr4Memory, ClockDomainConversionAtAnOddClock) {
  Ddr4Memory m(ddr4_2400(), 700);
  // round(1e6 / 700) = 1429 ps. Cycle 1000 = 1,429,000 ps -> DRAM cycle
  // ceil(1,429,000 / 833) = 1716; ACT 1716, RD 1733, done 1754 = 1,461,082 ps
  // = accelerator cycle 1022.45 -> 1023.
  EXPECT_EQ(m.accelerator_period_ps(), 1429);
  EXPECT_EQ(m.serve(1000, contiguous(0, kBurstBits)), 23u);
}

TEST(Ddr4Memory, SequentialStreamReachesNearPeakWithRowHits) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  // Peak: 64 bits twice per tCK = 128 bits / 833 ps = 19.2 GB/s, i.e.
  // 128 x 2000 / 833 = 307.3 bits per accelerator cycle at 500 MHz.
  EXPECT_NEAR(m.peak_bits_per_accelerator_cycle(), 307.3, 0.05);
  const uint64_t bits = 8 * kMiB;
  const uint64_t cycles = m.serve(0, contiguous(0, bits));
  const double efficiency = rate(bits, cycles) / m.peak_bits_per_accelerator_cycle();
  // 90.6% with the shipped values. What is lost: refresh (tRFC 420 of every
  // tREFI 9360 tCK, 4.5%, plus reopening rows) and, since commands issue in
  // order, a bubble of tRCD (miss) or tRP + tRCD (conflict) each time the
  // stream enters a new row (two every 16 KiB).
  EXPECT_GT(efficiency, 0.88) << cycles << " cycles";
  EXPECT_LT(efficiency, 1.0);
  const DramStats& s = m.stats();
  EXPECT_EQ(s.bursts, bits / kBurstBits);
  const double hit_rate = static_cast<double>(s.row_hits) / static_cast<double>(s.bursts);
  EXPECT_GT(hit_rate, 0.98);
  // Each 8 KiB row is opened once (after 64 KiB the stream comes back to
  // bank 0 for its next row: a conflict, or a miss if a refresh closed the
  // bank), and the two rows being streamed are reopened after each refresh.
  const uint64_t rows = bits / 8 / 8192;
  EXPECT_GE(s.row_misses + s.row_conflicts, rows);
  EXPECT_LE(s.row_misses + s.row_conflicts, rows + 2 * s.refreshes);
  EXPECT_EQ(s.row_hits + s.row_misses + s.row_conflicts, s.bursts);
}

TEST(Ddr4Memory, SequentialWriteStreamIsFastToo) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  const uint64_t bits = 2 * kMiB;
  const uint64_t cycles = m.serve(0, contiguous(0, bits, /*write=*/true));
  EXPECT_GT(rate(bits, cycles) / m.peak_bits_per_accelerator_cycle(), 0.88);
  EXPECT_EQ(m.stats().write_bits, bits);
  EXPECT_EQ(m.stats().read_bits, 0u);
}

TEST(Ddr4Memory, RowConflictsInOneBankAreMuchSlower) {
  const uint64_t n = 1000;
  // One burst per row, every row in bank 0 of group 0 (64 KiB apart).
  DramAccess jumping;
  jumping.run_bits = kBurstBits;
  jumping.inner_count = n;
  jumping.inner_stride_bits = 1024 * kBurstBits;
  Ddr4Memory slow(ddr4_2400(), kClockMhz);
  const uint64_t slow_cycles = slow.serve(0, jumping);
  const DramStats& s = slow.stats();
  EXPECT_EQ(s.row_hits, 0u);
  // Every burst needs a new row: a conflict, except the first and those that
  // find their bank closed by a refresh.
  EXPECT_GE(s.row_misses, 1u);
  EXPECT_LE(s.row_misses, 1 + s.refreshes);
  EXPECT_EQ(s.row_misses + s.row_conflicts, n);
  // A refresh that falls due between a burst's ACT and its RD closes the row
  // (as in DRAMsim3), and the burst activates it again.
  EXPECT_GE(s.activates, n);
  EXPECT_LE(s.activates, n + s.refreshes);
  // Every ACT but the last row's was closed, by a PRE or by a refresh's PREA.
  EXPECT_EQ(s.precharges, s.activates - 1);

  Ddr4Memory fast(ddr4_2400(), kClockMhz);
  const uint64_t fast_cycles = fast.serve(0, contiguous(0, n * kBurstBits));
  // Each conflict costs a full row cycle, tRC = 56 tCK, against BL/2 = 4 tCK
  // per burst for the stream.
  EXPECT_GT(slow_cycles, 10 * fast_cycles);
  const double tck_per_burst = static_cast<double>(slow_cycles) * 2000 / 833 / n;
  const double refresh_tck_per_burst = static_cast<double>(s.refreshes) * 420 / n;
  EXPECT_GE(tck_per_burst, 56);
  EXPECT_LE(tck_per_burst, 56 + refresh_tck_per_burst + 1);
}

TEST(Ddr4Memory, RefreshEveryTrefiCostingTrfc) {
  const uint64_t bits = 16 * kMiB;
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  const uint64_t cycles = m.serve(0, contiguous(0, bits));
  const double elapsed_tck = static_cast<double>(cycles) * 2000 / 833;
  const auto expected = static_cast<uint64_t>(std::floor(elapsed_tck / 9360));
  EXPECT_GT(expected, 50u);
  EXPECT_NEAR(static_cast<double>(m.stats().refreshes), static_cast<double>(expected), 1.0);

  // The same stream without refresh (tREFI beyond the run). A refresh costs
  // its tRFC plus closing and reopening rows (tRP, tRCD), but it also leaves
  // every bank closed, which saves the stream the precharge (tRP) of the
  // conflict it would have met next in each of the 8 banks.
  frontend::Ddr4Config no_refresh = ddr4_2400();
  no_refresh.tREFI = 1 << 30;
  Ddr4Memory ideal(no_refresh, kClockMhz);
  const uint64_t ideal_cycles = ideal.serve(0, contiguous(0, bits));
  EXPECT_EQ(ideal.stats().refreshes, 0u);
  const double lost_tck = static_cast<double>(cycles - ideal_cycles) * 2000 / 833;
  const double per_refresh = lost_tck / static_cast<double>(m.stats().refreshes);
  EXPECT_GE(per_refresh, 420 - 8 * 17);
  EXPECT_LE(per_refresh, 420 + 17 + 2 * 17 + 20);
}

TEST(Ddr4Memory, RefreshDelaysTheTransferThatMeetsIt) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  const DramAccess burst = contiguous(0, kBurstBits);
  m.serve(1000, burst);  // leaves row 0 of bank 0 open
  // Cycle 3899 = 7,798,000 ps -> DRAM cycle ceil(7,798,000 / 833) = 9362, just
  // after the first refresh falls due (tREFI = 9360). Without the refresh the
  // burst would be a row hit: RD 9362, done 9383 = 7,816,039 ps -> cycle 3909.
  // With it: PREA at 9360 (when due; the channel is idle), REF at 9360 + tRP
  // = 9377, ACT at 9377 + tRFC = 9797, RD at 9814, done at 9814 + 21 = 9835
  // = 8,192,555 ps -> cycle 4097.
  EXPECT_EQ(m.serve(3899, burst), 4097u - 3899u);
  EXPECT_EQ(m.stats().refreshes, 1u);
  EXPECT_EQ(m.stats().row_hits, 0u);
  EXPECT_EQ(m.stats().row_misses, 2u);
  frontend::Ddr4Config no_refresh = ddr4_2400();
  no_refresh.tREFI = 1 << 30;
  Ddr4Memory ideal(no_refresh, kClockMhz);
  ideal.serve(1000, burst);
  EXPECT_EQ(ideal.serve(3899, burst), 3909u - 3899u);
}

TEST(Ddr4Memory, RefreshesFallingDueWhileIdleAreCountedAndHidden) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  const DramAccess burst = contiguous(0, kBurstBits);
  m.serve(0, burst);
  // 100 ms later: 12,000,000+ tCK of idle, ~12,800 refreshes, none of which
  // delays a transfer that arrives well after the last one ended.
  const uint64_t later = 50'000'000;  // accelerator cycles = 100 ms
  const uint64_t d = m.serve(later + 7, burst);
  const double idle_tck = static_cast<double>(later + 7) * 2000 / 833;
  EXPECT_NEAR(static_cast<double>(m.stats().refreshes), std::floor(idle_tck / 9360), 1.0);
  Ddr4Memory fresh(ddr4_2400(), kClockMhz);
  EXPECT_LE(d, fresh.serve(1000, burst) + 1);
}

TEST(Ddr4Memory, PartialBurstsOverFetch) {
  {
    Ddr4Memory m(ddr4_2400(), kClockMhz);
    m.serve(0, contiguous(0, 100));
    EXPECT_EQ(m.stats().bursts, 1u);
    EXPECT_EQ(m.stats().burst_bytes, 64u);
    EXPECT_EQ(m.stats().read_bits, 100u);  // energy per bit is charged on these
  }
  {
    Ddr4Memory m(ddr4_2400(), kClockMhz);
    m.serve(0, contiguous(480, 100));  // straddles a burst boundary
    EXPECT_EQ(m.stats().bursts, 2u);
    EXPECT_EQ(m.stats().burst_bytes, 128u);
  }
  {
    // Narrow runs one after another share bursts: 32 runs of 16 bits every
    // 32 bits span 1024 bits = 2 bursts.
    Ddr4Memory m(ddr4_2400(), kClockMhz);
    DramAccess a;
    a.run_bits = 16;
    a.inner_count = 32;
    a.inner_stride_bits = 32;
    m.serve(0, a);
    EXPECT_EQ(m.stats().bursts, 2u);
    EXPECT_EQ(m.stats().read_bits, 512u);
  }
  {
    // Runs a burst and more apart do not: 4 x 3 runs of 100 bits, each in its own burst.
    Ddr4Memory m(ddr4_2400(), kClockMhz);
    DramAccess a;
    a.write = true;
    a.run_bits = 100;
    a.inner_count = 3;
    a.inner_stride_bits = 1024;
    a.outer_count = 4;
    a.outer_stride_bits = 200 * kBurstBits;
    m.serve(0, a);
    EXPECT_EQ(m.stats().bursts, 12u);
    EXPECT_EQ(m.stats().burst_bytes, 12u * 64);
    EXPECT_EQ(m.stats().write_bits, 1200u);
  }
}

TEST(Ddr4Memory, ContiguousLoopsCostTheSameAsOneRun) {
  Ddr4Memory folded(ddr4_2400(), kClockMhz);
  DramAccess a;
  a.run_bits = 96;
  a.inner_count = 64;
  a.inner_stride_bits = 96;
  a.outer_count = 10;
  a.outer_stride_bits = 96 * 64;
  Ddr4Memory plain(ddr4_2400(), kClockMhz);
  EXPECT_EQ(folded.serve(10, a), plain.serve(10, contiguous(0, 96 * 64 * 10)));
  EXPECT_EQ(folded.stats().bursts, plain.stats().bursts);
}

std::vector<DramAccess> mixed_traffic() {
  std::vector<DramAccess> v;
  v.push_back(contiguous(0, 4 * kMiB));
  v.push_back(contiguous(123456, 77777, true));
  DramAccess strided;
  strided.run_bits = 300;
  strided.inner_count = 50;
  strided.inner_stride_bits = 3 * 1024 * kBurstBits + 8;
  strided.outer_count = 7;
  strided.outer_stride_bits = 999 * kBurstBits;
  v.push_back(strided);
  v.push_back(contiguous(1ull << 33, kMiB, true));
  v.push_back(contiguous(5, 1));
  return v;
}

TEST(Ddr4Memory, Deterministic) {
  for (frontend::PagePolicy policy : {frontend::PagePolicy::kOpen, frontend::PagePolicy::kClosed}) {
    frontend::Ddr4Config d = ddr4_2400();
    d.page_policy = policy;
    Ddr4Memory a(d, kClockMhz), b(d, kClockMhz);
    uint64_t ta = 3, tb = 3;
    for (const DramAccess& x : mixed_traffic()) {
      const uint64_t da = a.serve(ta, x), db = b.serve(tb, x);
      EXPECT_EQ(da, db);
      ta += da + 17;
      tb += db + 17;
    }
    const DramStats &sa = a.stats(), &sb = b.stats();
    EXPECT_EQ(sa.busy_cycles, sb.busy_cycles);
    EXPECT_EQ(sa.bursts, sb.bursts);
    EXPECT_EQ(sa.activates, sb.activates);
    EXPECT_EQ(sa.precharges, sb.precharges);
    EXPECT_EQ(sa.row_hits, sb.row_hits);
    EXPECT_EQ(sa.row_conflicts, sb.row_conflicts);
    EXPECT_EQ(sa.refreshes, sb.refreshes);
    EXPECT_EQ(sa.current_energy_pj, sb.current_energy_pj);  // exactly
  }
}

TEST(Ddr4Memory, EnergyOfOneReadByHand) {
  const frontend::Ddr4Config d = ddr4_2400();
  Ddr4Memory m(d, kClockMhz);
  m.serve(1000, contiguous(0, kBurstBits));
  // V x mA x ns = pJ, for each of the 4 devices. One ACT-PRE pair, one read
  // burst, and the 38 tCK from arrival (2401) to the last data (2439) with a
  // bank open (active standby).
  const double scale = d.VDD * d.tck_ns * 4;
  const double act = scale * (d.IDD0 * (d.tRAS + d.tRP) - (d.IDD3N * d.tRAS + d.IDD2N * d.tRP));
  const double read = scale * (d.IDD4R - d.IDD3N) * 4;
  const double background = scale * d.IDD3N * 38;
  EXPECT_NEAR(m.stats().current_energy_pj, act + read + background, 1e-6);
}

TEST(Ddr4Memory, EnergyIsPositiveAndGrowsWithTraffic) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  EXPECT_EQ(m.stats().current_energy_pj, 0.0);
  uint64_t t = 0;
  double previous = 0;
  for (const DramAccess& x : mixed_traffic()) {
    t += m.serve(t, x);
    EXPECT_GT(m.stats().current_energy_pj, previous);
    previous = m.stats().current_energy_pj;
  }
  // A long stream is dominated by the read bursts: per bit, somewhere between
  // the burst current alone and a few times it.
  Ddr4Memory s(ddr4_2400(), kClockMhz);
  s.serve(0, contiguous(0, 8 * kMiB));
  const double pj_per_bit = s.stats().current_energy_pj / static_cast<double>(8 * kMiB);
  const double burst_only = 1.2 * 0.833 * 4 * (243 - 47) * 4 / 512.0;  // 6.1 pJ/bit
  EXPECT_GT(pj_per_bit, burst_only);
  EXPECT_LT(pj_per_bit, 3 * burst_only);
}

// Each burst is one access: ACT, then RD or WR with auto-precharge.
TEST(Ddr4Memory, ClosedPagePrechargesAfterEveryAccess) {
  frontend::Ddr4Config d = ddr4_2400();
  d.page_policy = frontend::PagePolicy::kClosed;
  Ddr4Memory closed(d, kClockMhz);
  const uint64_t bits = kMiB / 4;
  const uint64_t closed_cycles = closed.serve(0, contiguous(0, bits));
  const DramStats& s = closed.stats();
  EXPECT_EQ(s.row_hits, 0u);
  EXPECT_EQ(s.row_conflicts, 0u);
  EXPECT_EQ(s.row_misses, s.bursts);
  // Every burst activates its row (once more if a refresh closed it before
  // the read), and every activated row is closed again.
  EXPECT_GE(s.activates, s.bursts);
  EXPECT_LE(s.activates, s.bursts + 8 * s.refreshes);
  EXPECT_EQ(s.precharges, s.activates);
  Ddr4Memory open(ddr4_2400(), kClockMhz);
  EXPECT_GT(closed_cycles, 2 * open.serve(0, contiguous(0, bits)));
}

TEST(Ddr4Memory, ClosedPageAvoidsConflictLatency) {
  // A single burst to a row other than the open one: the open page pays
  // PRE + ACT, the closed page only ACT (the bank was closed by auto-precharge).
  frontend::Ddr4Config d = ddr4_2400();
  d.page_policy = frontend::PagePolicy::kClosed;
  Ddr4Memory closed(d, kClockMhz), open(ddr4_2400(), kClockMhz);
  const DramAccess first = contiguous(0, kBurstBits);
  const DramAccess other_row = contiguous(1024 * kBurstBits, kBurstBits);
  closed.serve(0, first);
  open.serve(0, first);
  const uint64_t c = closed.serve(1000, other_row);
  const uint64_t o = open.serve(1000, other_row);
  EXPECT_EQ(open.stats().row_conflicts, 1u);
  EXPECT_LT(c, o);
}

TEST(Ddr4Memory, ATransferArrivingEarlyQueuesBehindTheLastOne) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  const DramAccess a = contiguous(0, 64 * kBurstBits);
  const DramAccess b = contiguous(64 * kBurstBits, 64 * kBurstBits);
  const uint64_t first = m.serve(0, a);
  // Arrives before the first is done: its bursts follow the first's on the
  // data bus (its wait is part of its duration), but its row commands and
  // reads overlap the first's tail instead of waiting for its last data.
  const uint64_t second = m.serve(0, b);
  Ddr4Memory n(ddr4_2400(), kClockMhz);
  n.serve(0, a);
  const uint64_t serial = first + n.serve(first, b);
  EXPECT_GT(second, first + 64 * 4 * 833 / 2000);  // 64 more bursts of 4 tCK
  EXPECT_LT(second, serial);
  EXPECT_EQ(m.stats().transfers, 2u);
  EXPECT_EQ(m.stats().busy_cycles, second);  // the union of the two busy spans
}

// Isolated reads, in tCK from arrival to the last data. DRAMsim3
// (DDR4_8Gb_x16_2400, same mapping) gives 39 / 22 / 56 tCK: one cycle more
// each, its controller's cycle from the transaction to the command queue.
TEST(Ddr4Memory, IsolatedReadLatencies) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  const DramCycle arrival = 2401;  // accelerator cycle 1000 = 2,000,000 ps
  m.serve(1000, contiguous(0, kBurstBits));
  EXPECT_EQ(m.drain() - arrival, 17 + 17 + 4);  // closed bank: tRCD + CL + BL/2 = 31.7 ns
  m.serve(2000, contiguous(2 * kBurstBits, kBurstBits));
  EXPECT_EQ(m.drain() - 4802, 17 + 4);                       // row hit: CL + BL/2 = 17.5 ns
  m.serve(3000, contiguous(1024 * kBurstBits, kBurstBits));  // bank 0, row 1
  EXPECT_EQ(m.drain() - 7203, 17 + 17 + 17 + 4);  // conflict: tRP + tRCD + CL + BL/2 = 45.8 ns
  EXPECT_EQ(m.stats().row_misses, 1u);
  EXPECT_EQ(m.stats().row_hits, 1u);
  EXPECT_EQ(m.stats().row_conflicts, 1u);
}

TEST(Ddr4Memory, WritesArePostedAndReadBackFromTheBuffer) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  // A long read keeps the channel busy (bank 1 of both groups).
  const uint64_t read = m.serve(1000, contiguous(256 * kBurstBits, 256 * kBurstBits));
  const uint64_t acts = m.stats().activates;
  // 16 bursts fit the write buffer. Bursts enter the controller in issue
  // order, so they enter once the read's have; the transfer is then complete
  // as soon as their data has crossed to the controller (16 x 4 tCK), before
  // any reaches the DRAM, and before the read's last data.
  const uint64_t d = m.serve(1000, contiguous(0, 16 * kBurstBits, true));
  EXPECT_LT(d, read);
  EXPECT_EQ(m.stats().activates, acts);
  // Reading them back while the channel is busy needs no DRAM command.
  m.serve(1000 + d, contiguous(0, 16 * kBurstBits));
  EXPECT_EQ(m.stats().activates, acts);
  EXPECT_EQ(m.stats().bursts, 256u + 32u);
  // Draining writes them: bank 0 of both groups, 8 writes each.
  m.drain();
  EXPECT_EQ(m.stats().activates, acts + 2);
}

TEST(Ddr4Memory, PostedWritesDrainWhenTheChannelFallsIdle) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  m.serve(1000, contiguous(0, 16 * kBurstBits, true));
  EXPECT_EQ(m.stats().activates, 0u);
  // The next transfer finds the channel idle: the writes go first, from the
  // time their data arrived, so they are mostly done before it arrives.
  const uint64_t later = m.serve(1100, contiguous(0, 16 * kBurstBits));
  EXPECT_EQ(m.stats().activates, 2u);
  EXPECT_EQ(m.stats().row_hits + m.stats().row_misses, 32u);
  Ddr4Memory fresh(ddr4_2400(), kClockMhz);
  fresh.serve(1000, contiguous(1u << 30, kBurstBits));
  EXPECT_LT(later, 2 * fresh.serve(1100, contiguous(0, 16 * kBurstBits)));
}

TEST(Ddr4Memory, EmptyAccessTakesNoTime) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  EXPECT_EQ(m.serve(10, contiguous(0, 0)), 0u);
  EXPECT_EQ(m.stats().transfers, 0u);
  EXPECT_EQ(m.stats().current_energy_pj, 0.0);
}

TEST(Ddr4Memory, RejectsImpossibleDevices) {
  frontend::Ddr4Config d = ddr4_2400();
  d.columns = 1020;  // not a whole number of bursts per row
  EXPECT_THROW(Ddr4Memory(d, kClockMhz), InputError);
  d = ddr4_2400();
  d.channel_width_bits = 72;  // not a whole number of x16 devices
  EXPECT_THROW(Ddr4Memory(d, kClockMhz), InputError);
  frontend::PagePolicy policy;
  EXPECT_FALSE(frontend::parse("adaptive", policy));  // no such page policy to configure
  EXPECT_THROW(Ddr4Memory(ddr4_2400(), 0), InputError);
}

TEST(Ddr4Memory, DescribeNamesTheDevice) {
  Ddr4Memory m(ddr4_2400(), kClockMhz);
  const std::string s = m.describe();
  EXPECT_NE(s.find("ddr4"), std::string::npos);
  EXPECT_NE(s.find("833 ps"), std::string::npos);
  EXPECT_NE(s.find("row:bank:column:bankgroup"), std::string::npos);
  EXPECT_NE(s.find("open page"), std::string::npos);
}

TEST(MakeOffchipMemory, PicksTheModel) {
  frontend::OffchipConfig c;
  c.bits_per_cycle = 192;
  c.latency_cycles = 14;
  c.ddr4 = ddr4_2400();
  c.model = frontend::OffchipModel::kBandwidth;
  auto bw = make_offchip_memory(c, kClockMhz);
  EXPECT_NE(bw->describe().find("bandwidth"), std::string::npos);
  EXPECT_EQ(bw->serve(1000, contiguous(0, kBurstBits)), 14u + 3u);
  EXPECT_EQ(bw->stats().bursts, 0u);

  c.model = frontend::OffchipModel::kDdr4;
  auto ddr = make_offchip_memory(c, kClockMhz);
  EXPECT_NE(ddr->describe().find("ddr4"), std::string::npos);
  EXPECT_EQ(ddr->serve(1000, contiguous(0, kBurstBits)), 16u);  // as computed above
  EXPECT_EQ(ddr->stats().bursts, 1u);

  frontend::OffchipModel hbm;
  EXPECT_FALSE(frontend::parse("hbm", hbm));  // no such model to configure
}

TEST(MakeOffchipMemory, AcceptsTheShippedConfigsWithEitherModel) {
  for (const char* file : {"bitfusion.yaml"}) {
    const frontend::HwConfig hw =
        frontend::load_hw_config(std::string(PALSIM_SOURCE_DIR) + "/configs/" + file);
    for (frontend::OffchipModel model :
         {frontend::OffchipModel::kBandwidth, frontend::OffchipModel::kDdr4}) {
      for (frontend::PagePolicy policy :
           {frontend::PagePolicy::kOpen, frontend::PagePolicy::kClosed}) {
        frontend::OffchipConfig c = hw.offchip;
        c.model = model;
        c.ddr4.page_policy = policy;
        std::unique_ptr<OffchipMemory> m;
        ASSERT_NO_THROW(m = make_offchip_memory(c, hw.clock_mhz))
            << file << " " << to_string(model);
        EXPECT_GT(m->serve(0, contiguous(0, kMiB)), 0u);
      }
    }
  }
}

}  // namespace
}  // namespace palsim::sim
