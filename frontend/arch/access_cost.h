#pragma once
// What a transfer costs the configured off-chip memory, priced from its
// description alone (after DRAMsim3's and Ramulator's tiny memory interfaces:
// construct from the configuration, then ask). The mapper ranks tilings with
// it before any program exists; the statistics count every transfer's moved
// bits with it; the bandwidth model serves transfers by the same formula. The
// DDR4 timing simulation (sim/memory/ddr4_memory.h) moves the same bursts
// (for_each_burst_range) and is tested against these prices
// (tests/frontend/test_access_cost.cpp, tests/sim/test_mapper_vs_dram.cpp).
#include <cstdint>
#include <memory>
#include <string>

#include "frontend/arch/dram_access.h"
#include "frontend/arch/hw_config.h"

namespace palsim::frontend {

struct TransferPrice {
  uint64_t moved_bits = 0;  // bits on the bus: the requested bits, rounded out to whole bursts
  double cycles = 0;        // accelerator cycles from request to the last data
};

class AccessCost {
 public:
  virtual ~AccessCost() = default;
  virtual TransferPrice price(const DramAccess& access) const = 0;
  // Bits one transfer moves beyond what it asks for are counted in whole
  // units of this (1 for a channel without bursts). A price does not change
  // when the transfer moves by a whole multiple of it (CachedAccessCost
  // relies on this; tests/frontend/test_access_cost.cpp checks it).
  virtual uint64_t granularity_bits() const = 0;
  // Accelerator cycles from a request to its first data.
  virtual double latency_cycles() const = 0;
  // The data rate of one long sequential transfer (bits per accelerator cycle).
  virtual double sequential_bits_per_cycle() const = 0;
  // Whether a transfer's shape (runs, strides, alignment) changes its price;
  // if not, a stream of transfers costs its bits at the sequential rate plus
  // one latency per transfer, and the mapper need not build the accesses.
  virtual bool prices_by_shape() const = 0;
};

// The bandwidth + latency channel: latency_cycles + ceil(bits / bits_per_cycle);
// moves exactly what is asked.
class BandwidthCost final : public AccessCost {
 public:
  explicit BandwidthCost(const OffchipConfig& config);
  TransferPrice price(const DramAccess& access) const override;
  uint64_t granularity_bits() const override { return 1; }
  double latency_cycles() const override { return static_cast<double>(latency_); }
  double sequential_bits_per_cycle() const override { return static_cast<double>(bits_per_cycle_); }
  bool prices_by_shape() const override { return false; }
  // The formula on a bit count (the bandwidth model serves by it).
  uint64_t cycles_for_bits(uint64_t bits) const;

 private:
  uint64_t bits_per_cycle_;
  uint64_t latency_;
};

// DDR4: the transfer moves whole bursts (for_each_burst_range). Its time is
// the first burst's row activation and CAS latency (tRCD + CL), then each
// range of consecutive bursts at the data rate (BL/2 tCK per burst, bank
// groups alternating so tCCD_S paces it), a range that does not continue the
// previous one opening a row, of which the rank allows four per tFAW; the
// total is stretched by the refresh duty (tRFC of every tREFI). Exact in
// its burst count up to kSampledRuns runs (closed form when every run is
// aligned alike), extrapolated beyond.
class Ddr4Cost final : public AccessCost {
 public:
  // Runs priced one by one in a transfer whose runs are not all aligned
  // alike; the rest is extrapolated from them.
  static constexpr uint64_t kSampledRuns = 256;
  Ddr4Cost(const Ddr4Config& config, double clock_mhz);
  TransferPrice price(const DramAccess& access) const override;
  uint64_t granularity_bits() const override { return burst_bits_; }
  double latency_cycles() const override;
  double sequential_bits_per_cycle() const override;
  bool prices_by_shape() const override { return true; }
  uint64_t burst_bits() const { return burst_bits_; }

 private:
  uint64_t burst_bits_;
  double burst_tck_;     // data-bus time of one burst
  double activate_tck_;  // tFAW / 4: the rank's activate rate
  double latency_tck_;   // tRCD + CL
  double refresh_stretch_;
  double accel_cycles_per_tck_;
};

// Bits of one DDR4 burst: the channel's width times the burst length.
uint64_t ddr4_burst_bits(const Ddr4Config& config);
// What `access` moves on the configured channel (AccessCost::price's
// moved_bits without building a pricer): the statistics count it per job.
uint64_t transfer_moved_bits(const OffchipConfig& config, const DramAccess& access);

std::unique_ptr<AccessCost> make_access_cost(const OffchipConfig& config, double clock_mhz);

}  // namespace palsim::frontend
