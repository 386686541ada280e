#pragma once
// The candidates a search keeps, and the order the mapper returns them in:
// the `count` best by estimated (cycles, energy, DRAM bits) and, with
// several, the `count` most energy-lean within kLeanSlack of the fastest
// (the final choice is made by simulation, which may differ from the
// estimate). Ties keep the first offered: the ranking depends on the order
// a policy visits points in, which the exhaustive policy fixes.
#include <array>
#include <cstdint>
#include <vector>

#include "frontend/mapping/mapping.h"

namespace palsim::frontend {

// Energy-lean candidates are kept only within this factor of the fastest
// estimate: slower ones cannot meet a cycle tolerance of a few percent.
constexpr double kLeanSlack = 1.25;

class Ranking {
 public:
  explicit Ranking(size_t count);
  // Whether a point that takes at least `bound` cycles may still enter (the
  // search skips a tiling whose compute bound may not: exact pruning).
  bool admits(int64_t bound) const {
    if (count_ == 1) return !(full_ && bound > worst_kept_.estimate.cycles);
    return top_.empty() || within_slack(bound);
  }
  // A point: `tiling` (mode, tiles, order) at DMA `level`s, estimated `e`.
  void offer(const Mapping& tiling, const std::array<int, 3>& level, const MappingEstimate& e);
  bool empty() const { return top_.empty(); }
  // The fastest first, then the lean ones not already listed.
  std::vector<Mapping> finish() const;

 private:
  bool within_slack(int64_t cycles) const {
    return static_cast<double>(cycles) <=
           kLeanSlack * static_cast<double>(top_.front().estimate.cycles);
  }
  size_t count_;
  std::vector<Mapping> top_;   // the `count` best so far, best first
  std::vector<Mapping> lean_;  // the `count` most energy-lean (no pruning by cycles applies)
  Mapping worst_kept_;         // top_.back() once top_ is full
  bool full_ = false;
};

}  // namespace palsim::frontend
