#pragma once
// How a search walks the map space (after Timeloop's search algorithms):
// next() proposes a tiling (array mode and tile sizes), the evaluator
// estimates every point of it (each loop order and DMA level: they share
// the tiling's volumes, so they are priced together) and report() tells the
// policy what came of it. A new strategy is one new class here; the ranking
// and the exact pruning (ranking.h, map_evaluator.h) serve every policy.
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "frontend/mapping/map_space.h"

namespace palsim::frontend {

// What became of one proposed tiling.
struct TilingReport {
  bool pruned = false;       // its compute bound could not enter the ranking: not evaluated
  int64_t evaluated = 0;     // its points estimated (those that fit)
  int64_t best_cycles = -1;  // fewest estimated cycles among them (-1: none fit)
};

class SearchPolicy {
 public:
  virtual ~SearchPolicy() = default;
  // The next tiling to evaluate (a Mapping whose mode and tiles are set;
  // valid until the next call), or nullptr when the policy is done.
  virtual const Mapping* next() = 0;
  virtual void report(const TilingReport& outcome) = 0;
};

// Makes the policy for one space (a search may cover several: one per pack).
using PolicyFactory = std::function<std::unique_ptr<SearchPolicy>(const MapSpace&)>;

// The default: every tiling, modes outermost, then tile N, H, W, M, C (C
// innermost), each axis in its own order. The mapper's results and their
// tie-breaks are defined by this order.
class ExhaustivePolicy final : public SearchPolicy {
 public:
  explicit ExhaustivePolicy(const MapSpace& space);
  const Mapping* next() override;
  void report(const TilingReport&) override {}

 private:
  const MapSpace& space_;
  std::array<size_t, 1 + kLoopDims> at_{};  // mode, then the tile axes
  bool done_ = false;
  Mapping current_;
};

// `samples` tilings drawn uniformly (with repetition) from the space, from
// a fixed seed: a quick look at a large space, and the pattern for a
// sampling strategy.
class RandomPolicy final : public SearchPolicy {
 public:
  RandomPolicy(const MapSpace& space, int64_t samples, uint64_t seed);
  const Mapping* next() override;
  void report(const TilingReport&) override {}

 private:
  const MapSpace& space_;
  int64_t left_;
  std::mt19937_64 rng_;
  Mapping current_;
};

PolicyFactory exhaustive_policy();
PolicyFactory random_policy(int64_t samples, uint64_t seed);

// The tiling at `at` (mode index, then one index per tile axis).
Mapping tiling_at(const MapSpace& space, const std::array<size_t, 1 + kLoopDims>& at);

}  // namespace palsim::frontend
