#pragma once
// The DDR4 off-chip model: one channel, one rank, bank groups x banks, rows
// opened and closed, all-bank refresh, in-order (FCFS) command scheduling,
// and a current-based (IDD) energy estimate.
//
// A DramAccess is split into its contiguous runs and each run into aligned
// bursts of burst_length x channel_width_bits bits (a partial burst moves a
// whole burst: over-fetch). Each burst is mapped to (bank group, bank, row,
// column) and served by the commands it needs, each issued at the earliest
// cycle the Ddr4TimingChecker allows, one command per tCK, in order.
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
// Closed page: every burst opens its row anyway, so consecutive bursts go to
// different banks (all banks of all groups in turn) and their row cycles
// overlap; the stream is then bounded by tFAW rather than by tRC of one bank.
// Addresses beyond the device wrap around (row modulo rows).
//
// Time: the DRAM runs at tck_ns, the accelerator at clock_mhz. Both periods
// are whole picoseconds (accelerator: round(1e6 / clock_mhz), DRAM:
// round(tck_ns * 1000)); cycle 0 of both clocks is time 0. An access that may
// start at accelerator cycle c is seen by the DRAM at the first DRAM cycle at
// or after c's time, and is complete at the first accelerator cycle at or
// after the time its last data has moved.
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "sim/memory/ddr4_timing.h"
#include "sim/memory/offchip_memory.h"

namespace palsim::sim {

class Ddr4Memory final : public OffchipMemory {
 public:
  // Throws InputError if the parameters cannot describe a device (see
  // Ddr4Timing::from_config and the checks in the constructor).
  Ddr4Memory(const frontend::Ddr4Config& config, double clock_mhz);

  // Serves the access (one transfer at a time: an access that arrives while
  // the previous one is still moving data starts when it is done, and the
  // wait is part of the returned duration). An empty access takes 0 cycles
  // and is not counted.
  uint64_t serve(uint64_t start_cycle, const DramAccess& access) override;
  const DramStats& stats() const override { return stats_; }
  std::string describe() const override;

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

  void serve_run(uint64_t first_bit, uint64_t bits, bool write);
  void serve_burst(int bank, int64_t row, bool write);
  // Issues a command on the command bus at the earliest legal cycle >= `not_before`.
  DramCycle issue_on_bus(DramCommand command, int bank, int64_t row, DramCycle not_before);
  void refresh_if_due();
  void refresh(DramCycle not_before);

  // Background energy: the count of open banks over time, integrated inside
  // the busy windows. State changes arrive in time order, except the
  // auto-precharges of the closed-page policy, which wait in pending_closes_.
  void bank_state_change(DramCycle at, int delta_open);
  void drain_pending_closes(DramCycle up_to);
  void advance_background(DramCycle to);
  void update_energy();

  frontend::Ddr4Config config_;
  Ddr4Timing timing_;
  Ddr4TimingChecker checker_;
  bool closed_page_;
  uint64_t burst_bits_;
  int columns_per_row_in_bursts_;
  int64_t accel_period_ps_;
  int64_t dram_period_ps_;
  double devices_;

  // Energy of one event or one cycle, pJ (see update_energy for the formulas).
  double act_pj_ = 0, read_pj_ = 0, write_pj_ = 0, ref_pj_ = 0;
  double active_standby_pj_per_tck_ = 0, precharge_standby_pj_per_tck_ = 0;

  // Scheduling state (DRAM cycles).
  DramCycle arrival_ = 0;        // the current transfer's arrival
  DramCycle last_command_ = -1;  // last command on the command bus
  DramCycle previous_done_ = 0;  // data of the previous transfer complete
  DramCycle done_ = 0;           // data of the current transfer complete (so far)
  DramCycle next_refresh_due_ = 0;
  uint64_t busy_until_ = 0;  // accelerator cycle at which the channel is free
  uint64_t last_burst_ = 0;  // last burst moved by the current transfer
  bool have_last_burst_ = false;

  // Background bookkeeping.
  int background_open_banks_ = 0;
  DramCycle background_time_ = 0;
  DramCycle window_begin_ = 0, window_end_ = 0;            // current busy window [begin, end)
  std::vector<std::pair<DramCycle, int>> pending_closes_;  // (cycle, bank), at most one per bank
  uint64_t active_standby_tck_ = 0, precharge_standby_tck_ = 0;
  uint64_t read_bursts_ = 0, write_bursts_ = 0;

  DramStats stats_;
};

}  // namespace palsim::sim
