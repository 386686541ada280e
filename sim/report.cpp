#include "sim/report.h"

#include <fmt/format.h>

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

std::string layers_csv(const RunStats& r) {
  std::string s =
      "layer,kind,role,macs,cycles,span_start,span_end,utilization,mac_utilization,stall_input,"
      "stall_weights,stall_psum_reload,"
      "stall_output_buffer,stall_onchip,stall_other,dram_read_bits,dram_write_bits,ibuf_read_bits,"
      "ibuf_write_bits,"
      "wbuf_read_bits,wbuf_write_bits,obuf_read_bits,obuf_write_bits,unit_busy_cycles,energy_pj";
  for (const auto& c : frontend::energy_components()) s += fmt::format(",e_{}", c.key);
  s += "\n";
  for (const auto& l : r.layers) {
    const Counts& c = l.counts;
    s += fmt::format(
        "{},{},{},{},{},{},{},{:.6f},{:.6f},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3f}",
        l.name, l.kind, l.role, l.network_macs, l.cycles, l.first_start, l.last_done, l.utilization,
        l.mac_utilization, l.stalls[0], l.stalls[1], l.stalls[2], l.stalls[3], l.stalls[4],
        l.stalls[5], c.dram_read_bits, c.dram_write_bits, c.ibuf_read_bits, c.ibuf_write_bits,
        c.wbuf_read_bits, c.wbuf_write_bits, c.obuf_read_bits, c.obuf_write_bits,
        c.unit_busy_cycles, l.energy.total());
    for (const auto& k : frontend::energy_components()) s += fmt::format(",{:.3f}", l.energy[k.id]);
    s += "\n";
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
