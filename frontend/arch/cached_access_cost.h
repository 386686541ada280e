#pragma once
// An AccessCost that remembers the prices it has given. The mapper prices
// the tile transfers of every tiling and loop order it visits, and most of
// them repeat: the same tile shape at the same alignment in a burst, at
// another address. A price is invariant under moving the transfer by a whole
// multiple of the memory's granularity_bits() (AccessCost's contract), so the
// cache keys a transfer by its shape and its base address modulo that
// granularity. Not thread-safe: one per search (each layer's search has its
// own evaluator, and so its own cache).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "frontend/arch/access_cost.h"

namespace palsim::frontend {

class CachedAccessCost final : public AccessCost {
 public:
  explicit CachedAccessCost(std::unique_ptr<AccessCost> cost);
  TransferPrice price(const DramAccess& access) const override;
  uint64_t granularity_bits() const override { return cost_->granularity_bits(); }
  double latency_cycles() const override { return cost_->latency_cycles(); }
  double sequential_bits_per_cycle() const override { return cost_->sequential_bits_per_cycle(); }
  bool prices_by_shape() const override { return cost_->prices_by_shape(); }
  // Prices answered from the cache / computed by the wrapped cost.
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return cache_.size(); }

 private:
  struct Key {
    bool write;
    uint64_t base_offset;  // base_bit modulo the granularity
    uint64_t run_bits;
    uint32_t inner_count;
    uint64_t inner_stride_bits;
    uint32_t outer_count;
    uint64_t outer_stride_bits;
    bool operator==(const Key& o) const;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  std::unique_ptr<AccessCost> cost_;
  uint64_t granularity_;
  mutable std::unordered_map<Key, TransferPrice, KeyHash> cache_;
  mutable uint64_t hits_ = 0;
};

// The configured memory's cost, cached when its prices depend on a
// transfer's shape (a price by bit count alone is cheaper than a lookup).
std::unique_ptr<AccessCost> make_cached_access_cost(const OffchipConfig& config, double clock_mhz);

}  // namespace palsim::frontend
