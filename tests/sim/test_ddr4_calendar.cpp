// The bank-parallel command calendar: commands to different banks overlap,
// within the pairwise rules checked both ways, tFAW and one command per cycle.
#include <gtest/gtest.h>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "sim/memory/ddr4_calendar.h"
#include "sim/memory/ddr4_timing.h"

namespace palsim::sim {
namespace {

using C = DramCommand;

Ddr4CommandCalendar calendar() {
  return Ddr4CommandCalendar(Ddr4Timing::from_config(frontend::Ddr4Config{}), 2, 4);
}

TEST(Ddr4Calendar, ActivatesToOtherBanksKeepTrrdApart) {
  Ddr4CommandCalendar cal = calendar();
  EXPECT_EQ(cal.place_at_earliest(C::kAct, 0, 1, 0), 0);
  EXPECT_EQ(cal.earliest(C::kAct, 1, 1, 0), 8);  // tRRD_L, same group
  EXPECT_EQ(cal.earliest(C::kAct, 4, 1, 0), 7);  // tRRD_S, other group
}

TEST(Ddr4Calendar, ACommandFitsBeforeOnePlacedLaterOnlyWithItsGapBothWays) {
  Ddr4CommandCalendar cal = calendar();
  // Bank 0: ACT at 0, RD at 17 (tRCD). Bank 4 (other group): ACT at 20.
  cal.place(C::kAct, 0, 1, 0);
  cal.place(C::kRd, 0, 1, 17);
  // A read in another group fits 4 (tCCD_S) before or after the placed read.
  cal.place(C::kAct, 4, 1, 7);
  EXPECT_EQ(cal.earliest(C::kRd, 4, 1, 0), 24);  // tRCD from its ACT (7 + 17); 24 - 17 >= 4
  // Bank 1 (same group as bank 0): ACT 8 after bank 0's ACT (tRRD_L), and
  // tRRD_S = 7 after bank 4's ACT at 7: the first cycle is 14.
  EXPECT_EQ(cal.earliest(C::kAct, 1, 1, 0), 14);
  cal.place(C::kAct, 1, 1, 14);
  // Bank 1's read: tRCD after its ACT (31), 14 after the same group's read.
  EXPECT_EQ(cal.earliest(C::kRd, 1, 1, 0), 31);
  // Placed out of order: bank 1's read at 31, then bank 4's read slots in
  // before it at 24 (7 after the read at 17, 7 before the one at 31).
  cal.place(C::kRd, 1, 1, 31);
  EXPECT_EQ(cal.earliest(C::kRd, 4, 1, 0), 24);
  EXPECT_THROW(cal.place(C::kRd, 4, 1, 29), InternalError);  // 2 before the read at 31
  EXPECT_EQ(cal.earliest(C::kRd, 4, 1, 28), 35);             // so after it, tCCD_S
}

TEST(Ddr4Calendar, OneCommandPerCycleOnTheBus) {
  Ddr4CommandCalendar cal = calendar();
  cal.place(C::kAct, 0, 1, 0);
  cal.place(C::kAct, 4, 1, 7);
  cal.place(C::kPre, 4, 1, 7 + 39);  // tRAS
  // Bank 0's read could go at 17, bank 0's precharge at 39; but cycle 46 is taken.
  EXPECT_EQ(cal.earliest(C::kPre, 0, 1, 46), 47);
}

TEST(Ddr4Calendar, FifthActivateWaitsForTheFourActivateWindow) {
  Ddr4CommandCalendar cal = calendar();
  // Four ACTs alternating groups, tRRD_S = 7 apart: 0, 7, 14, 21.
  cal.place(C::kAct, 0, 1, 0);
  cal.place(C::kAct, 4, 1, 7);
  cal.place(C::kAct, 1, 1, 14);
  cal.place(C::kAct, 5, 1, 21);
  EXPECT_EQ(cal.earliest(C::kAct, 2, 1, 0), 36);  // tFAW after the first
  // And an ACT slotted in before the four must keep its window too.
  Ddr4CommandCalendar late = calendar();
  late.place(C::kAct, 0, 1, 100);
  late.place(C::kAct, 4, 1, 107);
  late.place(C::kAct, 1, 1, 114);
  late.place(C::kAct, 5, 1, 121);
  EXPECT_EQ(late.earliest(C::kAct, 2, 1, 80), 80);   // 121 - 80 >= tFAW
  EXPECT_EQ(late.earliest(C::kAct, 6, 1, 90), 136);  // 90 ... 121 is too tight, so after
}

TEST(Ddr4Calendar, RefreshIsABarrier) {
  Ddr4CommandCalendar cal = calendar();
  cal.place(C::kAct, 0, 1, 0);
  cal.place(C::kRd, 0, 1, 17);
  const DramCycle prea = cal.earliest(C::kPrea, 0, 0, 0);
  EXPECT_EQ(prea, 39);  // tRAS
  cal.place(C::kPrea, 0, 0, prea);
  const DramCycle ref = cal.earliest(C::kRef, 0, 0, 0);
  EXPECT_EQ(ref, 39 + 17);  // tRP
  cal.place(C::kRef, 0, 0, ref);
  // Nothing goes before the refresh, and ACTs wait tRFC.
  EXPECT_EQ(cal.earliest(C::kAct, 4, 1, 0), ref + 420);
}

TEST(Ddr4Calendar, StateErrorsThrow) {
  Ddr4CommandCalendar cal = calendar();
  EXPECT_THROW(cal.earliest(C::kRd, 0, 1, 0), InternalError);
  EXPECT_THROW(cal.earliest(C::kPre, 0, 1, 0), InternalError);
  cal.place(C::kAct, 0, 1, 0);
  EXPECT_THROW(cal.earliest(C::kAct, 0, 2, 0), InternalError);
  EXPECT_THROW(cal.earliest(C::kRef, 0, 0, 0), InternalError);
}

}  // namespace
}  // namespace palsim::sim
