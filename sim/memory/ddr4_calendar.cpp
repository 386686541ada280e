#include "sim/memory/ddr4_calendar.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace palsim::sim {

namespace {

constexpr DramCycle kNever = std::numeric_limits<DramCycle>::min() / 4;

bool is_column_or_act(DramCommand c) {
  return c == DramCommand::kAct || c == DramCommand::kRd || c == DramCommand::kWr;
}

}  // namespace

Ddr4CommandCalendar::Ddr4CommandCalendar(const Ddr4Timing& timing, int bank_groups,
                                         int banks_per_group)
    : timing_(timing), banks_per_group_(banks_per_group) {
  if (bank_groups < 1 || banks_per_group < 1) {
    throw InputError(fmt::format("offchip.ddr4: need at least one bank group and bank, got {} x {}",
                                 bank_groups, banks_per_group));
  }
  const int banks = bank_groups * banks_per_group;
  open_row_.assign(banks, kClosed);
  bank_last_.assign(static_cast<size_t>(banks) * kNumDramCommands, kNever);
  bank_latest_.assign(banks, kNever);
  rank_last_.assign(kNumDramCommands, kNever);
  bank_rules_.resize(kNumDramCommands);
  rank_rules_.resize(kNumDramCommands);
  cross_.assign(kNumDramCommands * kNumDramCommands * 2, 0);
  reach_.assign(kNumDramCommands, 0);
  for (const Ddr4Rule& r : ddr4_rules(timing_)) {
    const int later = static_cast<int>(r.later);
    if (r.scope == Ddr4Rule::kBank) {
      bank_rules_[later].emplace_back(r.earlier, r.gap);
    } else if (is_column_or_act(r.earlier) && is_column_or_act(r.later)) {
      const size_t base = (static_cast<size_t>(r.earlier) * kNumDramCommands + later) * 2;
      cross_[base + 1] = std::max(cross_[base + 1], r.gap);  // same group: both scopes
      if (r.scope == Ddr4Rule::kRank) cross_[base] = std::max(cross_[base], r.gap);
      horizon_ = std::max(horizon_, r.gap);
      reach_[static_cast<size_t>(r.earlier)] =
          std::max(reach_[static_cast<size_t>(r.earlier)], r.gap);
      reach_[static_cast<size_t>(later)] = std::max(reach_[static_cast<size_t>(later)], r.gap);
    } else if (r.scope == Ddr4Rule::kRank &&
               (r.earlier == DramCommand::kPre || r.earlier == DramCommand::kPrea ||
                r.earlier == DramCommand::kRef)) {
      rank_rules_[later].emplace_back(r.earlier, r.gap);
    } else {
      throw InternalError(fmt::format("Ddr4CommandCalendar: no way to apply the rule {} after {}",
                                      to_string(r.later), to_string(r.earlier)));
    }
  }
  horizon_ = std::max(horizon_, timing_.four_act_window);
}

int Ddr4CommandCalendar::cross_gap(DramCommand earlier, DramCommand later, bool same_group) const {
  return cross_[(static_cast<size_t>(earlier) * kNumDramCommands + static_cast<size_t>(later)) * 2 +
                (same_group ? 1 : 0)];
}

void Ddr4CommandCalendar::check_state(DramCommand command, int bank, int64_t row) const {
  const bool per_bank = command != DramCommand::kPrea && command != DramCommand::kRef;
  const char* error = nullptr;
  if (per_bank && (bank < 0 || bank >= banks())) {
    error = "no such bank";
  } else if (command == DramCommand::kAct) {
    if (open_row_[bank] != kClosed) error = "ACT to an open bank";
    if (row < 0) error = "ACT needs a row";
  } else if (command == DramCommand::kRd || command == DramCommand::kWr) {
    if (open_row_[bank] != row) error = "column command to a row that is not open";
  } else if (command == DramCommand::kPre) {
    if (open_row_[bank] == kClosed) error = "PRE to a closed bank";
  } else if (command == DramCommand::kRef) {
    if (open_banks_ != 0) error = "REF while a bank is open";
  }
  if (error) {
    throw InternalError(
        fmt::format("DDR4 calendar {} bank {} row {}: {}", to_string(command), bank, row, error));
  }
}

DramCycle Ddr4CommandCalendar::one_sided_bound(DramCommand command, int bank) const {
  DramCycle t = barrier_;
  for (const auto& [earlier, gap] : rank_rules_[static_cast<int>(command)]) {
    t = std::max(t, rank_last_[static_cast<int>(earlier)] + gap);
  }
  if (command == DramCommand::kPrea || command == DramCommand::kRef) {
    // Barriers follow everything placed; PREA obeys each open bank's PRE rules.
    t = std::max(t, last_cycle_ + 1);
    if (command == DramCommand::kPrea) {
      for (int b = 0; b < banks(); ++b) {
        if (open_row_[b] != kClosed) t = std::max(t, one_sided_bound(DramCommand::kPre, b));
      }
    }
    return t;
  }
  // A bank's commands are placed in order, one state change after another.
  t = std::max(t, bank_latest_[bank] + 1);
  const size_t base = static_cast<size_t>(bank) * kNumDramCommands;
  for (const auto& [earlier, gap] : bank_rules_[static_cast<int>(command)]) {
    t = std::max(t, bank_last_[base + static_cast<size_t>(earlier)] + gap);
  }
  return t;
}

DramCycle Ddr4CommandCalendar::four_activate_bound(DramCycle t) const {
  // At most four ACTs in any tFAW window: with the candidate inserted, every
  // five consecutive ACTs must span at least tFAW.
  const DramCycle faw = timing_.four_act_window;
  for (;;) {
    // The ACTs within tFAW of the candidate, and the candidate, in order.
    acts_scratch_.clear();
    auto it =
        std::lower_bound(recent_.begin() + static_cast<std::ptrdiff_t>(first_), recent_.end(),
                         t - faw + 1, [](const Placed& p, DramCycle c) { return p.cycle < c; });
    size_t me = 0;
    for (; it != recent_.end() && it->cycle < t + faw; ++it) {
      if (it->command != DramCommand::kAct) continue;
      if (it->cycle < t) ++me;
      acts_scratch_.push_back(it->cycle);
    }
    if (acts_scratch_.size() < 4) return t;
    acts_scratch_.insert(acts_scratch_.begin() + static_cast<std::ptrdiff_t>(me), t);
    const std::vector<DramCycle>& acts = acts_scratch_;
    bool ok = true;
    for (size_t i = me >= 4 ? me - 4 : 0; i <= me && i + 4 < acts.size(); ++i) {
      if (acts[i + 4] - acts[i] < faw) {
        // Ending the window: wait for its first ACT to leave; otherwise try later.
        t = (i + 4 == me) ? acts[i] + faw : t + 1;
        ok = false;
        break;
      }
    }
    if (ok) return t;
  }
}

DramCycle Ddr4CommandCalendar::settle(DramCommand command, int bank, DramCycle t) const {
  // The least legal cycle >= t. Every move below skips only cycles that break
  // a rule, so the order of the moves does not change the answer; what makes
  // this fast is never scanning a placed command twice without need:
  // - a command placed before t stays satisfied when t grows (its rule is a
  //   lower bound on t), so it is checked once, and t moves past it at once;
  // - a command placed after t that was satisfied may be broken by a later
  //   move of t; the scan then resumes from the first such command.
  // (A scan that restarted from t - horizon after every move cost 60% of a
  // DDR4 simulation: a burst queued early moves past dozens of commands.)
  const bool two_sided = is_column_or_act(command);
  const int group = bank / banks_per_group_;
  // No rule between this command and another reaches further than `reach`
  // either way (tFAW is four_activate_bound's); beyond it only the bus
  // matters, and only at t itself.
  const DramCycle reach = two_sided ? reach_[static_cast<size_t>(command)] : 0;
  const auto begin = recent_.begin() + static_cast<std::ptrdiff_t>(first_);
  auto by_cycle = [](const Placed& p, DramCycle c) { return p.cycle < c; };
  auto it = std::lower_bound(begin, recent_.end(), t - reach, by_cycle);
  for (;;) {
    auto first_after = recent_.end();  // the first command after t found satisfied
    DramCycle t_at_first_after = t;
    for (; it != recent_.end() && it->cycle <= t + reach; ++it) {
      const bool ruled = two_sided && is_column_or_act(it->command);
      const bool same_group = it->bank / banks_per_group_ == group;
      const int gap_after = ruled ? cross_gap(it->command, command, same_group) : 0;
      if (it->cycle < t) {
        t = std::max(t, it->cycle + gap_after);
      } else if (it->cycle == t) {  // one command per cycle on the bus
        t = std::max(t + 1, it->cycle + gap_after);
      } else if (ruled && it->cycle < t + cross_gap(command, it->command, same_group)) {
        // Too close before a placed command: go after it instead.
        t = std::max(t + 1, it->cycle + gap_after);
      } else if (first_after == recent_.end()) {
        first_after = it;
        t_at_first_after = t;
      }
    }
    if (first_after != recent_.end() && t != t_at_first_after) {
      it = first_after;  // t moved after a command it had left behind it: check again
      continue;
    }
    if (command != DramCommand::kAct) return t;
    const DramCycle faw = four_activate_bound(t);
    if (faw == t) return t;
    it = std::lower_bound(begin, recent_.end(), t, by_cycle);
    t = faw;
  }
}

DramCycle Ddr4CommandCalendar::earliest(DramCommand command, int bank, int64_t row,
                                        DramCycle not_before) const {
  check_state(command, bank, row);
  const DramCycle t = std::max({not_before, DramCycle{0}, one_sided_bound(command, bank)});
  if (command == DramCommand::kPrea || command == DramCommand::kRef) return t;
  return settle(command, bank, t);
}

void Ddr4CommandCalendar::place(DramCommand command, int bank, int64_t row, DramCycle cycle,
                                bool on_bus) {
  const DramCycle legal =
      on_bus ? earliest(command, bank, row, cycle)
             : std::max(cycle, (check_state(command, bank, row), one_sided_bound(command, bank)));
  if (legal != cycle) {
    throw InternalError(fmt::format("DDR4 calendar {} bank {} at cycle {}: not legal (next {})",
                                    to_string(command), bank, cycle, legal));
  }
  commit(command, bank, row, cycle, on_bus);
}

void Ddr4CommandCalendar::commit(DramCommand command, int bank, int64_t row, DramCycle cycle,
                                 bool on_bus) {
  const int c = static_cast<int>(command);
  rank_last_[c] = std::max(rank_last_[c], cycle);
  last_cycle_ = std::max(last_cycle_, cycle);
  switch (command) {
    case DramCommand::kPrea:
    case DramCommand::kRef:
      for (int b = 0; b < banks(); ++b) {
        if (open_row_[b] != kClosed) {
          bank_last_[static_cast<size_t>(b) * kNumDramCommands +
                     static_cast<size_t>(DramCommand::kPre)] = cycle;
        }
        bank_latest_[b] = std::max(bank_latest_[b], cycle);
      }
      std::fill(open_row_.begin(), open_row_.end(), kClosed);
      open_banks_ = 0;
      barrier_ = cycle + 1;
      recent_.clear();
      first_ = 0;
      return;
    case DramCommand::kAct:
      open_row_[bank] = row;
      ++open_banks_;
      break;
    case DramCommand::kPre:
      open_row_[bank] = kClosed;
      --open_banks_;
      break;
    default:
      break;
  }
  bank_last_[static_cast<size_t>(bank) * kNumDramCommands + static_cast<size_t>(c)] = cycle;
  bank_latest_[bank] = cycle;
  if (on_bus) {
    const auto at =
        std::upper_bound(recent_.begin() + static_cast<std::ptrdiff_t>(first_), recent_.end(),
                         cycle, [](DramCycle x, const Placed& p) { return x < p.cycle; });
    recent_.insert(at, Placed{cycle, command, bank});
  }
}

DramCycle Ddr4CommandCalendar::place_at_earliest(DramCommand command, int bank, int64_t row,
                                                 DramCycle not_before, bool on_bus) {
  const DramCycle t =
      on_bus
          ? earliest(command, bank, row, not_before)
          : std::max(not_before, (check_state(command, bank, row), one_sided_bound(command, bank)));
  commit(command, bank, row, t, on_bus);  // legal by construction
  return t;
}

void Ddr4CommandCalendar::forget_before(DramCycle floor) {
  while (first_ < recent_.size() && recent_[first_].cycle < floor - horizon_) ++first_;
  if (first_ > 256 && first_ * 2 > recent_.size()) {
    recent_.erase(recent_.begin(), recent_.begin() + static_cast<std::ptrdiff_t>(first_));
    first_ = 0;
  }
}

}  // namespace palsim::sim
