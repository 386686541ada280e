// The DDR4 model against DRAMsim3 on synthetic streams (docs/ddr4_validation.md):
// each stream is 131,072 bursts of 64 B posted at cycle 0, served by one
// DDR4-2400 rank (DRAMsim3 DDR4_8Gb_x16_2400 timings, palsim's mapping);
// the figure is the data-bus utilisation, % of peak, until the last burst
// (posted writes included) has crossed the bus.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "sim/memory/ddr4_memory.h"
#include "sim/memory/ddr4_timing.h"

namespace palsim::sim {
namespace {

constexpr uint64_t kStreamBursts = 131072;
constexpr uint64_t kBurstBytes = 64;
constexpr uint64_t kBurstBits = kBurstBytes * 8;

frontend::Ddr4Config ddr4_2400(frontend::PagePolicy page_policy) {
  frontend::Ddr4Config d;  // the defaults are DRAMsim3's DDR4_8Gb_x16_2400 (configs/*.yaml)
  d.page_policy = page_policy;
  return d;
}

DramAccess run(uint64_t byte, uint64_t bursts, bool write) {
  DramAccess a;
  a.write = write;
  a.base_bit = byte * 8;
  a.run_bits = bursts * kBurstBits;
  return a;
}

DramAccess strided(uint64_t stride_bytes, uint64_t count) {
  DramAccess a;
  a.run_bits = kBurstBits;
  a.inner_count = static_cast<uint32_t>(count);
  a.inner_stride_bits = stride_bytes * 8;
  return a;
}

// The three-stream patterns: A and B read, C written, the arrays 1 MiB apart
// (so the same bank, different rows: they conflict).
constexpr uint64_t kBase[3] = {0, 1u << 20, 2u << 20};

std::vector<DramAccess> stream(int id, uint64_t bursts) {
  std::vector<DramAccess> v;
  switch (id) {
    case 0:
    case 7:
      v.push_back(strided(64, bursts));
      break;
    case 1:
      v.push_back(strided(1024, bursts));
      break;
    case 2:
    case 8:
      v.push_back(strided(4096, bursts));
      break;
    case 3:
      v.push_back(strided(8192, bursts));
      break;
    case 4: {
      std::mt19937_64 rng(19);
      for (uint64_t i = 0; i < bursts; ++i) v.push_back(run((rng() % (1ull << 26)) * 64, 1, false));
      break;
    }
    case 5: {
      uint64_t n = 0;
      for (uint64_t c = 0; n < bursts; c += 16) {
        for (int s = 0; s < 3 && n < bursts; ++s) {
          const uint64_t k = std::min<uint64_t>(16, bursts - n);
          v.push_back(run(kBase[s] + c * kBurstBytes, k, s == 2));
          n += k;
        }
      }
      break;
    }
    case 6: {
      // A_i, B_i, C_i for i = 0, 1, ... until 131,072 bursts (the last C
      // falls off). A DMA transfer reads or writes, so the interleave is
      // given as one read transfer alternating A and B burst by burst over
      // 16 steps (32 bursts: the queue depth), then the 16 C writes.
      const uint64_t pairs = (bursts + 1) / 3, writes = bursts / 3;  // bursts % 3 != 1
      for (uint64_t i = 0; i < pairs; i += 16) {
        DramAccess r;
        r.base_bit = (kBase[0] + i * kBurstBytes) * 8;
        r.run_bits = kBurstBits;
        r.inner_count = 2;
        r.inner_stride_bits = (kBase[1] - kBase[0]) * 8;
        r.outer_count = static_cast<uint32_t>(std::min<uint64_t>(16, pairs - i));
        r.outer_stride_bits = kBurstBits;
        v.push_back(r);
        if (i < writes)
          v.push_back(run(kBase[2] + i * kBurstBytes, std::min<uint64_t>(16, writes - i), true));
      }
      break;
    }
    case 9: {  // the same, one burst per transfer
      uint64_t n = 0;
      for (uint64_t i = 0; n < bursts; ++i) {
        for (int s = 0; s < 3 && n < bursts; ++s, ++n) {
          v.push_back(run(kBase[s] + i * kBurstBytes, 1, s == 2));
        }
      }
      break;
    }
  }
  return v;
}

bool closed_page(int id) {
  return id == 7 || id == 8;
}

struct Result {
  double percent;
  DramStats stats;
};

Result measure(int id) {
  Ddr4Memory m(
      ddr4_2400(closed_page(id) ? frontend::PagePolicy::kClosed : frontend::PagePolicy::kOpen),
      500);
  for (const DramAccess& a : stream(id, kStreamBursts)) m.serve(0, a);
  const DramCycle end = m.drain();
  return {100.0 * static_cast<double>(m.stats().bursts) * m.timing().burst_cycles /
              static_cast<double>(end),
          m.stats()};
}

// Golden figures: palsim's own (kept to +-0.5 percentage points, so that a
// model change is noticed) and DRAMsim3's, measured as described in
// docs/ddr4_validation.md (palsim must stay within 10% of it).
struct Pattern {
  const char* name;
  double palsim;
  double dramsim3;  // 0: no DRAMsim3 figure (palsim-only form of a stream)
};
constexpr Pattern kPatterns[] = {
    {"sequential read", 95.14, 94.50},
    {"stride 1 KB", 63.39, 63.38},
    {"stride 4 KB", 63.33, 63.28},
    {"stride 8 KB", 54.26, 54.23},
    {"random reads", 39.63, 41.86},
    {"3 streams (R, R, W) in 1 KB chunks", 65.32, 66.26},
    {"3 streams interleaved per burst", 68.20, 68.99},
    {"closed page, sequential", 42.21, 41.67},
    {"closed page, one bank, stride 4 KB", 6.81, 6.82},
    {"3 streams interleaved per burst, one-burst transfers", 18.66, 0},
};

void check_pattern(int id) {
  const Pattern& p = kPatterns[id];
  const Result r = measure(id);
  const DramStats& s = r.stats;
  std::printf("%-52s palsim %6.2f %%  DRAMsim3 %6.2f %%  row hits %.4f  ACT %llu  REF %llu\n",
              p.name, r.percent, p.dramsim3,
              static_cast<double>(s.row_hits) /
                  static_cast<double>(s.row_hits + s.row_misses + s.row_conflicts),
              static_cast<unsigned long long>(s.activates),
              static_cast<unsigned long long>(s.refreshes));
  EXPECT_EQ(s.bursts, kStreamBursts);
  EXPECT_EQ(s.row_hits + s.row_misses + s.row_conflicts, s.bursts);
  EXPECT_NEAR(r.percent, p.palsim, 0.5);
  if (p.dramsim3 > 0) {
    EXPECT_NEAR(r.percent / p.dramsim3, 1.0, 0.10);
  }
}

TEST(Ddr4Streams, SequentialRead) {
  check_pattern(0);
}
TEST(Ddr4Streams, Stride1KiB) {
  check_pattern(1);
}
TEST(Ddr4Streams, Stride4KiB) {
  check_pattern(2);
}
TEST(Ddr4Streams, Stride8KiB) {
  check_pattern(3);
}
TEST(Ddr4Streams, RandomReads) {
  check_pattern(4);
}
TEST(Ddr4Streams, ThreeStreamsIn1KiBChunks) {
  check_pattern(5);
}
TEST(Ddr4Streams, ThreeStreamsInterleavedPerBurst) {
  check_pattern(6);
}
TEST(Ddr4Streams, ClosedPageSequential) {
  check_pattern(7);
}
TEST(Ddr4Streams, ClosedPageOneBankStride4KiB) {
  check_pattern(8);
}
// The model reorders within a transfer: one-burst transfers leave it nothing
// to reorder, and two conflicting streams pay a row cycle per burst
// (DRAMsim3's 32-entry queue sees 32 of them at once: 68.99 %).
TEST(Ddr4Streams, ThreeStreamsInOneBurstTransfers) {
  check_pattern(9);
}

}  // namespace
}  // namespace palsim::sim

namespace palsim::sim {
namespace {

// Every command the scheduler placed, replayed in cycle order through the
// in-order timing checker, is legal.
void expect_legal_schedule(int id) {
  Ddr4Memory m(
      ddr4_2400(closed_page(id) ? frontend::PagePolicy::kClosed : frontend::PagePolicy::kOpen),
      500);
  m.record_commands(true);
  // Long enough to cross refreshes, row changes and write drains.
  for (const DramAccess& a : stream(id, 24576)) m.serve(0, a);
  m.drain();
  std::vector<Ddr4Memory::PlacedCommand> cmds = m.placed_commands();
  std::stable_sort(cmds.begin(), cmds.end(),
                   [](const auto& a, const auto& b) { return a.cycle < b.cycle; });
  Ddr4TimingChecker checker(m.timing(), 2, 4);
  DramCycle bus = -1;
  for (const auto& c : cmds) {
    const bool internal = closed_page(id) && c.command == DramCommand::kPre;
    if (!internal) {
      ASSERT_GT(c.cycle, bus) << "two commands on the bus at once: " << to_string(c.command)
                              << " at " << c.cycle;
      bus = c.cycle;
    }
    ASSERT_NO_THROW(checker.issue(c.command, c.bank, c.row, c.cycle))
        << to_string(c.command) << " bank " << c.bank << " cycle " << c.cycle;
  }
}

TEST(Ddr4Streams, EveryScheduleIsLegal) {
  for (int id = 0; id < 10; ++id) {
    SCOPED_TRACE(id);
    expect_legal_schedule(id);
  }
}

}  // namespace
}  // namespace palsim::sim
