#pragma once
// A bank-parallel command calendar for one DDR4 rank: the commands a
// controller has placed so far, and "when is the earliest legal cycle for
// this command" queries that respect every placed command, earlier or later
// on the bus. The scheduler (Ddr4Memory) places each burst's commands in the
// order it picks the bursts, but a command may land before commands placed
// earlier for other banks: one bank's precharge or activate overlaps another
// bank's data transfer, as in a controller with per-bank command queues
// (DRAMsim3, Ramulator).
//
// Rules come from ddr4_rules() (the same data the in-order Ddr4TimingChecker
// uses):
// - same-bank rules are one-sided: a bank's commands are placed in cycle
//   order (the bank state machine advances command by command);
// - bank-group and rank rules between different banks (tRRD, tCCD, tWTR,
//   read-to-write turnaround) and tFAW are checked both ways against the
//   placed commands near the candidate cycle, so a late command slotted into
//   a gap delays nothing placed before it;
// - the command bus carries one command per cycle;
// - precharge-all and refresh are barriers: they follow every placed command
//   and nothing is placed before them afterwards.
// Auto-precharges (closed page) take no command-bus slot.
#include <cstdint>
#include <vector>

#include "sim/memory/ddr4_timing.h"

namespace palsim::sim {

class Ddr4CommandCalendar {
 public:
  static constexpr int64_t kClosed = Ddr4TimingChecker::kClosed;

  Ddr4CommandCalendar(const Ddr4Timing& timing, int bank_groups, int banks_per_group);

  int banks() const { return static_cast<int>(open_row_.size()); }
  int64_t open_row(int bank) const { return open_row_[bank]; }
  int open_banks() const { return open_banks_; }
  // The latest cycle of any placed command (-1 before the first).
  DramCycle last_cycle() const { return last_cycle_; }

  // The earliest cycle >= `not_before` at which `command` may be placed at
  // `bank` (row used by ACT/RD/WR only). Throws InternalError if the bank
  // state does not allow the command (e.g. RD to a closed bank). PREA and
  // REF address the rank (`bank` ignored).
  DramCycle earliest(DramCommand command, int bank, int64_t row, DramCycle not_before) const;
  // Places `command` at `cycle`, which must be legal (InternalError if not).
  // `on_bus` is false for a precharge the device performs by itself.
  void place(DramCommand command, int bank, int64_t row, DramCycle cycle, bool on_bus = true);
  // earliest() then place(); returns the cycle.
  DramCycle place_at_earliest(DramCommand command, int bank, int64_t row, DramCycle not_before,
                              bool on_bus = true);
  // Places a command at the cycle earliest() has just returned for it, with
  // nothing placed since (not checked again).
  void place_exact(DramCommand command, int bank, int64_t row, DramCycle cycle) {
    commit(command, bank, row, cycle, true);
  }
  // No two-sided rule or tFAW reaches further than this many cycles.
  int horizon() const { return horizon_; }
  // The caller promises that nothing will be placed before `floor` any more;
  // commands that can no longer constrain a new one are dropped.
  void forget_before(DramCycle floor);

 private:
  struct Placed {
    DramCycle cycle;
    DramCommand command;
    int bank;
  };
  // Gap from an `earlier` command to a `later` one at another or the same
  // bank, for the bank-group / rank rules among ACT, RD, WR (0 = no rule).
  int cross_gap(DramCommand earlier, DramCommand later, bool same_group) const;
  DramCycle one_sided_bound(DramCommand command, int bank) const;
  // The first cycle >= t that satisfies the two-sided rules, tFAW and the bus.
  DramCycle settle(DramCommand command, int bank, DramCycle t) const;
  DramCycle four_activate_bound(DramCycle t) const;
  void check_state(DramCommand command, int bank, int64_t row) const;
  // Records a command already known to be legal.
  void commit(DramCommand command, int bank, int64_t row, DramCycle cycle, bool on_bus);

  Ddr4Timing timing_;
  int banks_per_group_;
  std::vector<int64_t> open_row_;
  int open_banks_ = 0;
  DramCycle last_cycle_ = -1;

  // Same-bank rules: for each later command, (earlier command, gap).
  std::vector<std::vector<std::pair<DramCommand, int>>> bank_rules_;
  // Rank rules whose earlier command is a precharge or a refresh (REF after
  // PRE, ACT after PREA / REF): one-sided, since PREA and REF are barriers.
  std::vector<std::vector<std::pair<DramCommand, int>>> rank_rules_;
  // bank_last_[bank * kNumDramCommands + command]: its last cycle at that bank.
  std::vector<DramCycle> bank_last_;
  std::vector<DramCycle> bank_latest_;  // the bank's latest command (per-bank order)
  std::vector<DramCycle> rank_last_;    // by command: its last cycle anywhere
  DramCycle barrier_ = 0;               // nothing is placed before this

  // cross_[(earlier * kNumDramCommands + later) * 2 + same_group]: bank-group
  // and rank rules between two commands of ACT, RD, WR (0 = none).
  std::vector<int> cross_;
  int horizon_ = 0;         // no two-sided rule or tFAW reaches further than this
  std::vector<int> reach_;  // by command: its longest two-sided gap, either way

  // Placed commands that use the bus (ACT, RD, WR, PRE), by cycle, from first_ on.
  std::vector<Placed> recent_;
  size_t first_ = 0;
  mutable std::vector<DramCycle> acts_scratch_;  // four_activate_bound's, kept to avoid allocating
};

}  // namespace palsim::sim
