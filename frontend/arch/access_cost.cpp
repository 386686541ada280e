#include "frontend/arch/access_cost.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace palsim::frontend {

BandwidthCost::BandwidthCost(const OffchipConfig& config) : bits_per_cycle_(0), latency_(0) {
  // The YAML reader checks these ranges too; a config built in code must not
  // reach a division by zero or a negative latency either.
  if (config.bits_per_cycle < 1) {
    throw InputError(
        fmt::format("offchip.bits_per_cycle: must be at least 1, got {}", config.bits_per_cycle));
  }
  if (config.latency_cycles < 0) {
    throw InputError(
        fmt::format("offchip.latency_cycles: must not be negative, got {}", config.latency_cycles));
  }
  bits_per_cycle_ = static_cast<uint64_t>(config.bits_per_cycle);
  latency_ = static_cast<uint64_t>(config.latency_cycles);
}

uint64_t BandwidthCost::cycles_for_bits(uint64_t bits) const {
  if (bits == 0) return 0;
  return latency_ + (bits + bits_per_cycle_ - 1) / bits_per_cycle_;
}

TransferPrice BandwidthCost::price(const DramAccess& access) const {
  const uint64_t bits = access.total_bits();
  return {bits, static_cast<double>(cycles_for_bits(bits))};
}

Ddr4Cost::Ddr4Cost(const Ddr4Config& c, double clock_mhz) {
  if (c.channel_width_bits < 1 || c.burst_length < 1 || c.tck_ns <= 0 || clock_mhz <= 0 ||
      c.tREFI <= c.tRFC) {
    throw InputError(
        "offchip.ddr4: channel_width_bits, burst_length, tck_ns and the clock must be positive and "
        "tREFI must exceed tRFC");
  }
  burst_bits_ = ddr4_burst_bits(c);
  burst_tck_ = std::max(c.burst_length / 2.0, static_cast<double>(c.tCCD_S));
  activate_tck_ = c.tFAW / 4.0;
  latency_tck_ = c.tRCD + c.CL;
  refresh_stretch_ = static_cast<double>(c.tREFI) / (c.tREFI - c.tRFC);
  accel_cycles_per_tck_ = c.tck_ns * clock_mhz / 1000.0;
}

double Ddr4Cost::latency_cycles() const {
  return latency_tck_ * accel_cycles_per_tck_;
}

double Ddr4Cost::sequential_bits_per_cycle() const {
  return static_cast<double>(burst_bits_) / (burst_tck_ * refresh_stretch_ * accel_cycles_per_tck_);
}

TransferPrice Ddr4Cost::price(const DramAccess& access) const {
  TransferPrice p;
  if (access.total_bits() == 0) return p;
  // A range of n bursts that does not continue the previous range opens a
  // row: it takes at least the activate slot, max(n x burst, tFAW / 4).
  auto row_wait = [&](uint64_t n) {
    return std::max(0.0, activate_tck_ - static_cast<double>(n) * burst_tck_);
  };
  uint64_t bursts = 0;
  double waits = 0;
  const DramAccess a = fold_contiguous_runs(access);
  const uint64_t b = burst_bits_;
  // Runs whose strides are whole bursts all start at the same offset in a
  // burst: closed form (tiles of blocked tensors, mostly), no run shares a
  // burst with the previous one when the strides clear each run.
  const uint64_t per_run = (a.base_bit % b + a.run_bits - 1) / b + 1;
  const uint64_t is = a.inner_stride_bits / b, os = a.outer_stride_bits / b;
  const uint64_t inner_span = (a.inner_count - 1) * is + per_run;
  if (a.inner_stride_bits % b == 0 && a.outer_stride_bits % b == 0 &&
      (a.inner_count == 1 || is >= per_run) && (a.outer_count == 1 || os >= inner_span)) {
    const uint64_t runs = uint64_t{a.inner_count} * a.outer_count;
    bursts = runs * per_run;
    const uint64_t continuing =
        (a.inner_count > 1 && is == per_run ? (a.inner_count - 1) * a.outer_count : 0) +
        (a.outer_count > 1 && os == inner_span ? a.outer_count - 1 : 0);
    waits = static_cast<double>(runs - 1 - continuing) * row_wait(per_run);
  } else {
    // Irregular runs: walked one by one, the first kSampledRuns of them;
    // beyond that the rest repeats their alignments and is extrapolated
    // (moved bits rounded to whole bursts).
    DramAccess sample = a;
    const uint64_t runs = uint64_t{a.inner_count} * a.outer_count;
    if (runs > kSampledRuns) {
      if (a.inner_count >= kSampledRuns) {
        sample.inner_count = static_cast<uint32_t>(kSampledRuns);
        sample.outer_count = 1;
      } else {
        sample.outer_count = static_cast<uint32_t>(kSampledRuns / a.inner_count);
      }
    }
    bool first_range = true;
    uint64_t previous_last = 0;
    for_each_burst_range(sample, b, [&](uint64_t first, uint64_t last) {
      bursts += last - first + 1;
      if (!first_range && first != previous_last + 1) waits += row_wait(last - first + 1);
      first_range = false;
      previous_last = last;
    });
    const uint64_t sampled = uint64_t{sample.inner_count} * sample.outer_count;
    if (sampled < runs) {
      const double scale = static_cast<double>(runs) / static_cast<double>(sampled);
      bursts = static_cast<uint64_t>(std::llround(static_cast<double>(bursts) * scale));
      waits *= scale;
    }
  }
  const double tck = latency_tck_ + static_cast<double>(bursts) * burst_tck_ + waits;
  p.moved_bits = bursts * b;
  p.cycles = tck * refresh_stretch_ * accel_cycles_per_tck_;
  return p;
}

uint64_t ddr4_burst_bits(const Ddr4Config& c) {
  return static_cast<uint64_t>(c.channel_width_bits) * static_cast<uint64_t>(c.burst_length);
}

uint64_t transfer_moved_bits(const OffchipConfig& config, const DramAccess& access) {
  if (config.model != OffchipModel::kDdr4) return access.total_bits();
  const uint64_t burst = ddr4_burst_bits(config.ddr4);
  return bursts_moved(access, burst) * burst;
}

std::unique_ptr<AccessCost> make_access_cost(const OffchipConfig& config, double clock_mhz) {
  switch (config.model) {
    case OffchipModel::kBandwidth:
      return std::make_unique<BandwidthCost>(config);
    case OffchipModel::kDdr4:
      return std::make_unique<Ddr4Cost>(config.ddr4, clock_mhz);
  }
  throw InternalError("an off-chip model without an access cost");
}

}  // namespace palsim::frontend
