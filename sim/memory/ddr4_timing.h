#pragma once
// DDR4 timing as data (after DRAMsim3 src/timing.cc and DRAMSys's checkers):
// the command-to-command gaps are computed once from Ddr4Config into
// Ddr4Timing, and each command's constraints become a short list of terms
// "at least <gap> after the last <earlier command> on this bank / this bank
// group / the rank". Ddr4TimingChecker records when each command was last
// issued at each bank, each bank group and the rank, so "when is X legal" is
// a max over a handful of loads and issuing a command is three stores.
//
// One channel, one rank, additive latency 0. Cycles are DRAM clock cycles (tCK).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"

namespace palsim::sim {

using DramCycle = int64_t;  // cycles of the DRAM clock tCK

enum class DramCommand : uint8_t {
  kAct,   // activate: open a row in a bank
  kRd,    // read one burst from the open row
  kWr,    // write one burst to the open row
  kPre,   // precharge (close) one bank
  kPrea,  // precharge all banks
  kRef,   // all-bank refresh (every bank must be closed)
};
inline constexpr int kNumDramCommands = 6;
const char* to_string(DramCommand command);

// JEDEC JESD79-4 gives the read-to-write gap as RL + BL/2 - WL + 2 tCK: the 2
// tCK turn the data bus around (read postamble, write preamble with the 1 tCK
// preamble). It is part of the standard, not of a speed bin, so it is not a
// configuration key (DRAMsim3's DDR4 .ini files call it tRTRS = 2).
inline constexpr int kReadToWriteTurnaroundTck = 2;

// Minimum gaps in tCK between a command and a later one, named
// <earlier>_to_<later>; _l = same bank group, _s = different bank group.
struct Ddr4Timing {
  int burst_cycles = 0;   // BL/2: double data rate, two transfers per tCK
  int read_latency = 0;   // CL: RD to first data
  int write_latency = 0;  // CWL: WR to first data

  int act_to_rdwr = 0;           // tRCD
  int act_to_pre = 0;            // tRAS
  int act_to_act_same_bank = 0;  // tRC = tRAS + tRP
  int act_to_act_l = 0;          // tRRD_L
  int act_to_act_s = 0;          // tRRD_S
  int four_act_window = 0;       // tFAW: at most four ACTs in any window of this length

  int rd_to_rd_l = 0;  // max(BL/2, tCCD_L): the data bus and the bank group's I/O
  int rd_to_rd_s = 0;  // max(BL/2, tCCD_S)
  int rd_to_wr = 0;    // CL + BL/2 + turnaround - CWL, any bank
  int rd_to_pre = 0;   // tRTP

  int wr_to_wr_l = 0;  // max(BL/2, tCCD_L)
  int wr_to_wr_s = 0;  // max(BL/2, tCCD_S)
  int wr_to_rd_l = 0;  // CWL + BL/2 + tWTR_L: tWTR counts from the end of the write data
  int wr_to_rd_s = 0;  // CWL + BL/2 + tWTR_S
  int wr_to_pre = 0;   // CWL + BL/2 + tWR: write recovery counts from the end of the data

  int pre_to_act = 0;        // tRP (also PRE -> REF and PREA -> ACT/REF)
  int ref_to_act = 0;        // tRFC (also REF -> REF)
  int refresh_interval = 0;  // tREFI: an all-bank refresh is due this often

  static Ddr4Timing from_config(const frontend::Ddr4Config& config);
};

// One timing rule: `later` may be issued no sooner than `gap` cycles after
// the last `earlier` on the same bank, the same bank group or anywhere in the
// rank. tFAW is not a pairwise rule and is kept apart by its users.
struct Ddr4Rule {
  enum Scope : uint8_t { kBank, kGroup, kRank };
  DramCommand later;
  Scope scope;
  DramCommand earlier;
  int gap;
};
// Every pairwise rule of DDR4 (one rank, AL 0), the single source of the
// constraints for both the in-order checker and the bank-parallel calendar.
std::vector<Ddr4Rule> ddr4_rules(const Ddr4Timing& timing);

// Per-bank state machine (closed, or open at one row) and the timing checker.
// Banks are numbered bank_group * banks_per_group + bank.
class Ddr4TimingChecker {
 public:
  static constexpr int64_t kClosed = -1;  // open_row() of a precharged bank

  Ddr4TimingChecker(const Ddr4Timing& timing, int bank_groups, int banks_per_group);

  int banks() const { return static_cast<int>(open_row_.size()); }
  int bank_index(int bank_group, int bank) const { return bank_group * banks_per_group_ + bank; }
  int bank_group_of(int bank) const { return bank_group_of_[bank]; }
  int64_t open_row(int bank) const { return open_row_[bank]; }
  int open_banks() const { return open_banks_; }
  const Ddr4Timing& timing() const { return timing_; }

  // Why `command` is not allowed in the banks' current state (RD/WR need the
  // bank open at `row`, ACT and REF need it / all banks closed, PRE needs it
  // open), or nullptr if the state allows it. `bank` and `row` are ignored
  // where they do not apply (PREA and REF address every bank; only ACT, RD and
  // WR use `row`).
  const char* state_error(DramCommand command, int bank, int64_t row) const;
  // The earliest cycle (>= 0) at which `command` satisfies every timing
  // constraint of the commands issued so far. Throws InternalError if the
  // state does not allow the command at all.
  DramCycle earliest_legal_cycle(DramCommand command, int bank, int64_t row) const;
  // Whether `command` may be issued at `cycle` (state and timing).
  bool can_issue(DramCommand command, int bank, int64_t row, DramCycle cycle) const;
  // Issues `command` at `cycle`, updating bank states and constraints. Throws
  // InternalError if the command is illegal there. Commands on the command bus
  // come in cycle order; a precharge performed inside the device (auto-
  // precharge) may be issued at a later cycle than commands that follow it.
  void issue(DramCommand command, int bank, int64_t row, DramCycle cycle);
  // Issues `command` at the earliest legal cycle that is >= `not_before` and
  // returns that cycle (one state check, one lookup: the scheduler's fast path).
  DramCycle issue_at_earliest(DramCommand command, int bank, int64_t row, DramCycle not_before);

 private:
  // One constraint on a later command: at least `gap` cycles after the cycle
  // in last_[slot] (an earlier command's last issue at one bank, bank group
  // or the rank).
  struct Term {
    uint32_t slot;
    int32_t gap;
  };
  using Level = Ddr4Rule::Scope;

  uint32_t slot(Level level, int bank, DramCommand command) const;
  DramCycle earliest_unchecked(DramCommand command, int bank) const;
  void check_state(DramCommand command, int bank, int64_t row) const;
  void apply(DramCommand command, int bank, int64_t row, DramCycle cycle);

  Ddr4Timing timing_;
  int banks_per_group_;
  int bank_groups_;
  std::vector<int> bank_group_of_;
  std::vector<int64_t> open_row_;
  int open_banks_ = 0;
  // last_[slot(level, bank, command)]: the cycle `command` was last issued at
  // that bank (banks first), bank group (then groups) or the rank (last).
  std::vector<DramCycle> last_;
  // The terms of `command` issued at `bank`:
  // terms_[term_begin_[command * banks + bank] .. term_begin_[... + 1]).
  std::vector<Term> terms_;
  std::vector<uint32_t> term_begin_;
  // Cycles of the last four ACTs (a ring; valid entries = min(acts_, 4)).
  std::array<DramCycle, 4> recent_acts_{};
  uint64_t acts_ = 0;
};

}  // namespace palsim::sim
