#include "sim/memory/ddr4_memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "frontend/util/error.h"

namespace palsim::sim {

namespace {

constexpr DramCycle kForever = std::numeric_limits<DramCycle>::max();

uint64_t ceil_div(uint64_t a, uint64_t b) {
  return a / b + (a % b != 0);
}

void require(bool ok, const std::string& message) {
  if (!ok) throw InputError(message);
}

}  // namespace

Ddr4Memory::Ddr4Memory(const frontend::Ddr4Config& config, double clock_mhz)
    : config_(config),
      timing_(Ddr4Timing::from_config(config)),
      checker_(timing_, config.bank_groups, config.banks_per_group),
      closed_page_(config.page_policy == "closed"),
      burst_bits_(0),
      columns_per_row_in_bursts_(0),
      accel_period_ps_(0),
      dram_period_ps_(0),
      devices_(0) {
  const frontend::Ddr4Config& c = config_;
  require(c.page_policy == "open" || c.page_policy == "closed",
          fmt::format("offchip.ddr4.page_policy: must be open or closed, got '{}'", c.page_policy));
  require(std::isfinite(clock_mhz) && clock_mhz > 0,
          fmt::format("clock_mhz: must be positive, got {}", clock_mhz));
  require(std::isfinite(c.tck_ns) && c.tck_ns > 0,
          fmt::format("offchip.ddr4.tck_ns: must be positive, got {}", c.tck_ns));
  accel_period_ps_ = std::llround(1e6 / clock_mhz);
  dram_period_ps_ = std::llround(c.tck_ns * 1000);
  // Time is kept in whole picoseconds so the two clocks convert exactly.
  require(accel_period_ps_ >= 1 && dram_period_ps_ >= 1,
          fmt::format("clock periods must be at least 1 ps (clock_mhz {}, tck_ns {})", clock_mhz,
                      c.tck_ns));
  require(c.device_width_bits >= 1 && c.channel_width_bits >= c.device_width_bits &&
              c.channel_width_bits % c.device_width_bits == 0,
          fmt::format("offchip.ddr4.channel_width_bits: must be a multiple of device_width_bits "
                      "({}), got {}",
                      c.device_width_bits, c.channel_width_bits));
  require(c.columns >= c.burst_length && c.columns % c.burst_length == 0,
          fmt::format("offchip.ddr4.columns: must be a multiple of burst_length ({}), got {}",
                      c.burst_length, c.columns));
  require(c.rows >= 1, fmt::format("offchip.ddr4.rows: must be at least 1, got {}", c.rows));

  burst_bits_ = static_cast<uint64_t>(c.burst_length) * static_cast<uint64_t>(c.channel_width_bits);
  columns_per_row_in_bursts_ = c.columns / c.burst_length;
  devices_ = static_cast<double>(c.channel_width_bits / c.device_width_bits);
  pending_closes_.reserve(static_cast<size_t>(checker_.banks()));
  next_refresh_due_ = timing_.refresh_interval;

  // Energy per event, after the Micron DDR4 power note (TN-40-07) as used by
  // DRAMsim3: a current (mA) drawn by every device of the rank at VDD (V) for
  // a number of tCK. V x mA x ns = pJ, so each formula is
  //   VDD x current x cycles x tck_ns x devices.
  // - ACT (with its PRE): IDD0 is measured cycling ACT-PRE every tRC; take
  //   away the background that the standby terms already charge (IDD3N while
  //   the row is open for tRAS, IDD2N while precharging for tRP):
  //     (IDD0 x tRC - (IDD3N x tRAS + IDD2N x tRP))
  // - RD / WR burst: the current above active standby for the BL/2 tCK of data:
  //     (IDD4R - IDD3N) x BL/2,   (IDD4W - IDD3N) x BL/2
  // - REF: the current above active standby for tRFC:  (IDD5AB - IDD3N) x tRFC
  // - Background, per tCK of the busy time: IDD3N while any bank is open
  //   (active standby), IDD2N while all banks are closed (precharge standby).
  //   Idle time between transfers is not charged: the model does not know how
  //   long the run lasts, and a real controller would power down there.
  const double scale = c.VDD * c.tck_ns * devices_;
  act_pj_ = scale * (c.IDD0 * timing_.act_to_act_same_bank - (c.IDD3N * c.tRAS + c.IDD2N * c.tRP));
  read_pj_ = scale * (c.IDD4R - c.IDD3N) * timing_.burst_cycles;
  write_pj_ = scale * (c.IDD4W - c.IDD3N) * timing_.burst_cycles;
  ref_pj_ = scale * (c.IDD5AB - c.IDD3N) * c.tRFC;
  active_standby_pj_per_tck_ = scale * c.IDD3N;
  precharge_standby_pj_per_tck_ = scale * c.IDD2N;
}

double Ddr4Memory::peak_bits_per_accelerator_cycle() const {
  return 2.0 * config_.channel_width_bits * static_cast<double>(accel_period_ps_) /
         static_cast<double>(dram_period_ps_);
}

Ddr4Memory::Cursor Ddr4Memory::cursor_at(uint64_t burst_index) const {
  // Least significant field first: bank group, then column and bank (in the
  // order of the page policy's mapping), then row.
  Cursor cur;
  const auto groups = static_cast<uint64_t>(config_.bank_groups);
  const auto columns = static_cast<uint64_t>(columns_per_row_in_bursts_);
  const auto banks = static_cast<uint64_t>(config_.banks_per_group);
  cur.bank_group = static_cast<int>(burst_index % groups);
  burst_index /= groups;
  if (closed_page_) {
    cur.bank = static_cast<int>(burst_index % banks);
    burst_index /= banks;
    cur.column_burst = static_cast<int>(burst_index % columns);
    burst_index /= columns;
  } else {
    cur.column_burst = static_cast<int>(burst_index % columns);
    burst_index /= columns;
    cur.bank = static_cast<int>(burst_index % banks);
    burst_index /= banks;
  }
  cur.row = static_cast<int64_t>(burst_index % static_cast<uint64_t>(config_.rows));
  return cur;
}

void Ddr4Memory::step(Cursor& cur) const {
  // Adding one to the burst address: carry from the bank group upwards.
  if (++cur.bank_group < config_.bank_groups) return;
  cur.bank_group = 0;
  if (closed_page_) {
    if (++cur.bank < config_.banks_per_group) return;
    cur.bank = 0;
    if (++cur.column_burst < columns_per_row_in_bursts_) return;
    cur.column_burst = 0;
  } else {
    if (++cur.column_burst < columns_per_row_in_bursts_) return;
    cur.column_burst = 0;
    if (++cur.bank < config_.banks_per_group) return;
    cur.bank = 0;
  }
  if (++cur.row < config_.rows) return;
  cur.row = 0;
}

const char* Ddr4Memory::mapping_name() const {
  return closed_page_ ? "row:column:bank:bankgroup" : "row:bank:column:bankgroup";
}

Ddr4Memory::Location Ddr4Memory::map_burst(uint64_t burst_index) const {
  const Cursor cur = cursor_at(burst_index);
  return Location{cur.bank_group, cur.bank, cur.row, cur.column_burst * config_.burst_length};
}

uint64_t Ddr4Memory::serve(uint64_t start_cycle, const DramAccess& access) {
  const uint64_t bits = access.total_bits();
  if (bits == 0) return 0;
  const uint64_t begin = std::max(start_cycle, busy_until_);
  const auto accel_ps = static_cast<uint64_t>(accel_period_ps_);
  const auto dram_ps = static_cast<uint64_t>(dram_period_ps_);
  // The first DRAM cycle at or after the accelerator cycle's time. Since begin
  // >= busy_until_, this is at or after the previous transfer's last data.
  arrival_ = static_cast<DramCycle>(ceil_div(begin * accel_ps, dram_ps));
  done_ = arrival_;
  window_begin_ = arrival_;
  window_end_ = kForever;
  have_last_burst_ = false;

  // A loop whose runs touch end to end is one longer run: fold it, so a
  // contiguous tensor costs one run however the access was written.
  uint64_t run_bits = access.run_bits;
  uint64_t inner_count = access.inner_count;
  uint64_t outer_count = access.outer_count;
  if (inner_count > 1 && access.inner_stride_bits == run_bits) {
    run_bits *= inner_count;
    inner_count = 1;
  }
  if (inner_count == 1 && outer_count > 1 && access.outer_stride_bits == run_bits) {
    run_bits *= outer_count;
    outer_count = 1;
  }
  for (uint64_t o = 0; o < outer_count; ++o) {
    const uint64_t outer_base = access.base_bit + o * access.outer_stride_bits;
    for (uint64_t i = 0; i < inner_count; ++i) {
      serve_run(outer_base + i * access.inner_stride_bits, run_bits, access.write);
    }
  }

  // Close the busy window: charge background up to the last data.
  drain_pending_closes(done_);
  advance_background(done_);
  window_begin_ = window_end_ = done_;
  previous_done_ = done_;

  // The first accelerator cycle at or after the time the last data has moved.
  const uint64_t complete = ceil_div(static_cast<uint64_t>(done_) * dram_ps, accel_ps);
  busy_until_ = complete;
  (access.write ? stats_.write_bits : stats_.read_bits) += bits;
  ++stats_.transfers;
  stats_.busy_cycles += complete - begin;
  update_energy();
  return complete - start_cycle;
}

void Ddr4Memory::serve_run(uint64_t first_bit, uint64_t bits, bool write) {
  uint64_t first = first_bit / burst_bits_;
  const uint64_t last = (first_bit + bits - 1) / burst_bits_;
  // Runs narrower than a burst share bursts: the burst the previous run ended
  // in has already been moved (read: its data is in the DMA engine; write:
  // the engine merges the two under the data mask).
  if (have_last_burst_ && first == last_burst_) {
    if (first == last) return;
    ++first;
  }
  Cursor cur = cursor_at(first);
  for (uint64_t b = first; b <= last; ++b) {
    serve_burst(checker_.bank_index(cur.bank_group, cur.bank), cur.row, write);
    step(cur);
  }
  const uint64_t count = last - first + 1;
  stats_.bursts += count;
  stats_.burst_bytes += count * (burst_bits_ / 8);
  last_burst_ = last;
  have_last_burst_ = true;
}

DramCycle Ddr4Memory::issue_on_bus(DramCommand command, int bank, int64_t row,
                                   DramCycle not_before) {
  // One command per tCK, in order, as soon as every constraint is met.
  last_command_ =
      checker_.issue_at_earliest(command, bank, row, std::max(not_before, last_command_ + 1));
  return last_command_;
}

void Ddr4Memory::serve_burst(int bank, int64_t row, bool write) {
  refresh_if_due();
  const int64_t open_row = checker_.open_row(bank);
  if (open_row == row) {
    ++stats_.row_hits;
  } else {
    if (open_row != Ddr4TimingChecker::kClosed) {
      ++stats_.row_conflicts;
      const DramCycle t = issue_on_bus(DramCommand::kPre, bank, open_row, arrival_);
      bank_state_change(t, -1);
      ++stats_.precharges;
    } else {
      ++stats_.row_misses;
    }
    const DramCycle t = issue_on_bus(DramCommand::kAct, bank, row, arrival_);
    bank_state_change(t, +1);
    ++stats_.activates;
  }
  const DramCommand column = write ? DramCommand::kWr : DramCommand::kRd;
  const DramCycle t = issue_on_bus(column, bank, row, arrival_);
  const int latency = write ? timing_.write_latency : timing_.read_latency;
  done_ = std::max(done_, t + latency + timing_.burst_cycles);
  ++(write ? write_bursts_ : read_bursts_);
  if (closed_page_) {
    // Auto-precharge (RDA/WRA): the device closes the bank by itself as soon
    // as tRTP / write recovery and tRAS allow, without a command-bus slot.
    const DramCycle close = checker_.issue_at_earliest(DramCommand::kPre, bank, row, 0);
    pending_closes_.emplace_back(close, bank);
    ++stats_.precharges;
  }
}

void Ddr4Memory::refresh_if_due() {
  // Refresh is inserted before the next command once due. Refreshes that fell
  // due while the channel was idle run then (at their due time, or after the
  // previous transfer's data if they fell due during its tail), and cost the
  // current transfer nothing unless their tRFC reaches into it.
  DramCycle now = std::max(arrival_, last_command_ + 1);
  while (next_refresh_due_ <= now) {
    refresh(now);
    now = std::max(arrival_, last_command_ + 1);
  }
}

void Ddr4Memory::refresh(DramCycle now) {
  DramCycle not_before = std::max({next_refresh_due_, previous_done_, last_command_ + 1});
  const int open = checker_.open_banks();
  if (open > 0) {
    const DramCycle t = issue_on_bus(DramCommand::kPrea, 0, 0, not_before);
    bank_state_change(t, -open);
    stats_.precharges += static_cast<uint64_t>(open);
    not_before = t + 1;
  }
  const DramCycle t =
      std::max({not_before, checker_.earliest_legal_cycle(DramCommand::kRef, 0, 0)});
  uint64_t count = 1;
  if (t == next_refresh_due_ && now > t) {
    // This refresh runs exactly when due, so every later one that falls due
    // by `now` can too (all banks stay closed and tREFI > tRFC): count them
    // at once instead of one by one over a long idle gap.
    count += static_cast<uint64_t>((now - t) / timing_.refresh_interval);
  }
  const DramCycle last = t + static_cast<DramCycle>(count - 1) * timing_.refresh_interval;
  checker_.issue(DramCommand::kRef, 0, 0, last);
  last_command_ = last;
  stats_.refreshes += count;
  next_refresh_due_ += static_cast<DramCycle>(count) * timing_.refresh_interval;
}

void Ddr4Memory::bank_state_change(DramCycle at, int delta_open) {
  drain_pending_closes(at);
  advance_background(at);
  background_open_banks_ += delta_open;
}

void Ddr4Memory::drain_pending_closes(DramCycle up_to) {
  while (!pending_closes_.empty()) {
    auto first = std::min_element(pending_closes_.begin(), pending_closes_.end());
    if (first->first > up_to) return;
    advance_background(first->first);
    --background_open_banks_;
    *first = pending_closes_.back();
    pending_closes_.pop_back();
  }
}

void Ddr4Memory::advance_background(DramCycle to) {
  if (to <= background_time_) return;
  const DramCycle lo = std::max(background_time_, window_begin_);
  const DramCycle hi = std::min(to, window_end_);
  if (hi > lo) {
    (background_open_banks_ > 0 ? active_standby_tck_ : precharge_standby_tck_) +=
        static_cast<uint64_t>(hi - lo);
  }
  background_time_ = to;
}

void Ddr4Memory::update_energy() {
  // Recomputed from integer counts, so the figure does not depend on the
  // order or grouping of the transfers that produced them.
  stats_.current_energy_pj =
      act_pj_ * static_cast<double>(stats_.activates) +
      read_pj_ * static_cast<double>(read_bursts_) +
      write_pj_ * static_cast<double>(write_bursts_) +
      ref_pj_ * static_cast<double>(stats_.refreshes) +
      active_standby_pj_per_tck_ * static_cast<double>(active_standby_tck_) +
      precharge_standby_pj_per_tck_ * static_cast<double>(precharge_standby_tck_);
}

std::string Ddr4Memory::describe() const {
  const frontend::Ddr4Config& c = config_;
  return fmt::format(
      "ddr4: {}-bit channel of {} x{} devices, tCK {} ps ({:.0f} MT/s), {} bank groups x {} banks "
      "x "
      "{} rows x {} columns, BL{} ({} B bursts), CL-tRCD-tRP {}-{}-{}, tRFC {} / tREFI {}, "
      "{} page, FCFS, mapping {}; peak {:.1f} bits per accelerator cycle "
      "({} ps)",
      c.channel_width_bits, c.channel_width_bits / c.device_width_bits, c.device_width_bits,
      dram_period_ps_, 2e6 / static_cast<double>(dram_period_ps_), c.bank_groups, c.banks_per_group,
      c.rows, c.columns, c.burst_length, burst_bits_ / 8, c.CL, c.tRCD, c.tRP, c.tRFC, c.tREFI,
      c.page_policy, mapping_name(), peak_bits_per_accelerator_cycle(), accel_period_ps_);
}

}  // namespace palsim::sim
