#include "frontend/arch/cached_access_cost.h"

#include <utility>

namespace palsim::frontend {

namespace {

// splitmix64's finaliser: spreads every input bit over the word.
uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

bool CachedAccessCost::Key::operator==(const Key& o) const {
  return write == o.write && base_offset == o.base_offset && run_bits == o.run_bits &&
         inner_count == o.inner_count && inner_stride_bits == o.inner_stride_bits &&
         outer_count == o.outer_count && outer_stride_bits == o.outer_stride_bits;
}

size_t CachedAccessCost::KeyHash::operator()(const Key& k) const {
  uint64_t h = mix(k.write ? 1 : 0, k.base_offset);
  h = mix(h, k.run_bits);
  h = mix(h, (uint64_t{k.inner_count} << 32) | k.outer_count);
  h = mix(h, k.inner_stride_bits);
  return static_cast<size_t>(mix(h, k.outer_stride_bits));
}

CachedAccessCost::CachedAccessCost(std::unique_ptr<AccessCost> cost)
    : cost_(std::move(cost)), granularity_(cost_->granularity_bits()) {}

TransferPrice CachedAccessCost::price(const DramAccess& access) const {
  const Key key{access.write,
                access.base_bit % granularity_,
                access.run_bits,
                access.inner_count,
                access.inner_stride_bits,
                access.outer_count,
                access.outer_stride_bits};
  const auto found = cache_.find(key);
  if (found != cache_.end()) {
    ++hits_;
    return found->second;
  }
  const TransferPrice p = cost_->price(access);
  cache_.emplace(key, p);
  return p;
}

std::unique_ptr<AccessCost> make_cached_access_cost(const OffchipConfig& config, double clock_mhz) {
  std::unique_ptr<AccessCost> cost = make_access_cost(config, clock_mhz);
  if (!cost->prices_by_shape()) return cost;
  return std::make_unique<CachedAccessCost>(std::move(cost));
}

}  // namespace palsim::frontend
