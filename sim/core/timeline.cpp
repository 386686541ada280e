#include "sim/core/timeline.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace palsim::sim {

namespace {

constexpr int kPid = 1;
constexpr int kLayerTrack = 0;  // engines are tracks 1..kEngines

int track_of(Engine e) {
  return 1 + static_cast<int>(e);
}

const char* track_name(Engine e) {
  switch (e) {
    case Engine::kLoad:
      return "DMA load";
    case Engine::kStore:
      return "DMA store";
    case Engine::kArray:
      return "array";
    case Engine::kPpu:
      return "post-processing";
  }
  return "?";
}

nlohmann::json box_json(const Box& b) {
  return {{"n", {b.n0, b.n}}, {"c", {b.c0, b.c}}, {"h", {b.h0, b.h}}, {"w", {b.w0, b.w}}};
}

}  // namespace

nlohmann::json timeline_json(const frontend::HwConfig& hw, const isa::Program& program,
                             const JobList& jobs) {
  const double us_per_cycle = 1.0 / hw.clock_mhz;
  auto us = [&](uint64_t cycle) { return static_cast<double>(cycle) * us_per_cycle; };
  auto layer_name = [&](int op) {
    return op >= 0 && static_cast<size_t>(op) < program.info.ops.size()
               ? program.info.ops[static_cast<size_t>(op)].name
               : std::string("?");
  };
  nlohmann::json events = nlohmann::json::array();
  auto name_track = [&](int tid, const std::string& name) {
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", kPid},
                      {"tid", tid},
                      {"args", {{"name", name}}}});
    events.push_back({{"name", "thread_sort_index"},
                      {"ph", "M"},
                      {"pid", kPid},
                      {"tid", tid},
                      {"args", {{"sort_index", tid}}}});
  };
  events.push_back({{"name", "process_name"},
                    {"ph", "M"},
                    {"pid", kPid},
                    {"args", {{"name", program.info.network + " on " + hw.name}}}});
  name_track(kLayerTrack, "layers");
  for (int e = 0; e < kEngines; ++e)
    name_track(track_of(static_cast<Engine>(e)), track_name(static_cast<Engine>(e)));

  struct Span {
    uint64_t start = UINT64_MAX, done = 0;
  };
  std::map<int, Span> layers;
  // DMA bits in flight: +bits at a transfer's start, -bits at its end.
  std::vector<std::pair<uint64_t, int64_t>> dma_steps;
  for (const Job& j : jobs.jobs) {
    Span& s = layers[j.op];
    s.start = std::min(s.start, j.start);
    s.done = std::max(s.done, j.done);
    nlohmann::json args = {{"layer", layer_name(j.op)}, {"op", j.op}, {"group", j.group}};
    std::string name = layer_name(j.op);
    const bool dma = j.engine == Engine::kLoad || j.engine == Engine::kStore;
    if (dma) {
      args["transfer"] = transfer_name(j.transfer);
      args["bits"] = j.bits;
      args["box"] = box_json(j.box);
      name += std::string(" ") + transfer_name(j.transfer);
      dma_steps.emplace_back(j.start, static_cast<int64_t>(j.bits));
      dma_steps.emplace_back(j.end, -static_cast<int64_t>(j.bits));
    } else if (j.engine == Engine::kArray) {
      args["outputs"] = box_json(j.out_box);
      args["first_input_channel"] = j.c0;
    } else {
      args["outputs"] = box_json(j.acc_box);
    }
    args["cycles"] = {j.start, j.end, j.done};
    events.push_back({{"name", name},
                      {"cat", track_name(j.engine)},
                      {"ph", "X"},
                      {"pid", kPid},
                      {"tid", track_of(j.engine)},
                      {"ts", us(j.start)},
                      {"dur", us(j.end - j.start)},
                      {"args", args}});
  }
  for (const auto& [op, s] : layers) {
    if (s.start == UINT64_MAX) continue;
    events.push_back({{"name", layer_name(op)},
                      {"cat", "layer"},
                      {"ph", "X"},
                      {"pid", kPid},
                      {"tid", kLayerTrack},
                      {"ts", us(s.start)},
                      {"dur", us(s.done - s.start)},
                      {"args", {{"op", op}, {"cycles", {s.start, s.done}}}}});
  }
  std::sort(dma_steps.begin(), dma_steps.end());
  int64_t in_flight = 0;
  for (size_t k = 0; k < dma_steps.size(); ++k) {
    in_flight += dma_steps[k].second;
    // One sample per cycle: the value after every change at that cycle.
    if (k + 1 < dma_steps.size() && dma_steps[k + 1].first == dma_steps[k].first) continue;
    events.push_back({{"name", "DMA bits in flight"},
                      {"ph", "C"},
                      {"pid", kPid},
                      {"ts", us(dma_steps[k].first)},
                      {"args", {{"bits", in_flight}}}});
  }
  return {{"traceEvents", events},
          {"displayTimeUnit", "ns"},
          {"otherData",
           {{"network", program.info.network},
            {"hardware", hw.name},
            {"clock_mhz", hw.clock_mhz},
            {"time_unit", "microseconds at the configured clock"}}}};
}

}  // namespace palsim::sim
