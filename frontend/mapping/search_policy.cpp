#include "frontend/mapping/search_policy.h"

namespace palsim::frontend {

Mapping tiling_at(const MapSpace& space, const std::array<size_t, 1 + kLoopDims>& at) {
  Mapping m;
  m.mode = space.mode.values[at[0]];
  const auto tile = [&](LoopDim d) {
    const size_t i = static_cast<size_t>(d);
    return space.tile[i].values[at[1 + i]];
  };
  m.n_t = tile(LoopDim::kN);
  m.h_t = tile(LoopDim::kH);
  m.w_t = tile(LoopDim::kW);
  m.m_t = tile(LoopDim::kM);
  m.c_t = tile(LoopDim::kC);
  return m;
}

ExhaustivePolicy::ExhaustivePolicy(const MapSpace& space) : space_(space) {
  done_ = space.mode.size() == 0;
}

const Mapping* ExhaustivePolicy::next() {
  if (done_) return nullptr;
  current_ = tiling_at(space_, at_);
  // Advance the odometer, the last axis (tile C) fastest.
  size_t axis = at_.size();
  while (axis-- > 0) {
    const size_t n = axis == 0 ? space_.mode.size() : space_.tile[axis - 1].size();
    if (++at_[axis] < n) break;
    at_[axis] = 0;
    if (axis == 0) done_ = true;
  }
  return &current_;
}

RandomPolicy::RandomPolicy(const MapSpace& space, int64_t samples, uint64_t seed)
    : space_(space), left_(samples), rng_(seed) {}

const Mapping* RandomPolicy::next() {
  if (left_ <= 0 || space_.mode.size() == 0) return nullptr;
  --left_;
  std::array<size_t, 1 + kLoopDims> at{};
  for (size_t axis = 0; axis < at.size(); ++axis) {
    const size_t n = axis == 0 ? space_.mode.size() : space_.tile[axis - 1].size();
    at[axis] = std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }
  current_ = tiling_at(space_, at);
  return &current_;
}

PolicyFactory exhaustive_policy() {
  return [](const MapSpace& s) { return std::make_unique<ExhaustivePolicy>(s); };
}

PolicyFactory random_policy(int64_t samples, uint64_t seed) {
  return [samples, seed](const MapSpace& s) {
    return std::make_unique<RandomPolicy>(s, samples, seed);
  };
}

}  // namespace palsim::frontend
