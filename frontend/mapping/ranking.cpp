#include "frontend/mapping/ranking.h"

#include <algorithm>
#include <cmath>

namespace palsim::frontend {

namespace {

bool better(const MappingEstimate& a, const MappingEstimate& b) {
  if (a.cycles != b.cycles) return a.cycles < b.cycles;
  if (a.energy_pj != b.energy_pj) return a.energy_pj < b.energy_pj - 1e-9 * std::abs(b.energy_pj);
  return a.dram_bits < b.dram_bits;
}

bool leaner(const MappingEstimate& a, const MappingEstimate& b) {
  if (a.energy_pj != b.energy_pj) return a.energy_pj < b.energy_pj;
  return a.cycles < b.cycles;
}

bool same_point(const Mapping& a, const Mapping& b) {
  return a.mode.fa == b.mode.fa && a.mode.fw == b.mode.fw &&
         a.mode.lanes_per_unit == b.mode.lanes_per_unit && a.n_t == b.n_t && a.h_t == b.h_t &&
         a.w_t == b.w_t && a.m_t == b.m_t && a.c_t == b.c_t && a.order == b.order &&
         a.level == b.level;
}

// Inserts `m` before the first of `list` that `m` beats under `before`,
// keeping at most `count`.
template <typename Before>
void insert_ranked(std::vector<Mapping>& list, Mapping m, size_t count, Before before) {
  auto pos = std::find_if(list.begin(), list.end(),
                          [&](const Mapping& x) { return before(m.estimate, x.estimate); });
  list.insert(pos, std::move(m));
  if (list.size() > count) list.pop_back();
}

}  // namespace

Ranking::Ranking(size_t count) : count_(std::max<size_t>(1, count)) {}

void Ranking::offer(const Mapping& tiling, const std::array<int, 3>& level,
                    const MappingEstimate& e) {
  const auto make = [&] {
    Mapping m = tiling;
    m.level = level;
    m.estimate = e;
    return m;
  };
  const bool fast_enough = top_.empty() || within_slack(e.cycles);
  if (count_ > 1 && fast_enough && (lean_.size() < count_ || leaner(e, lean_.back().estimate)))
    insert_ranked(lean_, make(), count_, leaner);
  if (!full_ || better(e, worst_kept_.estimate)) {
    insert_ranked(top_, make(), count_, better);
    // Prune against the worst kept once the list is full.
    full_ = top_.size() == count_;
    if (full_) worst_kept_ = top_.back();
  }
}

std::vector<Mapping> Ranking::finish() const {
  std::vector<Mapping> out = top_;
  for (const Mapping& l : lean_) {
    if (!within_slack(l.estimate.cycles)) continue;
    const bool listed =
        std::any_of(top_.begin(), top_.end(), [&](const Mapping& t) { return same_point(t, l); });
    if (!listed) out.push_back(l);
  }
  return out;
}

}  // namespace palsim::frontend
