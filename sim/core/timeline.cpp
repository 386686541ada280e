#include "sim/core/timeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/core/buffer_occupancy.h"
#include "sim/core/dram_bank_activity.h"

namespace palsim::sim {

namespace {

constexpr int kPid = 1;
constexpr int kLayerTrack = 0;  // engines are tracks 1..kEngines
constexpr int kDramRankTrack = 1 + kEngines;
constexpr int kFirstBankTrack = 10;  // DDR4 bank b is track kFirstBankTrack + b

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

// A counter track from (cycle, change) steps: one sample per cycle at which
// the value changes, holding the value after every change at that cycle.
void add_counter(nlohmann::json& events, const std::string& name,
                 std::vector<std::pair<uint64_t, int64_t>> steps, double us_per_cycle) {
  std::sort(steps.begin(), steps.end());
  int64_t value = 0;
  for (size_t k = 0; k < steps.size(); ++k) {
    value += steps[k].second;
    if (k + 1 < steps.size() && steps[k + 1].first == steps[k].first) continue;
    events.push_back({{"name", name},
                      {"ph", "C"},
                      {"pid", kPid},
                      {"ts", static_cast<double>(steps[k].first) * us_per_cycle},
                      {"args", {{"bits", value}}}});
  }
}

// How long a command keeps its bank (or, for PREA and REF, the rank) busy
// on the track, in DRAM cycles: until the bank may take its next kind of
// command (tRCD after ACT, tRP after PRE, tRFC after REF) or, for RD and WR,
// the burst on the data bus.
int64_t command_cycles(const Ddr4Timing& t, DramCommand c) {
  switch (c) {
    case DramCommand::kAct:
      return t.act_to_rdwr;
    case DramCommand::kRd:
    case DramCommand::kWr:
      return t.burst_cycles;
    case DramCommand::kPre:
    case DramCommand::kPrea:
      return t.pre_to_act;
    case DramCommand::kRef:
      return t.ref_to_act;
  }
  return 1;
}

// A track per DDR4 bank with a slice per command (ACT names its row), and a
// rank track for the all-bank commands (PREA, REF). A slice ends where the
// track's next command begins if that comes sooner, so slices never overlap.
void add_bank_tracks(nlohmann::json& events, const frontend::HwConfig& hw, const JobList& jobs,
                     const std::function<void(int, const std::string&)>& name_track) {
  const BankActivity a = replay_bank_activity(hw, jobs);
  const int per_group = hw.offchip.ddr4.banks_per_group;
  const int banks = hw.offchip.ddr4.bank_groups * per_group;
  name_track(kDramRankTrack, "DRAM rank (PREA, REF)");
  for (int b = 0; b < banks; ++b)
    name_track(kFirstBankTrack + b,
               fmt::format("DRAM bank group {} bank {}", b / per_group, b % per_group));
  auto track_of_command = [&](const Ddr4Memory::PlacedCommand& c) {
    const bool rank = c.command == DramCommand::kPrea || c.command == DramCommand::kRef;
    return rank ? kDramRankTrack : kFirstBankTrack + c.bank;
  };
  // The next command on the same track, for clipping.
  std::map<int, size_t> next_on_track;
  std::vector<size_t> next(a.commands.size(), SIZE_MAX);
  for (size_t k = a.commands.size(); k-- > 0;) {
    const int t = track_of_command(a.commands[k]);
    const auto it = next_on_track.find(t);
    if (it != next_on_track.end()) next[k] = it->second;
    next_on_track[t] = k;
  }
  const double us_per_dram_cycle = static_cast<double>(a.dram_period_ps) / 1e6;
  for (size_t k = 0; k < a.commands.size(); ++k) {
    const auto& c = a.commands[k];
    int64_t cycles = command_cycles(a.timing, c.command);
    if (next[k] != SIZE_MAX) cycles = std::min(cycles, a.commands[next[k]].cycle - c.cycle);
    std::string name = to_string(c.command);
    nlohmann::json args = {{"dram_cycle", c.cycle}};
    if (c.command == DramCommand::kAct || c.command == DramCommand::kRd ||
        c.command == DramCommand::kWr) {
      args["row"] = c.row;
      if (c.command == DramCommand::kAct) name += fmt::format(" row {}", c.row);
    }
    events.push_back(
        {{"name", name},
         {"cat", "dram"},
         {"ph", "X"},
         {"pid", kPid},
         {"tid", track_of_command(c)},
         {"ts", static_cast<double>(c.cycle) * us_per_dram_cycle},
         {"dur", static_cast<double>(std::max<int64_t>(0, cycles)) * us_per_dram_cycle},
         {"args", args}});
  }
}

const char* buffer_name(Buffer b) {
  switch (b) {
    case Buffer::kIbuf:
      return "IBUF";
    case Buffer::kWbuf:
      return "WBUF";
    case Buffer::kObuf:
      return "OBUF";
  }
  return "?";
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
  OccupancySteps dma_steps;
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
      if (j.transfer == Transfer::kWeight) {
        args["weights"] = {{"m", {j.weights.m0, j.weights.m}}, {"c", {j.weights.c0, j.weights.c}}};
      } else {
        args["box"] = box_json(j.box);
      }
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
  add_counter(events, "DMA bits in flight", std::move(dma_steps), us_per_cycle);
  const auto occupancy = buffer_occupancy(hw, jobs);
  nlohmann::json capacity;
  for (Buffer b : {Buffer::kIbuf, Buffer::kWbuf, Buffer::kObuf}) {
    add_counter(events, fmt::format("{} bits resident", buffer_name(b)),
                occupancy[static_cast<size_t>(b)], us_per_cycle);
  }
  capacity["IBUF"] = hw.ibuf.size_bytes * 8;
  capacity["WBUF"] = hw.wbuf.size_bytes * 8;
  capacity["OBUF"] = hw.obuf.size_bytes * 8;
  if (hw.offchip.model == frontend::OffchipModel::kDdr4)
    add_bank_tracks(events, hw, jobs, name_track);
  return {{"traceEvents", events},
          {"displayTimeUnit", "ns"},
          {"otherData",
           {{"network", program.info.network},
            {"hardware", hw.name},
            {"clock_mhz", hw.clock_mhz},
            {"offchip_model", hw.offchip.model},
            {"buffer_bits", capacity},
            {"time_unit", "microseconds at the configured clock"}}}};
}

}  // namespace palsim::sim
