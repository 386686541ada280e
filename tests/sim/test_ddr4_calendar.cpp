// The bank-parallel command calendar: commands to different banks overlap,
// within the pairwise rules checked both ways, tFAW and one command per cycle.
#include <gtest/gtest.h>

#include "frontend/arch/hw_config.h"
#include "frontend/util/error.h"
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

}  // namespace
}  // namespace palsim::sim
