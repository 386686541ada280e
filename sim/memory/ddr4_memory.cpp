#include "sim/memory/ddr4_memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"

namespace palsim::sim {

namespace {

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
      calendar_(timing_, config.bank_groups, config.banks_per_group),
      closed_page_(config.page_policy == frontend::PagePolicy::kClosed),
      burst_bits_(0),
      columns_per_row_in_bursts_(0),
      accel_period_ps_(0),
      dram_period_ps_(0),
      devices_(0) {
  const frontend::Ddr4Config& c = config_;
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
  for (int i = 0; i < kQueueDepth; ++i) read_slots_.push(0);
  for (int i = 0; i < kWriteBufferDepth; ++i) write_slots_.push(0);
  write_buffer_.reserve(kWriteBufferDepth);
  read_queue_.reserve(kQueueDepth);
  bank_version_.assign(static_cast<size_t>(calendar_.banks()), 0);
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

int Ddr4Memory::calendar_bank(const Cursor& cur) const {
  return cur.bank_group * config_.banks_per_group + cur.bank;
}

Ddr4Memory::Location Ddr4Memory::map_burst(uint64_t burst_index) const {
  const Cursor cur = cursor_at(burst_index);
  return Location{cur.bank_group, cur.bank, cur.row, cur.column_burst * config_.burst_length};
}

uint64_t Ddr4Memory::serve(uint64_t start_cycle, const DramAccess& access) {
  const uint64_t bits = access.total_bits();
  if (bits == 0) return 0;
  const auto accel_ps = static_cast<uint64_t>(accel_period_ps_);
  const auto dram_ps = static_cast<uint64_t>(dram_period_ps_);
  // The first DRAM cycle at or after the accelerator cycle's time.
  const auto arrival = static_cast<DramCycle>(ceil_div(start_cycle * accel_ps, dram_ps));

  // Refreshes that fell due while the channel was idle run then; a channel
  // found idle also drains its posted writes (as DRAMsim3 does once its
  // command queues are empty).
  const bool idle = calendar_.last_cycle() < arrival;
  while (next_refresh_due_ <= arrival && calendar_.last_cycle() < next_refresh_due_) {
    refresh(next_refresh_due_, arrival);
  }
  if (idle && !write_buffer_.empty()) drain_write_buffer();
  arrival_ = arrival;
  settle_background(floor());

  std::vector<Queued> bursts;
  collect(access, bursts);
  const DramCycle done =
      access.write ? serve_writes(bursts, arrival) : serve_reads(bursts, arrival);

  if (!windows_.empty() && arrival <= windows_.back().second) {
    windows_.back().second = std::max(windows_.back().second, done);
  } else {
    windows_.emplace_back(arrival, done);
  }
  // The first accelerator cycle at or after the time the last data has moved.
  const uint64_t complete =
      std::max(start_cycle + 1, ceil_div(static_cast<uint64_t>(done) * dram_ps, accel_ps));
  stats_.busy_cycles += complete - std::min(complete, std::max(start_cycle, busy_until_));
  busy_until_ = std::max(busy_until_, complete);
  (access.write ? stats_.write_bits : stats_.read_bits) += bits;
  ++stats_.transfers;
  update_energy();
  return complete - start_cycle;
}

void Ddr4Memory::collect(const DramAccess& access, std::vector<Queued>& out) {
  frontend::for_each_burst_range(access, burst_bits_, [&](uint64_t first, uint64_t last) {
    Cursor cur = cursor_at(first);
    for (uint64_t b = first; b <= last; ++b) {
      out.push_back(Queued{b, calendar_bank(cur), cur.row, 0});
      step(cur);
    }
    stats_.bursts += last - first + 1;
    stats_.burst_bytes += (last - first + 1) * (burst_bits_ / 8);
  });
}

Ddr4Memory::Offer Ddr4Memory::pick(const std::vector<Queued>& queue, bool write,
                                   OfferCache& cache) const {
  // First-ready, first-come-first-served, per bank as with DRAMsim3's
  // per-bank command queues: each bank offers the next command of its oldest
  // burst that hits the open row, or else (no hit pending, so a precharge
  // closes nothing still wanted) of its oldest burst. The offer that can
  // issue first wins; ties go to column commands, then to the oldest burst.
  const auto banks = static_cast<size_t>(calendar_.banks());
  constexpr size_t kNone = std::numeric_limits<size_t>::max();
  offer_hit_.assign(banks, kNone);
  offer_any_.assign(banks, kNone);
  for (size_t i = 0; i < queue.size(); ++i) {
    const auto bank = static_cast<size_t>(queue[i].bank);
    if (offer_any_[bank] == kNone) offer_any_[bank] = i;
    if (offer_hit_[bank] == kNone && calendar_.open_row(queue[i].bank) == queue[i].row) {
      offer_hit_[bank] = i;
    }
  }
  // Placing commands only adds constraints, so an offer's earliest cycle
  // computed earlier is a lower bound while its bank's state is unchanged
  // (the cache is keyed by burst and command, and cleared when a command is
  // placed at the bank or a refresh runs): recompute only offers that could
  // still win.
  if (cache.offers.size() != banks || cache.generation != refresh_generation_) {
    cache.offers.assign(banks, Offer{});
    cache.generation = refresh_generation_;
  }
  for (size_t bank = 0; bank < banks; ++bank) {
    Offer& o = cache.offers[bank];
    if (o.version != bank_version_[bank]) o.seq = kNoBurst;  // its bank's state moved on
    o.exact = o.stamp == placements_;
  }
  for (size_t bank = 0; bank < banks; ++bank) {
    Offer& o = cache.offers[bank];
    if (offer_any_[bank] == kNone) {
      o.seq = kNoBurst;
      continue;
    }
    const bool hit = offer_hit_[bank] != kNone;
    const size_t i = hit ? offer_hit_[bank] : offer_any_[bank];
    const Queued& q = queue[i];
    const int64_t open = calendar_.open_row(q.bank);
    DramCommand command = DramCommand::kAct;
    int64_t row = q.row;
    if (hit) {
      command = write ? DramCommand::kWr : DramCommand::kRd;
    } else if (open != Ddr4CommandCalendar::kClosed) {
      command = DramCommand::kPre;
      row = open;
    }
    o.index = i;
    if (o.seq != q.seq || o.command != command) {
      o = Offer{i,
                q.seq,
                command,
                row,
                calendar_.earliest(command, q.bank, row, q.ready),
                true,
                placements_,
                bank_version_[bank]};
    }
  }
  auto before = [](const Offer& a, const Offer& b) {
    // Stale bounds first on equal cycles, so that ties are decided exactly.
    if (a.cycle != b.cycle) return a.cycle < b.cycle;
    if (a.exact != b.exact) return !a.exact;
    const bool ca = a.command == DramCommand::kRd || a.command == DramCommand::kWr;
    const bool cb = b.command == DramCommand::kRd || b.command == DramCommand::kWr;
    if (ca != cb) return ca;
    return a.index < b.index;
  };
  for (;;) {
    Offer* best = nullptr;
    for (Offer& o : cache.offers) {
      if (o.seq != kNoBurst && (best == nullptr || before(o, *best))) best = &o;
    }
    if (best->exact) return *best;
    best->cycle = calendar_.earliest(best->command, queue[best->index].bank, best->row,
                                     queue[best->index].ready);
    best->exact = true;
    best->stamp = placements_;
  }
}

size_t Ddr4Memory::schedule_step(std::vector<Queued>& queue, bool write, SlotTimes& slots,
                                 OfferCache& cache, size_t* waiting) {
  refresh_if_due();
  const Offer o = pick(queue, write, cache);
  Queued& q = queue[o.index];
  const DramCycle t = place_offer(o, q.bank);
  if (!q.touched) {
    // The burst moves on to its bank's commands: its queue slot is free.
    q.touched = true;
    slots.push(t);
    if (waiting) --*waiting;
  }
  calendar_.forget_before(floor());
  switch (o.command) {
    case DramCommand::kPre:
      q.outcome = Outcome::kConflict;
      ++stats_.precharges;
      return kNoBurst;
    case DramCommand::kAct:
      if (q.outcome == Outcome::kHit) q.outcome = Outcome::kMiss;
      ++stats_.activates;
      return kNoBurst;
    default:
      break;
  }
  ++(q.outcome == Outcome::kHit    ? stats_.row_hits
     : q.outcome == Outcome::kMiss ? stats_.row_misses
                                   : stats_.row_conflicts);
  if (closed_page_) {
    // Auto-precharge (RDA/WRA): the device closes the bank by itself as soon
    // as tRTP / write recovery and tRAS allow, without a command-bus slot.
    place(DramCommand::kPre, q.bank, q.row, t, false);
    ++stats_.precharges;
  }
  const DramCycle data_end =
      t + (write ? timing_.write_latency : timing_.read_latency) + timing_.burst_cycles;
  last_data_ = std::max(last_data_, data_end);
  ++(write ? write_bursts_ : read_bursts_);
  queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(o.index));
  return static_cast<size_t>(data_end);
}

DramCycle Ddr4Memory::serve_reads(std::vector<Queued>& bursts, DramCycle arrival) {
  DramCycle done = arrival;
  std::vector<Queued>& queue = read_queue_;
  size_t next = 0;
  size_t waiting = 0;  // queued bursts with no command placed yet (they hold a slot)
  while (next < bursts.size() || !queue.empty()) {
    while (waiting < static_cast<size_t>(kQueueDepth) && next < bursts.size()) {
      Queued b = bursts[next++];
      const DramCycle ready = std::max({arrival, last_entry_, read_slots_.top()});
      b.ready = ready;
      const auto hit = write_buffer_.empty()
                           ? write_buffer_.end()
                           : std::find_if(write_buffer_.begin(), write_buffer_.end(),
                                          [&](const Queued& w) { return w.index == b.index; });
      if (hit != write_buffer_.end()) {
        // Served from the write buffer: the data never reaches the DRAM.
        done = std::max(done, std::max(ready, hit->ready));
        continue;
      }
      last_entry_ = ready;
      read_slots_.pop();
      b.seq = next_seq_++;
      queue.push_back(b);
      ++waiting;
    }
    if (queue.empty()) break;
    const size_t end = schedule_step(queue, false, read_slots_, read_offers_, &waiting);
    if (end != kNoBurst) done = std::max(done, static_cast<DramCycle>(end));
  }
  return done;
}

DramCycle Ddr4Memory::serve_writes(std::vector<Queued>& bursts, DramCycle arrival) {
  DramCycle done = arrival;
  for (size_t k = 0; k < bursts.size(); ++k) {
    Queued b = bursts[k];
    const auto same = std::find_if(write_buffer_.begin(), write_buffer_.end(),
                                   [&](const Queued& w) { return w.index == b.index; });
    // The burst's data crosses to the controller at the channel's data rate.
    DramCycle ready = arrival + static_cast<DramCycle>(k + 1) * timing_.burst_cycles;
    if (same != write_buffer_.end()) {
      done = std::max(done, ready);  // merged into the buffered write
      continue;
    }
    if (write_buffer_.size() == static_cast<size_t>(kWriteBufferDepth)) drain_write_buffer();
    ready = std::max({ready, last_entry_, write_slots_.top()});
    write_slots_.pop();
    b.ready = ready;
    b.seq = next_seq_++;
    last_entry_ = ready;
    write_buffer_.push_back(b);
    done = std::max(done, ready);
  }
  return done;
}

DramCycle Ddr4Memory::floor() const {
  // Bursts enter the controller in the order they are issued, not before
  // the latest arrival; queued reads and buffered writes are placed no
  // earlier than they entered (entry times grow in queue order).
  DramCycle f = std::max(arrival_, last_entry_);
  if (!read_queue_.empty()) f = std::min(f, read_queue_.front().ready);
  if (!write_buffer_.empty()) f = std::min(f, write_buffer_.front().ready);
  return f;
}

void Ddr4Memory::drain_write_buffer() {
  while (!write_buffer_.empty()) {
    schedule_step(write_buffer_, true, write_slots_, write_offers_, nullptr);
  }
}

DramCycle Ddr4Memory::drain() {
  drain_write_buffer();
  return last_data_;
}

DramCycle Ddr4Memory::place(DramCommand command, int bank, int64_t row, DramCycle not_before,
                            bool on_bus) {
  return placed(command, bank, row,
                calendar_.place_at_earliest(command, bank, row, not_before, on_bus));
}

DramCycle Ddr4Memory::place_offer(const Offer& o, int bank) {
  // pick() returns an offer whose cycle is the exact earliest at the current
  // placements: it is placed there without asking the calendar again.
  calendar_.place_exact(o.command, bank, o.row, o.cycle);
  return placed(o.command, bank, o.row, o.cycle);
}

DramCycle Ddr4Memory::placed(DramCommand command, int bank, int64_t row, DramCycle t) {
  // A command at another bank further than the calendar's horizon from an
  // offer's cycle constrains no cycle near it (no rule, tFAW included,
  // reaches that far, and the bus slot differs): an offer exact before this
  // placement stays exact and is not recomputed. Offers at `bank` are
  // dropped by its version.
  const DramCycle horizon = calendar_.horizon();
  for (OfferCache* cache : {&read_offers_, &write_offers_}) {
    for (Offer& o : cache->offers) {
      if (o.seq != kNoBurst && o.stamp == placements_ &&
          (o.cycle > t + horizon || t > o.cycle + horizon)) {
        o.stamp = placements_ + 1;
      }
    }
  }
  ++placements_;
  ++bank_version_[static_cast<size_t>(bank)];
  if (record_) placed_.push_back(PlacedCommand{t, command, bank, row});
  if (command == DramCommand::kAct) add_event(t, +1);
  if (command == DramCommand::kPre) add_event(t, -1);
  return t;
}

void Ddr4Memory::refresh_if_due() {
  // An all-bank refresh is inserted once the controller's time (its latest
  // command) has passed the due time: every bank is closed, and it follows
  // every command placed so far.
  while (calendar_.last_cycle() >= next_refresh_due_) {
    refresh(next_refresh_due_, calendar_.last_cycle());
  }
}

void Ddr4Memory::refresh(DramCycle not_before, DramCycle now) {
  const int open = calendar_.open_banks();
  if (open > 0) {
    const DramCycle t = calendar_.earliest(DramCommand::kPrea, 0, 0, not_before);
    calendar_.place(DramCommand::kPrea, 0, 0, t);
    if (record_) placed_.push_back(PlacedCommand{t, DramCommand::kPrea, 0, 0});
    add_event(t, -open);
    stats_.precharges += static_cast<uint64_t>(open);
    not_before = t + 1;
  }
  const DramCycle t = calendar_.earliest(DramCommand::kRef, 0, 0, not_before);
  uint64_t count = 1;
  if (t == next_refresh_due_ && now > t) {
    // This refresh runs exactly when due, so every later one that falls due
    // by `now` can too (all banks stay closed and tREFI > tRFC): count them
    // at once instead of one by one over a long idle gap.
    count += static_cast<uint64_t>((now - t) / timing_.refresh_interval);
  }
  const DramCycle last = t + static_cast<DramCycle>(count - 1) * timing_.refresh_interval;
  calendar_.place(DramCommand::kRef, 0, 0, last);
  if (record_) placed_.push_back(PlacedCommand{last, DramCommand::kRef, 0, 0});
  stats_.refreshes += count;
  ++refresh_generation_;
  next_refresh_due_ += static_cast<DramCycle>(count) * timing_.refresh_interval;
}

void Ddr4Memory::integrate(DramCycle from, DramCycle to, int open, uint64_t& active,
                           uint64_t& precharged) const {
  for (const auto& [begin, end] : windows_) {
    const DramCycle lo = std::max(from, begin);
    const DramCycle hi = std::min(to, end);
    if (hi > lo) (open > 0 ? active : precharged) += static_cast<uint64_t>(hi - lo);
  }
}

void Ddr4Memory::add_event(DramCycle cycle, int delta) {
  // Kept in time order (placements land near the end).
  const auto at =
      std::upper_bound(events_.begin(), events_.end(), cycle,
                       [](DramCycle c, const std::pair<DramCycle, int>& e) { return c < e.first; });
  events_.insert(at, {cycle, delta});
}

void Ddr4Memory::settle_background(DramCycle up_to) {
  // No command will be placed before `up_to`: the events before it are final.
  size_t k = 0;
  for (; k < events_.size() && events_[k].first < up_to; ++k) {
    integrate(background_time_, events_[k].first, background_open_banks_, active_standby_tck_,
              precharge_standby_tck_);
    background_time_ = std::max(background_time_, events_[k].first);
    background_open_banks_ += events_[k].second;
  }
  events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(k));
  if (up_to > background_time_) {
    integrate(background_time_, up_to, background_open_banks_, active_standby_tck_,
              precharge_standby_tck_);
    background_time_ = up_to;
  }
  while (!windows_.empty() && windows_.front().second <= background_time_ && windows_.size() > 1) {
    windows_.erase(windows_.begin());
  }
}

void Ddr4Memory::update_energy() {
  // The background not yet final (events after the last arrival) is
  // estimated as if no command followed; the next transfer settles it.
  const std::vector<std::pair<DramCycle, int>>& pending = events_;
  uint64_t active = active_standby_tck_, precharged = precharge_standby_tck_;
  DramCycle time = background_time_;
  int open = background_open_banks_;
  for (const auto& [cycle, delta] : pending) {
    integrate(time, cycle, open, active, precharged);
    time = std::max(time, cycle);
    open += delta;
  }
  if (!windows_.empty()) integrate(time, windows_.back().second, open, active, precharged);
  // Recomputed from integer counts, so the figure does not depend on the
  // order or grouping of the transfers that produced them.
  stats_.current_energy_pj = act_pj_ * static_cast<double>(stats_.activates) +
                             read_pj_ * static_cast<double>(read_bursts_) +
                             write_pj_ * static_cast<double>(write_bursts_) +
                             ref_pj_ * static_cast<double>(stats_.refreshes) +
                             active_standby_pj_per_tck_ * static_cast<double>(active) +
                             precharge_standby_pj_per_tck_ * static_cast<double>(precharged);
}

std::string Ddr4Memory::describe() const {
  const frontend::Ddr4Config& c = config_;
  return fmt::format(
      "ddr4: {}-bit channel of {} x{} devices, tCK {} ps ({:.0f} MT/s), {} bank groups x {} banks "
      "x "
      "{} rows x {} columns, BL{} ({} B bursts), CL-tRCD-tRP {}-{}-{}, tRFC {} / tREFI {}, "
      "{} page, FR-FCFS queue {} / write buffer {}, mapping {}; peak {:.1f} bits per accelerator "
      "cycle "
      "({} ps)",
      c.channel_width_bits, c.channel_width_bits / c.device_width_bits, c.device_width_bits,
      dram_period_ps_, 2e6 / static_cast<double>(dram_period_ps_), c.bank_groups, c.banks_per_group,
      c.rows, c.columns, c.burst_length, burst_bits_ / 8, c.CL, c.tRCD, c.tRP, c.tRFC, c.tREFI,
      to_string(c.page_policy), kQueueDepth, kWriteBufferDepth, mapping_name(),
      peak_bits_per_accelerator_cycle(), accel_period_ps_);
}

}  // namespace palsim::sim
