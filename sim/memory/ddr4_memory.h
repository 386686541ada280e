#pragma once
// The DDR4 off-chip model: one channel, one rank, bank groups x banks, rows
// opened and closed, all-bank refresh, a controller with bank-level
// parallelism (a transaction queue scheduled first-ready first-come-first-
// served, posted writes), and a current-based (IDD) energy estimate.
//
// A DramAccess is split into its contiguous runs and each run into aligned
// bursts of burst_length x channel_width_bits bits (a partial burst moves a
// whole burst: over-fetch). Each burst is mapped to (bank group, bank, row,
// column) and served by the commands it needs (PRE, ACT, RD/WR), each placed
// at the earliest cycle the Ddr4CommandCalendar allows: commands to
// different banks overlap within tRRD, tFAW, tCCD and the data bus, and a
// bank's commands follow one another (see docs/ddr4_validation.md).
//
// Scheduling (after DRAMsim3's controller, trans_queue_size 32):
// - Reads: a transaction queue of kQueueDepth bursts. A burst enters when a
//   slot is free and not before its transfer arrives; bursts enter in the
//   order they are issued (reads and writes alike). A slot frees when the
//   burst's first command is placed (the burst moves on to its bank, as a
//   DRAMsim3 transaction moves to its per-bank command queue).
// - First-ready FCFS, one command at a time: each bank offers the next
//   command (PRE, ACT or RD/WR) of its oldest queued burst that hits the open
//   row, or, if none does, of its oldest burst (so a precharge never closes a
//   row with pending hits); the offer that can issue earliest is placed, ties
//   going to column commands, then to the oldest burst.
// - Writes are posted: a write burst enters a write buffer of
//   kWriteBufferDepth bursts as its data arrives (at the channel's data rate)
//   and the transfer is complete when its last burst is in the buffer. The
//   buffer is drained whole, in the same first-ready order, when it is full
//   or when a transfer finds the channel idle (DRAMsim3 drains when full or
//   when its command queues are empty); the read/write turnarounds (tWTR,
//   read-to-write) are then paid once per drain. A read of a burst still in
//   the buffer is served from it.
// - Refresh: once the controller's time (its latest command) passes the due
//   time, every bank is precharged (PREA) and an all-bank REF follows every
//   command placed so far. A burst whose row was opened but not yet read
//   activates it again, as in DRAMsim3.
// The model stays transfer-level: serve() returns when the access's data is
// complete. A transfer's bursts are known only when it arrives, so the queue
// reorders within a transfer (and the write buffer across transfers);
// commands of a later transfer may use idle bank and bus slots left by an
// earlier one.
//
// Address mapping (burst address = bit address / burst bits; fields from the
// most significant end), chosen per page policy:
//   open page:    row : bank : column : bank group
//   closed page:  row : column : bank : bank group
// Open page: consecutive bursts alternate bank groups, so a sequential stream
// is paced by tCCD_S (= BL/2 with the shipped values: the data bus never
// idles) instead of tCCD_L; the column comes next, so a stream stays in the
// open rows of the bank groups for columns / BL bursts each (row hits); then
// the bank, so the stream moves on to a fresh bank rather than a conflicting
// row of the same one; the row is at the top, so two addresses conflict in a
// bank only if they are a whole "bank group x column x bank" span apart
// (64 KiB with the shipped values).
// Closed page: every burst opens its row anyway (auto-precharge), so
// consecutive bursts go to different banks (all banks of all groups in turn)
// and their row cycles overlap; the stream is then bounded by tFAW rather
// than by tRC of one bank.
// Addresses beyond the device wrap around (row modulo rows).
//
// Time: the DRAM runs at tck_ns, the accelerator at clock_mhz. Both periods
// are whole picoseconds (accelerator: round(1e6 / clock_mhz), DRAM:
// round(tck_ns * 1000)); cycle 0 of both clocks is time 0. An access that may
// start at accelerator cycle c is seen by the DRAM at the first DRAM cycle at
// or after c's time, and is complete at the first accelerator cycle at or
// after the time its last data has moved.
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "sim/memory/ddr4_calendar.h"
#include "sim/memory/ddr4_timing.h"
#include "sim/memory/offchip_memory.h"

namespace palsim::sim {

class Ddr4Memory final : public OffchipMemory {
 public:
  // DRAMsim3's DDR4 configurations: trans_queue_size = 32 (read queue and write buffer).
  static constexpr int kQueueDepth = 32;
  static constexpr int kWriteBufferDepth = 32;

  // Throws InputError if the parameters cannot describe a device (see
  // Ddr4Timing::from_config and the checks in the constructor).
  Ddr4Memory(const frontend::Ddr4Config& config, double clock_mhz);

  // Serves the access (see the scheduling notes above). An access that
  // arrives while an earlier one is still in flight queues behind it, and the
  // wait is part of the returned duration. An empty access takes 0 cycles and
  // is not counted.
  uint64_t serve(uint64_t start_cycle, const DramAccess& access) override;
  const DramStats& stats() const override { return stats_; }
  std::string describe() const override;

  // Drains the write buffer now and returns the DRAM cycle at which every
  // burst moved so far has crossed the data bus (for measurements that must
  // include the posted writes; the simulators do not need it).
  DramCycle drain();

  struct Location {
    int bank_group = 0;
    int bank = 0;  // within its bank group
    int64_t row = 0;
    int column = 0;  // first column of the burst
  };
  // Where the burst with address `burst_index` (= bit address / burst_bits()) lives.
  Location map_burst(uint64_t burst_index) const;
  uint64_t burst_bits() const { return burst_bits_; }
  int64_t accelerator_period_ps() const { return accel_period_ps_; }
  int64_t dram_period_ps() const { return dram_period_ps_; }
  // Peak data rate: channel_width_bits twice per tCK (double data rate).
  double peak_bits_per_accelerator_cycle() const;
  const Ddr4Timing& timing() const { return timing_; }
  // "row:bank:column:bankgroup" (open page) or "row:column:bank:bankgroup" (closed page).
  const char* mapping_name() const;

  // Every command placed, in placement order (not cycle order), when
  // enabled: tests replay them through Ddr4TimingChecker.
  struct PlacedCommand {
    DramCycle cycle;
    DramCommand command;
    int bank;
    int64_t row;
  };
  void record_commands(bool on) { record_ = on; }
  const std::vector<PlacedCommand>& placed_commands() const { return placed_; }

 private:
  // A burst address decomposed into the fields of the mapping, stepped from
  // one burst to the next without dividing.
  struct Cursor {
    int bank_group;
    int column_burst;  // column / burst_length
    int bank;
    int64_t row;
  };
  Cursor cursor_at(uint64_t burst_index) const;
  void step(Cursor& cursor) const;
  int calendar_bank(const Cursor& cursor) const;

  // A burst waiting in the read queue or the write buffer.
  enum class Outcome : uint8_t { kHit, kMiss, kConflict };  // what its row needed
  struct Queued {
    uint64_t index;  // burst address
    int bank;        // bank_group * banks_per_group + bank
    int64_t row;
    DramCycle ready;       // entered the queue
    bool touched = false;  // a command of it has been placed
    Outcome outcome = Outcome::kHit;
    uint64_t seq = 0;  // entry order, reads and writes alike
  };
  using SlotTimes = std::priority_queue<DramCycle, std::vector<DramCycle>, std::greater<>>;
  static constexpr size_t kNoBurst = static_cast<size_t>(-1);
  // The access's bursts, in order, with runs that share a burst merged.
  void collect(const DramAccess& access, std::vector<Queued>& out);
  DramCycle serve_reads(std::vector<Queued>& bursts, DramCycle arrival);
  DramCycle serve_writes(std::vector<Queued>& bursts, DramCycle arrival);
  // A bank's offer: the next command of one queued burst and its earliest
  // cycle (exact, or a lower bound computed before later placements).
  struct Offer {
    size_t index = 0;         // in the queue
    uint64_t seq = kNoBurst;  // the burst (kNoBurst: no offer)
    DramCommand command = DramCommand::kAct;
    int64_t row = 0;
    DramCycle cycle = 0;
    bool exact = false;
    uint64_t stamp = 0;    // placements_ when `cycle` was computed (exact while equal)
    uint64_t version = 0;  // bank_version_ of its bank then (the offer holds while equal)
  };
  struct OfferCache {
    std::vector<Offer> offers;  // by bank
    uint64_t generation = 0;    // refresh_generation_ when filled
  };
  // The next command to place for the bursts in `queue` (first-ready).
  Offer pick(const std::vector<Queued>& queue, bool write, OfferCache& cache) const;
  // Places the next command; if it was a burst's column command, removes the
  // burst and returns the cycle its data is complete, else kNoBurst.
  // `waiting` counts the queued bursts that have no command placed yet.
  size_t schedule_step(std::vector<Queued>& queue, bool write, SlotTimes& slots, OfferCache& cache,
                       size_t* waiting);
  DramCycle place(DramCommand command, int bank, int64_t row, DramCycle not_before,
                  bool on_bus = true);
  DramCycle place_offer(const Offer& offer, int bank);
  // Bookkeeping after a command is placed at `bank` at cycle `t`; returns t.
  DramCycle placed(DramCommand command, int bank, int64_t row, DramCycle t);
  void drain_write_buffer();
  // No command will be placed before this cycle any more.
  DramCycle floor() const;
  void refresh_if_due();
  void refresh(DramCycle not_before, DramCycle now);

  // Background energy: the count of open banks over time, charged inside the
  // busy windows (arrival to last data of each transfer, merged). Commands
  // are placed out of time order, so bank open/close events wait in events_
  // until no command can be placed before them (the next arrival).
  void add_event(DramCycle cycle, int delta);
  void settle_background(DramCycle up_to);
  void integrate(DramCycle from, DramCycle to, int open, uint64_t& active,
                 uint64_t& precharged) const;
  void update_energy();

  frontend::Ddr4Config config_;
  Ddr4Timing timing_;
  Ddr4CommandCalendar calendar_;
  bool closed_page_;
  uint64_t burst_bits_;
  int columns_per_row_in_bursts_;
  int64_t accel_period_ps_;
  int64_t dram_period_ps_;
  double devices_;

  // Energy of one event or one cycle, pJ (see update_energy for the formulas).
  double act_pj_ = 0, read_pj_ = 0, write_pj_ = 0, ref_pj_ = 0;
  double active_standby_pj_per_tck_ = 0, precharge_standby_pj_per_tck_ = 0;

  // Queue state (DRAM cycles): when each free slot of the read queue / the
  // write buffer became free (a burst leaves once its first command is
  // placed, as a transaction moves on to the bank's command queue); a new
  // burst takes the earliest.
  SlotTimes read_slots_, write_slots_;
  DramCycle last_entry_ = 0;        // bursts enter in issue order, reads and writes alike
  std::vector<Queued> read_queue_;  // empty between transfers
  mutable std::vector<size_t> offer_hit_, offer_any_;  // pick()'s scratch, per bank
  OfferCache read_offers_, write_offers_;
  uint64_t next_seq_ = 0;
  uint64_t refresh_generation_ = 0;     // refreshes change every bank's state
  uint64_t placements_ = 0;             // commands placed so far
  std::vector<uint64_t> bank_version_;  // commands placed at each bank so far
  std::vector<Queued> write_buffer_;
  DramCycle arrival_ = 0;    // the latest transfer's arrival
  DramCycle last_data_ = 0;  // last data on the bus so far
  DramCycle next_refresh_due_ = 0;
  uint64_t busy_until_ = 0;  // accelerator cycle: the latest completion so far

  // Background bookkeeping.
  std::vector<std::pair<DramCycle, int>> events_;         // (cycle, change of open banks)
  std::vector<std::pair<DramCycle, DramCycle>> windows_;  // busy windows [begin, end)
  int background_open_banks_ = 0;
  DramCycle background_time_ = 0;
  uint64_t active_standby_tck_ = 0, precharge_standby_tck_ = 0;
  uint64_t read_bursts_ = 0, write_bursts_ = 0;

  bool record_ = false;
  std::vector<PlacedCommand> placed_;

  DramStats stats_;
};

}  // namespace palsim::sim
