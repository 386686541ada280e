#include "sim/core/cycle_attribution.h"

#include <algorithm>
#include <limits>
#include <set>

namespace palsim::sim {

const char* const kCycleAttributionRule =
    "array-occupancy: a cycle in which the array computes a tile belongs to that tile's layer; an "
    "idle "
    "array cycle belongs to the earliest layer in flight (started, not complete), else to the next "
    "layer "
    "to start";

std::vector<uint64_t> attribute_cycles(const JobList& list, int layers, uint64_t total_cycles) {
  std::vector<uint64_t> cycles(static_cast<size_t>(layers), 0);
  if (layers == 0 || total_cycles == 0) return cycles;
  constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
  // Each layer's span [first start, last completion).
  std::vector<uint64_t> first(static_cast<size_t>(layers), kNone),
      last(static_cast<size_t>(layers), 0);
  for (const Job& j : list.jobs) {
    const auto k = static_cast<size_t>(j.op);
    first[k] = std::min(first[k], j.start);
    last[k] = std::max(last[k], j.done);
  }
  // Events at which the owner of a cycle can change: layer starts and
  // completions, array tiles' starts and ends.
  struct Event {
    uint64_t at;
    int layer;
    bool starts;
  };
  std::vector<Event> events;
  std::vector<uint64_t> cuts = {0, total_cycles};
  for (int k = 0; k < layers; ++k) {
    if (first[static_cast<size_t>(k)] == kNone) continue;
    events.push_back({first[static_cast<size_t>(k)], k, true});
    events.push_back({last[static_cast<size_t>(k)], k, false});
    cuts.push_back(first[static_cast<size_t>(k)]);
    cuts.push_back(last[static_cast<size_t>(k)]);
  }
  const std::vector<uint32_t>& array = list.queue[static_cast<int>(Engine::kArray)];
  for (uint32_t id : array) {
    cuts.push_back(list.jobs[id].start);
    cuts.push_back(list.jobs[id].end);
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.at < b.at; });
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  // Layers in order of their start, for "the next layer to start".
  std::vector<int> by_start;
  for (int k = 0; k < layers; ++k) {
    if (first[static_cast<size_t>(k)] != kNone) by_start.push_back(k);
  }
  std::stable_sort(by_start.begin(), by_start.end(), [&](int a, int b) {
    return first[static_cast<size_t>(a)] < first[static_cast<size_t>(b)];
  });
  int last_layer = layers - 1;
  std::set<int> in_flight;
  size_t next_event = 0, next_array = 0, next_start = 0;
  for (size_t s = 0; s + 1 < cuts.size(); ++s) {
    const uint64_t a = cuts[s], b = std::min(cuts[s + 1], total_cycles);
    if (a >= total_cycles) break;
    while (next_event < events.size() && events[next_event].at <= a) {
      const Event& e = events[next_event++];
      if (e.starts && last[static_cast<size_t>(e.layer)] > e.at) in_flight.insert(e.layer);
      if (!e.starts) in_flight.erase(e.layer);
    }
    while (next_array < array.size() && list.jobs[array[next_array]].end <= a) ++next_array;
    while (next_start < by_start.size() && first[static_cast<size_t>(by_start[next_start])] <= a)
      ++next_start;
    int owner;
    if (next_array < array.size() && list.jobs[array[next_array]].start <= a) {
      owner = list.jobs[array[next_array]].op;
    } else if (!in_flight.empty()) {
      owner = *in_flight.begin();
    } else if (next_start < by_start.size()) {
      owner = by_start[next_start];
    } else {
      owner = by_start.empty() ? last_layer : by_start.back();
    }
    cycles[static_cast<size_t>(owner)] += b - a;
  }
  return cycles;
}

}  // namespace palsim::sim
