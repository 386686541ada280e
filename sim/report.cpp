#include "sim/report.h"

#include <fmt/format.h>

#include <functional>
#include <vector>

#include "common/csv.h"
#include "sim/core/cycle_attribution.h"

namespace palsim::sim {

nlohmann::json energy_to_json(const Energy& e) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& c : frontend::energy_components()) j[c.key] = e[c.id];
  return j;
}

nlohmann::json counts_to_json(const Counts& c) {
  nlohmann::json busy;
  for (int e = 0; e < kEngines; ++e)
    busy[engine_name(static_cast<Engine>(e))] = c.engine_busy[static_cast<size_t>(e)];
  return {{"dram_read_bits", c.dram_read_bits},
          {"dram_write_bits", c.dram_write_bits},
          {"dram_transfers", c.dram_transfers},
          {"dram_moved_bits", c.dram_moved_bits},
          {"dram_efficiency", dram_efficiency(c)},
          {"ibuf_read_bits", c.ibuf_read_bits},
          {"ibuf_write_bits", c.ibuf_write_bits},
          {"wbuf_read_bits", c.wbuf_read_bits},
          {"wbuf_write_bits", c.wbuf_write_bits},
          {"obuf_read_bits", c.obuf_read_bits},
          {"obuf_write_bits", c.obuf_write_bits},
          {"unit_busy_cycles", c.unit_busy_cycles},
          {"activation_sum_cycles", c.asu_busy_cycles},
          {"ppu_elements", c.ppu_elements},
          {"chunk_products", c.chunk_products},
          {"folds", c.folds},
          {"engine_busy_cycles", busy}};
}

namespace {
nlohmann::json stalls_to_json(const std::array<uint64_t, kStallCauses>& s) {
  nlohmann::json j;
  for (int i = 0; i < kStallCauses; ++i)
    j[stall_name(static_cast<Stall>(i))] = s[static_cast<size_t>(i)];
  return j;
}
// Detailed mode's speed: array unit-cycles per second of the SystemC model
// itself, without the process around it or the reference check.
double model_rate(const RunStats& r) {
  return r.model_seconds > 0 ? static_cast<double>(r.unit_cycles) / r.model_seconds : 0.0;
}

}  // namespace

nlohmann::json run_to_json(const RunStats& r) {
  nlohmann::json j;
  j["mode"] = to_string(r.mode);
  j["cycles"] = r.cycles;
  j["seconds"] = r.seconds;
  j["energy_pj"] = r.energy.total();
  j["energy_breakdown_pj"] = energy_to_json(r.energy);
  j["utilization"] = r.utilization;
  j["mac_utilization"] = r.mac_utilization;
  j["array_stall_cycles"] = stalls_to_json(r.stalls);
  j["counts"] = counts_to_json(r.counts);
  j["memory_model"] = r.memory_model;
  j["dram"] = {{"read_bits", r.dram.read_bits},
               {"write_bits", r.dram.write_bits},
               {"transfers", r.dram.transfers},
               {"bursts", r.dram.bursts},
               {"burst_bytes", r.dram.burst_bytes},
               {"activates", r.dram.activates},
               {"row_hits", r.dram.row_hits},
               {"row_misses", r.dram.row_misses},
               {"row_conflicts", r.dram.row_conflicts},
               {"refreshes", r.dram.refreshes},
               {"current_energy_pj", r.dram.current_energy_pj}};
  if (r.mode == SimMode::kDetailed) {
    j["detailed"] = {
        {"values_checked", r.values_checked}, {"bit_exact_vs_kernels", r.bit_exact},
        {"first_mismatch", r.first_mismatch}, {"unit_cycles", r.unit_cycles},
        {"wall_seconds", r.wall_seconds},     {"model_seconds", r.model_seconds},
        {"check_seconds", r.check_seconds},   {"unit_cycles_per_second", model_rate(r)}};
  }
  j["layer_cycle_attribution"] = kCycleAttributionRule;
  j["layers"] = nlohmann::json::array();
  for (const auto& l : r.layers) {
    j["layers"].push_back({{"name", l.name},
                           {"kind", l.kind},
                           {"role", l.role},
                           {"ir_layers", l.layers},
                           {"macs", l.network_macs},
                           {"cycles", l.cycles},
                           {"span", {l.first_start, l.last_done}},
                           {"energy_pj", l.energy.total()},
                           {"energy_breakdown_pj", energy_to_json(l.energy)},
                           {"utilization", l.utilization},
                           {"mac_utilization", l.mac_utilization},
                           {"array_stall_cycles", stalls_to_json(l.stalls)},
                           {"counts", counts_to_json(l.counts)},
                           {"input_layout", l.input_layout},
                           {"output_layout", l.output_layout},
                           {"mapping", l.mapping}});
  }
  return j;
}

namespace {

// A per-layer column: its name and its value in a layer's row. Units and
// meanings are documented in docs/formats.md (§5), which a test holds
// against this table.
struct LayerColumn {
  std::string name;
  std::function<std::string(const LayerStats&)> value;
};

std::string number(int64_t v) {
  return fmt::format("{}", v);
}
// A figure that does not apply to the layer (a pool's weight bits) is empty.
std::string number_if(bool applies, int64_t v) {
  return applies ? number(v) : "";
}
std::string level(int depth) {
  return depth < 0 ? "" : number(depth);
}

std::vector<LayerColumn> make_layer_columns() {
  using L = const LayerStats&;
  std::vector<LayerColumn> c = {
      {"layer", [](L l) { return csv_field(l.name); }},
      {"kind", [](L l) { return csv_field(l.kind); }},
      {"role", [](L l) { return csv_field(l.role); }},
      {"C", [](L l) { return number(l.shape.in_c); }},
      {"K", [](L l) { return number(l.shape.out_c); }},
      {"H_in", [](L l) { return number(l.shape.in_h); }},
      {"W_in", [](L l) { return number(l.shape.in_w); }},
      {"H_out", [](L l) { return number(l.shape.out_h); }},
      {"W_out", [](L l) { return number(l.shape.out_w); }},
      {"R", [](L l) { return number(l.shape.kernel_h); }},
      {"S", [](L l) { return number(l.shape.kernel_w); }},
      {"stride_h", [](L l) { return number(l.shape.stride_h); }},
      {"stride_w", [](L l) { return number(l.shape.stride_w); }},
      {"pad_h", [](L l) { return number(l.shape.pad_h); }},
      {"pad_w", [](L l) { return number(l.shape.pad_w); }},
      {"dilation_h", [](L l) { return number(l.shape.dilation_h); }},
      {"dilation_w", [](L l) { return number(l.shape.dilation_w); }},
      {"groups", [](L l) { return number(l.shape.groups); }},
      {"abits", [](L l) { return number_if(l.shape.conv, l.shape.a_bits); }},
      {"wbits", [](L l) { return number_if(l.shape.conv, l.shape.w_bits); }},
      {"loop_order", [](L l) { return l.mapping_record.order; }},
      {"tile_N", [](L l) { return number(l.mapping_record.tile_n); }},
      {"tile_H", [](L l) { return number(l.mapping_record.tile_h); }},
      {"tile_W", [](L l) { return number(l.mapping_record.tile_w); }},
      {"tile_M", [](L l) { return number(l.mapping_record.tile_m); }},
      {"tile_C", [](L l) { return number(l.mapping_record.tile_c); }},
      {"groups_packed", [](L l) { return number(l.mapping_record.pack); }},
      {"dma_level_in", [](L l) { return level(l.mapping_record.level_in); }},
      {"dma_level_wt", [](L l) { return level(l.mapping_record.level_wt); }},
      {"dma_level_out", [](L l) { return level(l.mapping_record.level_out); }},
      {"mode_abits", [](L l) { return number_if(l.shape.conv, l.mapping_record.mode_fa); }},
      {"mode_wbits", [](L l) { return number_if(l.shape.conv, l.mapping_record.mode_fw); }},
      {"lanes_per_unit",
       [](L l) { return number_if(l.shape.conv, l.mapping_record.lanes_per_unit); }},
      {"outputs_per_unit",
       [](L l) { return number_if(l.shape.conv, l.mapping_record.outputs_per_unit); }},
      {"layout_in", [](L l) { return csv_field(l.input_layout); }},
      {"layout_out", [](L l) { return csv_field(l.output_layout); }},
      {"macs", [](L l) { return number(l.network_macs); }},
      {"cycles", [](L l) { return fmt::format("{}", l.cycles); }},
      {"span_start", [](L l) { return fmt::format("{}", l.first_start); }},
      {"span_end", [](L l) { return fmt::format("{}", l.last_done); }},
      {"utilization", [](L l) { return fmt::format("{:.6f}", l.utilization); }},
      {"mac_utilization", [](L l) { return fmt::format("{:.6f}", l.mac_utilization); }},
  };
  for (int i = 0; i < kStallCauses; ++i) {
    c.push_back({fmt::format("stall_{}", stall_name(static_cast<Stall>(i))),
                 [i](L l) { return fmt::format("{}", l.stalls[static_cast<size_t>(i)]); }});
  }
  auto count = [&](const char* name, uint64_t Counts::*field) {
    c.push_back({name, [field](L l) { return fmt::format("{}", l.counts.*field); }});
  };
  count("dram_read_bits", &Counts::dram_read_bits);
  count("dram_write_bits", &Counts::dram_write_bits);
  count("dram_moved_bits", &Counts::dram_moved_bits);
  c.push_back(
      {"dram_efficiency", [](L l) { return fmt::format("{:.6f}", dram_efficiency(l.counts)); }});
  count("dram_transfers", &Counts::dram_transfers);
  count("ibuf_read_bits", &Counts::ibuf_read_bits);
  count("ibuf_write_bits", &Counts::ibuf_write_bits);
  count("wbuf_read_bits", &Counts::wbuf_read_bits);
  count("wbuf_write_bits", &Counts::wbuf_write_bits);
  count("obuf_read_bits", &Counts::obuf_read_bits);
  count("obuf_write_bits", &Counts::obuf_write_bits);
  count("unit_busy_cycles", &Counts::unit_busy_cycles);
  count("folds", &Counts::folds);
  c.push_back({"energy_pj", [](L l) { return fmt::format("{:.3f}", l.energy.total()); }});
  for (const auto& k : frontend::energy_components()) {
    const auto id = k.id;
    c.push_back(
        {fmt::format("e_{}", k.key), [id](L l) { return fmt::format("{:.3f}", l.energy[id]); }});
  }
  return c;
}

const std::vector<LayerColumn>& layer_columns() {
  static const std::vector<LayerColumn> columns = make_layer_columns();
  return columns;
}

}  // namespace

std::string layers_csv(const RunStats& r) {
  std::string s;
  for (const auto& c : layer_columns()) s += (s.empty() ? "" : ",") + c.name;
  s += "\n";
  for (const auto& l : r.layers) {
    std::string row;
    for (const auto& c : layer_columns())
      row += (&c == &layer_columns().front() ? "" : ",") + c.value(l);
    s += row + "\n";
  }
  return s;
}

std::string run_text(const RunStats& r, bool per_layer) {
  std::string s;
  if (per_layer) {
    s += fmt::format("{:<26} {:<8} {:>10} {:>6} {:>7} {:>12} {:>8} {:>12} {:>10}  {}\n", "layer",
                     "kind", "cycles", "util", "MACutil", "DRAM bits", "DRAM eff", "energy uJ",
                     "stalls", "layout in -> out");
    for (const auto& l : r.layers) {
      uint64_t st = 0;
      for (auto v : l.stalls) st += v;
      s += fmt::format(
          "{:<26} {:<8} {:>10} {:>5.1f}% {:>6.1f}% {:>12} {:>7.1f}% {:>12.3f} {:>10}  {} -> {}\n",
          l.name, l.kind, l.cycles, 100 * l.utilization, 100 * l.mac_utilization,
          l.counts.dram_read_bits + l.counts.dram_write_bits, 100 * dram_efficiency(l.counts),
          l.energy.total() / 1e6, st, l.input_layout, l.output_layout);
    }
    s += "\n";
  }
  const Energy& e = r.energy;
  s += fmt::format("cycles        {} ({:.3f} ms at the configured clock), mode {}\n", r.cycles,
                   r.seconds * 1e3, to_string(r.mode));
  s += fmt::format(
      "utilization   {:.1f}% of array unit-cycles busy; {:.1f}% of 2-bit multiplier-cycles doing "
      "useful "
      "products\n",
      100 * r.utilization, 100 * r.mac_utilization);
  std::string parts;
  for (const auto& c : frontend::energy_components()) {
    parts += fmt::format("{}{} {:.3f}", parts.empty() ? "" : ", ", c.label, e[c.id] / 1e6);
  }
  s += fmt::format("energy        {:.3f} uJ: {}\n", e.total() / 1e6, parts);
  s += fmt::format(
      "DRAM          {:.3f} Mbit read, {:.3f} Mbit written, {:.3f} Mbit moved ({:.1f}% efficiency) "
      "({})\n",
      r.counts.dram_read_bits / 1e6, r.counts.dram_write_bits / 1e6, r.counts.dram_moved_bits / 1e6,
      100 * dram_efficiency(r.counts), r.memory_model);
  std::string stalls;
  for (int i = 0; i < kStallCauses; ++i) {
    if (r.stalls[static_cast<size_t>(i)])
      stalls += fmt::format(" {} {}", stall_name(static_cast<Stall>(i)),
                            r.stalls[static_cast<size_t>(i)]);
  }
  s += fmt::format("array stalls {}\n", stalls.empty() ? " none" : stalls);
  if (r.mode == SimMode::kDetailed) {
    s += fmt::format(
        "values        {} ({} array unit-cycles stepped in {:.2f} s of the model: {:.1f} M "
        "unit-cycles/s; {:.2f} s in all{})\n",
        !r.values_checked ? "not checked"
        : r.bit_exact     ? "bit-exact against the kernels (every tensor written to DRAM)"
                          : "MISMATCH: " + r.first_mismatch,
        r.unit_cycles, r.model_seconds, model_rate(r) / 1e6, r.wall_seconds,
        r.values_checked
            ? fmt::format(", the kernels' reference {:.2f} s beside the model", r.check_seconds)
            : "");
  }
  return s;
}

}  // namespace palsim::sim
