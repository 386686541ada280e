// DDR4 timing checker, in the manner of Ramulator 2's tests/device_timings:
// for each constraint, set up the commands it relates, then check that the
// constrained command is illegal one cycle before the constraint is met and
// legal on that cycle. Values: DRAMsim3 configs/DDR4_8Gb_x16_2400.ini.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "sim/memory/ddr4_timing.h"

namespace palsim::sim {
namespace {

using C = DramCommand;

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
  d.page_policy = frontend::PagePolicy::kOpen;
  return d;
}

class Ddr4TimingTest : public ::testing::Test {
 protected:
  Ddr4TimingTest() : checker_(Ddr4Timing::from_config(ddr4_2400()), 2, 4) {}

  // Banks 0-3 are bank group 0, banks 4-7 bank group 1.
  static constexpr int kB0 = 0, kB1 = 1, kB2 = 2, kB3 = 3;  // group 0
  static constexpr int kB4 = 4, kB5 = 5;                    // group 1
  static constexpr int64_t kRow = 42;

  // `command` is illegal at n - 1 and legal at n.
  void expect_first_legal(C command, int bank, DramCycle n, int64_t row = kRow) {
    SCOPED_TRACE(::testing::Message() << to_string(command) << " bank " << bank);
    EXPECT_EQ(checker_.earliest_legal_cycle(command, bank, row), n);
    EXPECT_FALSE(checker_.can_issue(command, bank, row, n - 1));
    EXPECT_TRUE(checker_.can_issue(command, bank, row, n));
  }

  Ddr4TimingChecker checker_;
};

TEST(Ddr4Timing, DerivedGaps) {
  const Ddr4Timing t = Ddr4Timing::from_config(ddr4_2400());
  EXPECT_EQ(t.burst_cycles, 4);
  EXPECT_EQ(t.act_to_act_same_bank, 56);  // tRC = tRAS + tRP
  EXPECT_EQ(t.rd_to_rd_s, 4);             // max(BL/2, tCCD_S)
  EXPECT_EQ(t.rd_to_rd_l, 6);
  EXPECT_EQ(t.rd_to_wr, 11);    // CL + BL/2 + 2 - CWL = 17 + 4 + 2 - 12
  EXPECT_EQ(t.wr_to_rd_s, 19);  // CWL + BL/2 + tWTR_S
  EXPECT_EQ(t.wr_to_rd_l, 25);
  EXPECT_EQ(t.wr_to_pre, 34);  // CWL + BL/2 + tWR
}

TEST(Ddr4Timing, RejectsInconsistentParameters) {
  frontend::Ddr4Config d = ddr4_2400();
  d.burst_length = 7;
  EXPECT_THROW(Ddr4Timing::from_config(d), InputError);
  d = ddr4_2400();
  d.tREFI = d.tRFC;
  EXPECT_THROW(Ddr4Timing::from_config(d), InputError);
  d = ddr4_2400();
  d.tCCD_L = 0;
  EXPECT_THROW(Ddr4Timing::from_config(d), InputError);
  d = ddr4_2400();
  d.tRRD_L = d.tRRD_S - 1;  // a same-group gap shorter than the cross-group one
  EXPECT_THROW(Ddr4Timing::from_config(d), InputError);
  EXPECT_NO_THROW(Ddr4Timing::from_config(ddr4_2400()));
}

TEST_F(Ddr4TimingTest, FreshDeviceAllowsAnActivateAtZero) {
  expect_first_legal(C::kAct, kB0, 0);
}

TEST_F(Ddr4TimingTest, tRCD_ActivateToRead) {
  checker_.issue(C::kAct, kB0, kRow, 10);
  expect_first_legal(C::kRd, kB0, 10 + 17);
  expect_first_legal(C::kWr, kB0, 10 + 17);
}

TEST_F(Ddr4TimingTest, tRAS_ActivateToPrecharge) {
  checker_.issue(C::kAct, kB0, kRow, 10);
  expect_first_legal(C::kPre, kB0, 10 + 39);
}

TEST_F(Ddr4TimingTest, tRP_PrechargeToActivate) {
  checker_.issue(C::kAct, kB0, kRow, 0);
  checker_.issue(C::kPre, kB0, kRow, 100);  // late, so tRC is long met
  expect_first_legal(C::kAct, kB0, 100 + 17);
}

TEST_F(Ddr4TimingTest, tRC_ActivateToActivateSameBank) {
  checker_.issue(C::kAct, kB0, kRow, 0);
  checker_.issue(C::kPre, kB0, kRow, 39);
  expect_first_legal(C::kAct, kB0, 56, kRow + 1);
}

TEST_F(Ddr4TimingTest, tRRD_S_ActivateOtherBankGroup) {
  checker_.issue(C::kAct, kB0, kRow, 0);
  expect_first_legal(C::kAct, kB4, 7);
}

TEST_F(Ddr4TimingTest, tRRD_L_ActivateSameBankGroup) {
  checker_.issue(C::kAct, kB0, kRow, 0);
  expect_first_legal(C::kAct, kB1, 8);
}

class Ddr4ColumnTest : public Ddr4TimingTest {
 protected:
  // Rows open in bank 0 and 1 (group 0) and bank 4 (group 1), long enough
  // ago that tRCD is met by cycle 40.
  Ddr4ColumnTest() {
    checker_.issue(C::kAct, kB0, kRow, 0);
    checker_.issue(C::kAct, kB4, kRow, 7);
    checker_.issue(C::kAct, kB1, kRow, 15);
  }
};

TEST_F(Ddr4ColumnTest, tCCD_S_ReadToReadOtherBankGroup) {
  checker_.issue(C::kRd, kB0, kRow, 40);
  expect_first_legal(C::kRd, kB4, 40 + 4);
}

TEST_F(Ddr4ColumnTest, tCCD_L_ReadToReadSameBankGroup) {
  checker_.issue(C::kRd, kB0, kRow, 40);
  expect_first_legal(C::kRd, kB1, 40 + 6);
  expect_first_legal(C::kRd, kB0, 40 + 6);
}

TEST_F(Ddr4ColumnTest, tCCD_WriteToWrite) {
  checker_.issue(C::kWr, kB0, kRow, 40);
  expect_first_legal(C::kWr, kB4, 40 + 4);
  expect_first_legal(C::kWr, kB1, 40 + 6);
}

TEST_F(Ddr4ColumnTest, tWTR_S_WriteToReadOtherBankGroup) {
  checker_.issue(C::kWr, kB0, kRow, 40);
  expect_first_legal(C::kRd, kB4, 40 + 12 + 4 + 3);  // CWL + BL/2 + tWTR_S
}

TEST_F(Ddr4ColumnTest, tWTR_L_WriteToReadSameBankGroup) {
  checker_.issue(C::kWr, kB0, kRow, 40);
  expect_first_legal(C::kRd, kB1, 40 + 12 + 4 + 9);  // CWL + BL/2 + tWTR_L
  expect_first_legal(C::kRd, kB0, 40 + 12 + 4 + 9);
}

TEST_F(Ddr4ColumnTest, ReadToWriteTurnaround) {
  checker_.issue(C::kRd, kB0, kRow, 40);
  expect_first_legal(C::kWr, kB4, 40 + 17 + 4 + 2 - 12);  // CL + BL/2 + 2 - CWL
  expect_first_legal(C::kWr, kB0, 40 + 11);
}

TEST_F(Ddr4TimingTest, tRTP_ReadToPrecharge) {
  checker_.issue(C::kAct, kB0, kRow, 0);
  checker_.issue(C::kRd, kB0, kRow, 50);  // late, so tRAS is met before tRTP
  expect_first_legal(C::kPre, kB0, 50 + 9);
}

TEST_F(Ddr4TimingTest, tWR_WriteRecoveryBeforePrecharge) {
  checker_.issue(C::kAct, kB0, kRow, 0);
  checker_.issue(C::kWr, kB0, kRow, 50);
  expect_first_legal(C::kPre, kB0, 50 + 12 + 4 + 18);  // CWL + BL/2 + tWR
}

TEST_F(Ddr4TimingTest, tFAW_FifthActivateWaitsForTheWindow) {
  // Four ACTs as fast as tRRD allows: 0, 7, 14, 21.
  checker_.issue(C::kAct, kB0, kRow, 0);
  checker_.issue(C::kAct, kB4, kRow, 7);
  checker_.issue(C::kAct, kB1, kRow, 14);
  checker_.issue(C::kAct, kB5, kRow, 21);
  // tRRD alone would allow the fifth at max(14 + 8, 21 + 7) = 28; tFAW says 0 + 36.
  expect_first_legal(C::kAct, kB2, 36);
}

TEST_F(Ddr4TimingTest, tRFC_RefreshToActivate) {
  checker_.issue(C::kRef, 0, 0, 100);
  expect_first_legal(C::kAct, kB3, 100 + 420);
  expect_first_legal(C::kRef, 0, 100 + 420);
}

TEST_F(Ddr4TimingTest, tRP_PrechargeToRefresh) {
  checker_.issue(C::kAct, kB0, kRow, 0);
  checker_.issue(C::kPre, kB0, kRow, 39);
  expect_first_legal(C::kRef, 0, 39 + 17);
}

TEST_F(Ddr4TimingTest, PrechargeAllWaitsForEveryOpenBank) {
  checker_.issue(C::kAct, kB0, kRow, 0);
  checker_.issue(C::kAct, kB4, kRow, 7);
  expect_first_legal(C::kPrea, 0, 7 + 39);  // tRAS of the later ACT
  checker_.issue(C::kPrea, 0, 0, 46);
  EXPECT_EQ(checker_.open_banks(), 0);
  expect_first_legal(C::kRef, 0, 46 + 17);
  expect_first_legal(C::kAct, kB0, 46 + 17);
}

TEST_F(Ddr4TimingTest, BankStateMachine) {
  EXPECT_EQ(checker_.open_row(kB0), Ddr4TimingChecker::kClosed);
  checker_.issue(C::kAct, kB0, kRow, 0);
  EXPECT_EQ(checker_.open_row(kB0), kRow);
  EXPECT_EQ(checker_.open_banks(), 1);
  // Illegal in this state, whatever the cycle.
  EXPECT_THROW(checker_.earliest_legal_cycle(C::kAct, kB0, kRow), InternalError);  // already open
  EXPECT_THROW(checker_.earliest_legal_cycle(C::kRd, kB0, kRow + 1), InternalError);  // other row
  EXPECT_THROW(checker_.earliest_legal_cycle(C::kRd, kB1, kRow), InternalError);      // closed bank
  EXPECT_THROW(checker_.earliest_legal_cycle(C::kPre, kB1, kRow), InternalError);     // closed bank
  EXPECT_THROW(checker_.earliest_legal_cycle(C::kRef, 0, 0), InternalError);          // bank open
  EXPECT_FALSE(checker_.can_issue(C::kRd, kB0, kRow + 1, 1000));
  checker_.issue(C::kPre, kB0, kRow, 39);
  EXPECT_EQ(checker_.open_row(kB0), Ddr4TimingChecker::kClosed);
  EXPECT_EQ(checker_.open_banks(), 0);
}

TEST_F(Ddr4TimingTest, IssuingTooEarlyThrows) {
  checker_.issue(C::kAct, kB0, kRow, 0);
  EXPECT_THROW(checker_.issue(C::kRd, kB0, kRow, 16), InternalError);
  EXPECT_NO_THROW(checker_.issue(C::kRd, kB0, kRow, 17));
}

TEST(Ddr4Timing, AutoPrechargeIssuedOutOfOrderStillGatesItsBank) {
  // The closed-page policy issues a bank's precharge (auto-precharge) at a
  // later cycle than commands that follow it on the bus.
  Ddr4TimingChecker checker(Ddr4Timing::from_config(ddr4_2400()), 2, 4);
  checker.issue(C::kAct, 0, 1, 0);
  checker.issue(C::kRd, 0, 1, 17);
  checker.issue(C::kPre, 0, 1, checker.earliest_legal_cycle(C::kPre, 0, 1));  // max(17+9, 39) = 39
  checker.issue(C::kAct, 4, 1, 18);  // another bank, earlier than the precharge
  EXPECT_EQ(checker.earliest_legal_cycle(C::kAct, 0, 2), 39 + 17);
  EXPECT_EQ(checker.earliest_legal_cycle(C::kRd, 4, 1), 18 + 17);
}

// An independent, naive reference: every pair of commands checked against
// the JEDEC rules written out case by case, plus the four-activate window.
class NaiveDdr4 {
 public:
  struct Issued {
    C command;
    int bank;
    DramCycle cycle;
  };

  explicit NaiveDdr4(const frontend::Ddr4Config& d) : d_(d) {}

  static int group(int bank) { return bank / 4; }

  // Minimum distance from `a` to a later `command` at `bank`, if any rule applies.
  std::optional<int> gap(const Issued& a, C command, int bank) const {
    const int burst = d_.burst_length / 2;
    const bool same_bank = a.bank == bank;
    const bool same_group = group(a.bank) == group(bank);
    switch (a.command) {
      case C::kAct:
        if (command == C::kAct)
          return same_bank ? d_.tRAS + d_.tRP : same_group ? d_.tRRD_L : d_.tRRD_S;
        if (!same_bank) return std::nullopt;
        if (command == C::kRd || command == C::kWr) return d_.tRCD;
        if (command == C::kPre) return d_.tRAS;
        return std::nullopt;
      case C::kRd:
        if (command == C::kRd) return std::max(burst, same_group ? d_.tCCD_L : d_.tCCD_S);
        if (command == C::kWr) return d_.CL + burst + 2 - d_.CWL;
        if (command == C::kPre && same_bank) return d_.tRTP;
        return std::nullopt;
      case C::kWr:
        if (command == C::kWr) return std::max(burst, same_group ? d_.tCCD_L : d_.tCCD_S);
        if (command == C::kRd) return d_.CWL + burst + (same_group ? d_.tWTR_L : d_.tWTR_S);
        if (command == C::kPre && same_bank) return d_.CWL + burst + d_.tWR;
        return std::nullopt;
      case C::kPre:
        if (command == C::kRef || (command == C::kAct && same_bank)) return d_.tRP;
        return std::nullopt;
      case C::kPrea:
        if (command == C::kRef || command == C::kAct) return d_.tRP;
        return std::nullopt;
      case C::kRef:
        if (command == C::kRef || command == C::kAct) return d_.tRFC;
        return std::nullopt;
    }
    return std::nullopt;
  }

  bool legal(C command, int bank, DramCycle cycle, const std::vector<int>& open_banks) const {
    if (command == C::kPrea) {
      for (int b : open_banks) {
        if (!legal(C::kPre, b, cycle, open_banks)) return false;
      }
      return true;
    }
    for (const Issued& a : history_) {
      const std::optional<int> g = gap(a, command, bank);
      if (g && cycle < a.cycle + *g) return false;
    }
    if (command == C::kAct && acts_.size() >= 4 && cycle < acts_[acts_.size() - 4] + d_.tFAW) {
      return false;
    }
    return true;
  }

  void issue(C command, int bank, DramCycle cycle) {
    history_.push_back({command, bank, cycle});
    if (command == C::kAct) acts_.push_back(cycle);
  }

 private:
  frontend::Ddr4Config d_;
  std::vector<Issued> history_;
  std::vector<DramCycle> acts_;
};

TEST(Ddr4Timing, AgreesWithANaivePairwiseReferenceOnRandomTraffic) {
  const frontend::Ddr4Config d = ddr4_2400();
  Ddr4TimingChecker checker(Ddr4Timing::from_config(d), 2, 4);
  NaiveDdr4 naive(d);
  std::mt19937 rng(20240611);
  DramCycle bus = -1;  // commands go on the bus one per cycle, in order
  int tight = 0;
  for (int step = 0; step < 3000; ++step) {
    const int bank = static_cast<int>(rng() % 8);
    std::vector<int> open;
    for (int b = 0; b < 8; ++b) {
      if (checker.open_row(b) != Ddr4TimingChecker::kClosed) open.push_back(b);
    }
    // A command the state allows, mostly column commands as in real traffic.
    C command;
    int64_t row = checker.open_row(bank);
    const unsigned roll = rng() % 100;
    if (roll < 2) {
      command = C::kPrea;
    } else if (roll < 4 && open.empty()) {
      command = C::kRef;
    } else if (row == Ddr4TimingChecker::kClosed) {
      command = C::kAct;
      row = static_cast<int64_t>(rng() % 3);
    } else {
      command = roll < 60 ? C::kRd : roll < 85 ? C::kWr : C::kPre;
    }
    const DramCycle earliest = checker.earliest_legal_cycle(command, bank, row);
    const DramCycle at = std::max(earliest, bus + 1) + (rng() % 4 == 0 ? rng() % 6 : 0);
    SCOPED_TRACE(::testing::Message() << "step " << step << ": " << to_string(command) << " bank "
                                      << bank << " at " << at << ", earliest " << earliest);
    ASSERT_TRUE(naive.legal(command, bank, earliest, open));
    if (earliest > 0) {
      ASSERT_FALSE(naive.legal(command, bank, earliest - 1, open));
      ++tight;
    }
    checker.issue(command, bank, row, at);
    naive.issue(command, bank, at);
    bus = at;
  }
  EXPECT_GT(tight, 1000);  // most commands were constrained, so this tested something
}

}  // namespace
}  // namespace palsim::sim
