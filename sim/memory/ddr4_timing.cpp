#include "sim/memory/ddr4_timing.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace palsim::sim {

const char* to_string(DramCommand command) {
  switch (command) {
    case DramCommand::kAct:
      return "ACT";
    case DramCommand::kRd:
      return "RD";
    case DramCommand::kWr:
      return "WR";
    case DramCommand::kPre:
      return "PRE";
    case DramCommand::kPrea:
      return "PREA";
    case DramCommand::kRef:
      return "REF";
  }
  return "?";
}

namespace {

void require(bool ok, const char* key, const std::string& message) {
  if (!ok) throw InputError(fmt::format("offchip.ddr4.{}: {}", key, message));
}

}  // namespace

Ddr4Timing Ddr4Timing::from_config(const frontend::Ddr4Config& c) {
  // The YAML reader checks each key's range; these are the relations between
  // keys the formulas below rely on, checked here too because a config may
  // also be built in code.
  require(c.burst_length >= 2 && c.burst_length % 2 == 0, "burst_length",
          fmt::format("must be even (two transfers per tCK), got {}", c.burst_length));
  const std::pair<const char*, int> positive[] = {
      {"CL", c.CL},         {"CWL", c.CWL},       {"tRCD", c.tRCD},     {"tRP", c.tRP},
      {"tRAS", c.tRAS},     {"tRRD_S", c.tRRD_S}, {"tRRD_L", c.tRRD_L}, {"tCCD_S", c.tCCD_S},
      {"tCCD_L", c.tCCD_L}, {"tWTR_S", c.tWTR_S}, {"tWTR_L", c.tWTR_L}, {"tRTP", c.tRTP},
      {"tWR", c.tWR},       {"tFAW", c.tFAW},     {"tRFC", c.tRFC},     {"tREFI", c.tREFI}};
  for (const auto& [key, value] : positive) {
    require(value >= 1, key, fmt::format("must be at least 1 tCK, got {}", value));
  }
  // JEDEC: the same-bank-group gaps are never shorter than the others; the
  // checker relies on it (see its constructor).
  require(c.tRRD_L >= c.tRRD_S, "tRRD_L", fmt::format("must be at least tRRD_S ({})", c.tRRD_S));
  require(c.tCCD_L >= c.tCCD_S, "tCCD_L", fmt::format("must be at least tCCD_S ({})", c.tCCD_S));
  require(c.tWTR_L >= c.tWTR_S, "tWTR_L", fmt::format("must be at least tWTR_S ({})", c.tWTR_S));
  // Refreshes are issued one per tREFI; one must end before the next is due.
  require(c.tREFI > c.tRFC, "tREFI", fmt::format("must exceed tRFC ({}), got {}", c.tRFC, c.tREFI));

  Ddr4Timing t;
  t.burst_cycles = c.burst_length / 2;
  t.read_latency = c.CL;
  t.write_latency = c.CWL;
  t.act_to_rdwr = c.tRCD;
  t.act_to_pre = c.tRAS;
  t.act_to_act_same_bank = c.tRAS + c.tRP;
  t.act_to_act_l = c.tRRD_L;
  t.act_to_act_s = c.tRRD_S;
  t.four_act_window = c.tFAW;
  t.rd_to_rd_l = std::max(t.burst_cycles, c.tCCD_L);
  t.rd_to_rd_s = std::max(t.burst_cycles, c.tCCD_S);
  // Never below 1: the write must follow the read on the command bus even if
  // CWL were large enough to make the formula non-positive.
  t.rd_to_wr = std::max(1, c.CL + t.burst_cycles + kReadToWriteTurnaroundTck - c.CWL);
  t.rd_to_pre = c.tRTP;
  t.wr_to_wr_l = std::max(t.burst_cycles, c.tCCD_L);
  t.wr_to_wr_s = std::max(t.burst_cycles, c.tCCD_S);
  t.wr_to_rd_l = c.CWL + t.burst_cycles + c.tWTR_L;
  t.wr_to_rd_s = c.CWL + t.burst_cycles + c.tWTR_S;
  t.wr_to_pre = c.CWL + t.burst_cycles + c.tWR;
  t.pre_to_act = c.tRP;
  t.ref_to_act = c.tRFC;
  t.refresh_interval = c.tREFI;
  return t;
}

std::vector<Ddr4Rule> ddr4_rules(const Ddr4Timing& t) {
  // Same-bank-group gaps (_l) are at least the different-group ones (_s), so
  // "the last X anywhere in the rank + _s" together with "the last X in this
  // group + _l" is exactly "_l within the group, _s across groups".
  using C = DramCommand;
  constexpr auto kBank = Ddr4Rule::kBank, kGroup = Ddr4Rule::kGroup, kRank = Ddr4Rule::kRank;
  return {
      // ACT: the bank's row cycle (tRC) and precharge (tRP); activate spacing
      // (tRRD; tFAW is kept apart); the rank's precharge-all and refresh.
      {C::kAct, kBank, C::kAct, t.act_to_act_same_bank},
      {C::kAct, kBank, C::kPre, t.pre_to_act},
      {C::kAct, kGroup, C::kAct, t.act_to_act_l},
      {C::kAct, kRank, C::kAct, t.act_to_act_s},
      {C::kAct, kRank, C::kPrea, t.pre_to_act},
      {C::kAct, kRank, C::kRef, t.ref_to_act},
      // RD: the row must have been open tRCD; column spacing (tCCD) after a
      // read, tWTR after the end of a write's data.
      {C::kRd, kBank, C::kAct, t.act_to_rdwr},
      {C::kRd, kGroup, C::kRd, t.rd_to_rd_l},
      {C::kRd, kRank, C::kRd, t.rd_to_rd_s},
      {C::kRd, kGroup, C::kWr, t.wr_to_rd_l},
      {C::kRd, kRank, C::kWr, t.wr_to_rd_s},
      // WR: tRCD; tCCD after a write; the bus turnaround after a read.
      {C::kWr, kBank, C::kAct, t.act_to_rdwr},
      {C::kWr, kGroup, C::kWr, t.wr_to_wr_l},
      {C::kWr, kRank, C::kWr, t.wr_to_wr_s},
      {C::kWr, kRank, C::kRd, t.rd_to_wr},
      // PRE: the row must have been open tRAS, read tRTP ago, written (data
      // and write recovery) tWR ago.
      {C::kPre, kBank, C::kAct, t.act_to_pre},
      {C::kPre, kBank, C::kRd, t.rd_to_pre},
      {C::kPre, kBank, C::kWr, t.wr_to_pre},
      // PREA: the PRE rules of every open bank (the checkers apply them bank by bank).
      // REF: every bank precharged tRP ago; the previous refresh done.
      {C::kRef, kRank, C::kPre, t.pre_to_act},
      {C::kRef, kRank, C::kPrea, t.pre_to_act},
      {C::kRef, kRank, C::kRef, t.ref_to_act},
  };
}

namespace {

// "Never issued": far enough below zero that adding any gap stays negative.
constexpr DramCycle kNever = std::numeric_limits<DramCycle>::min() / 4;

}  // namespace

Ddr4TimingChecker::Ddr4TimingChecker(const Ddr4Timing& timing, int bank_groups, int banks_per_group)
    : timing_(timing), banks_per_group_(banks_per_group), bank_groups_(bank_groups) {
  if (bank_groups < 1 || banks_per_group < 1) {
    throw InputError(fmt::format("offchip.ddr4: need at least one bank group and bank, got {} x {}",
                                 bank_groups, banks_per_group));
  }
  const int banks = bank_groups * banks_per_group;
  bank_group_of_.resize(banks);
  for (int b = 0; b < banks; ++b) bank_group_of_[b] = b / banks_per_group;
  open_row_.assign(banks, kClosed);
  last_.assign(static_cast<size_t>(banks + bank_groups + 1) * kNumDramCommands, kNever);

  const std::vector<Ddr4Rule> rules = ddr4_rules(timing_);
  term_begin_.reserve(static_cast<size_t>(kNumDramCommands) * banks + 1);
  // PREA has no terms of its own (see earliest_unchecked).
  for (int command = 0; command < kNumDramCommands; ++command) {
    for (int bank = 0; bank < banks; ++bank) {
      term_begin_.push_back(static_cast<uint32_t>(terms_.size()));
      for (const Ddr4Rule& r : rules) {
        if (static_cast<int>(r.later) == command) {
          terms_.push_back(Term{slot(r.scope, bank, r.earlier), r.gap});
        }
      }
    }
  }
  term_begin_.push_back(static_cast<uint32_t>(terms_.size()));
}

uint32_t Ddr4TimingChecker::slot(Level level, int bank, DramCommand command) const {
  const int banks = static_cast<int>(open_row_.size());
  int row = 0;
  switch (level) {
    case Ddr4Rule::kBank:
      row = bank;
      break;
    case Ddr4Rule::kGroup:
      row = banks + bank_group_of_[bank];
      break;
    case Ddr4Rule::kRank:
      row = banks + bank_groups_;
      break;
  }
  return static_cast<uint32_t>(row * kNumDramCommands + static_cast<int>(command));
}

const char* Ddr4TimingChecker::state_error(DramCommand command, int bank, int64_t row) const {
  const bool per_bank = command != DramCommand::kPrea && command != DramCommand::kRef;
  if (per_bank && (bank < 0 || bank >= banks())) return "no such bank";
  switch (command) {
    case DramCommand::kAct:
      if (row < 0) return "ACT needs a row";
      return open_row_[bank] == kClosed ? nullptr : "ACT to an open bank (precharge first)";
    case DramCommand::kRd:
    case DramCommand::kWr:
      if (open_row_[bank] == kClosed) return "column command to a closed bank";
      return open_row_[bank] == row ? nullptr : "column command to a row that is not open";
    case DramCommand::kPre:
      return open_row_[bank] != kClosed ? nullptr : "PRE to a closed bank";
    case DramCommand::kPrea:
      return nullptr;
    case DramCommand::kRef:
      return open_banks_ == 0 ? nullptr : "REF while a bank is open (precharge all first)";
  }
  return "unknown command";
}

DramCycle Ddr4TimingChecker::earliest_unchecked(DramCommand command, int bank) const {
  if (command == DramCommand::kPrea) {
    // Closed banks are not precharged again, so only the open ones constrain it.
    DramCycle t = 0;
    for (int b = 0; b < banks(); ++b) {
      if (open_row_[b] != kClosed) t = std::max(t, earliest_unchecked(DramCommand::kPre, b));
    }
    return t;
  }
  const bool rank_wide = command == DramCommand::kRef;
  const size_t key = static_cast<size_t>(command) * open_row_.size() + (rank_wide ? 0 : bank);
  DramCycle t = 0;
  for (uint32_t k = term_begin_[key]; k != term_begin_[key + 1]; ++k) {
    t = std::max(t, last_[terms_[k].slot] + terms_[k].gap);
  }
  if (command == DramCommand::kAct && acts_ >= recent_acts_.size()) {
    // The fifth ACT must wait until the first of the last four leaves the window.
    t = std::max(t, recent_acts_[acts_ % recent_acts_.size()] + timing_.four_act_window);
  }
  return t;
}

void Ddr4TimingChecker::check_state(DramCommand command, int bank, int64_t row) const {
  if (const char* error = state_error(command, bank, row)) {
    throw InternalError(
        fmt::format("DDR4 {} bank {} row {}: {}", to_string(command), bank, row, error));
  }
}

DramCycle Ddr4TimingChecker::earliest_legal_cycle(DramCommand command, int bank,
                                                  int64_t row) const {
  check_state(command, bank, row);
  return earliest_unchecked(command, bank);
}

bool Ddr4TimingChecker::can_issue(DramCommand command, int bank, int64_t row,
                                  DramCycle cycle) const {
  return state_error(command, bank, row) == nullptr && cycle >= earliest_unchecked(command, bank);
}

void Ddr4TimingChecker::issue(DramCommand command, int bank, int64_t row, DramCycle cycle) {
  const DramCycle earliest = earliest_legal_cycle(command, bank, row);
  if (cycle < earliest) {
    throw InternalError(fmt::format("DDR4 {} bank {} at cycle {}: not legal before cycle {}",
                                    to_string(command), bank, cycle, earliest));
  }
  apply(command, bank, row, cycle);
}

DramCycle Ddr4TimingChecker::issue_at_earliest(DramCommand command, int bank, int64_t row,
                                               DramCycle not_before) {
  check_state(command, bank, row);
  const DramCycle cycle = std::max(not_before, earliest_unchecked(command, bank));
  apply(command, bank, row, cycle);
  return cycle;
}

void Ddr4TimingChecker::apply(DramCommand command, int bank, int64_t row, DramCycle cycle) {
  // Record the issue at the rank, and for a one-bank command at its bank and
  // bank group. max: an auto-precharge may have been recorded ahead of time.
  const int banks = static_cast<int>(open_row_.size());
  const int c = static_cast<int>(command);
  auto record = [&](int row_of_slots) {
    DramCycle& last = last_[static_cast<size_t>(row_of_slots) * kNumDramCommands + c];
    last = std::max(last, cycle);
  };
  record(banks + bank_groups_);
  if (command != DramCommand::kPrea && command != DramCommand::kRef) {
    record(bank);
    record(banks + bank_group_of_[bank]);
  }
  switch (command) {
    case DramCommand::kAct:
      open_row_[bank] = row;
      ++open_banks_;
      recent_acts_[acts_ % recent_acts_.size()] = cycle;
      ++acts_;
      break;
    case DramCommand::kPre:
      open_row_[bank] = kClosed;
      --open_banks_;
      break;
    case DramCommand::kPrea:
      std::fill(open_row_.begin(), open_row_.end(), kClosed);
      open_banks_ = 0;
      break;
    default:
      break;
  }
}

}  // namespace palsim::sim
