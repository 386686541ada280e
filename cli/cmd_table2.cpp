// palsim table2: the paper's Table 2 (speedup and energy efficiency).
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/command.h"
#include "cli/gnuplot.h"
#include "cli/options.h"
#include "cli/provenance.h"
#include "cli/table2.h"
#include "cli/table2_run.h"
#include "common/atomic_file.h"
#include "frontend/arch/energy_model.h"
#include "frontend/arch/hw_config_json.h"
#include "sim/report.h"

namespace palsim::cli {

namespace {

std::string deviation(double ours, const std::optional<double>& paper) {
  if (!paper) return "n/a";
  return fmt::format("{:+.1f}%", 100.0 * (ours / *paper - 1.0));
}
std::string paper_value(const std::optional<double>& paper) {
  return paper ? fmt::format("{:.2f}x", *paper) : "n/a";
}

std::string settings_text(const Table2Result& r) {
  std::string s;
  const auto& lo = r.options.lowering;
  s += fmt::format(
      "mapping: the mapper's {} best candidates per layer simulated, cycles within {:.1f}% of the "
      "fewest, "
      "then the least energy\n",
      r.options.refine, 100 * r.options.cycle_tolerance);
  s += fmt::format("stem and classifier: {}; batch {}; on-chip block intermediates: {}\n",
                   lo.fp_layers == frontend::FpLayerTreatment::kExclude
                       ? "excluded (not simulated; the paper does not say how its FP stem/FC ran)"
                       : "8-bit, bit-decomposed like the body",
                   lo.batch, lo.onchip_intermediates ? "on" : "off");
  for (const auto& [acc, hw] : r.hardware) {
    s += fmt::format(
        "{} ({}): {}x{} units, {} 2-bit multipliers, {} MHz, IBUF {} KB, WBUF {} KB, OBUF {} KB{}, "
        "off-chip {}{} ({} pJ/bit)\n",
        acc, hw.file, hw.array.rows, hw.array.cols, hw.multipliers(), hw.clock_mhz,
        hw.ibuf.size_bytes / 1024, hw.wbuf.size_bytes / 1024, hw.obuf.size_bytes / 1024,
        hw.ibuf.double_buffered ? " (double-buffered)" : "", to_string(hw.offchip.model),
        hw.offchip.model == frontend::OffchipModel::kDdr4
            ? std::string(" (one DDR4 channel, banks, rows and bursts modelled)")
            : fmt::format(" ({} bits/cycle, {} cycles latency)", hw.offchip.bits_per_cycle,
                          hw.offchip.latency_cycles),
        hw.offchip.pj_per_bit);
  }
  return s;
}

std::string table_text(const Table2Result& r) {
  std::string s = fmt::format(
      "Table 2: PalQuant B=2, G=M/2 against the M-bit baseline run bit-decomposed on the 2-bit "
      "machine, one ImageNet "
      "inference (fast mode)\n");
  s += settings_text(r) + "\n";
  const bool onchip = r.options.onchip_effect;
  s += fmt::format("{:<10} {:<9} {:<9} {:>2} | {:>8} {:>7} {:>7} | {:>8} {:>7} {:>7} | {:>16}\n",
                   "accel", "network", "baseline", "G", "speedup", "paper", "dev", "energy",
                   "paper", "dev", "on-chip cyc/energy");
  for (const auto& row : r.rows) {
    s += fmt::format(
        "{:<10} {:<9} {:<9} {:>2} | {:>7.2f}x {:>7} {:>7} | {:>7.2f}x {:>7} {:>7} | {:>8} {:>8}\n",
        row.accelerator, row.network,
        fmt::format("{} {}/{}", row.accelerator == "bitfusion" ? "lsq" : "ewgs", row.M, row.M),
        row.G, row.speedup, paper_value(row.paper_speedup),
        deviation(row.speedup, row.paper_speedup), row.energy_efficiency,
        paper_value(row.paper_energy_efficiency),
        deviation(row.energy_efficiency, row.paper_energy_efficiency),
        onchip ? fmt::format("{:.2f}x", row.onchip_speedup) : "-",
        onchip ? fmt::format("{:.2f}x", row.onchip_energy) : "-");
  }
  s += "\nenergy = baseline energy / PalQuant energy; dev = relative deviation from the paper; "
       "on-chip = PalQuant "
       "without / with block intermediates kept on chip.\n";
  return s;
}

std::string table_csv(const Table2Result& r) {
  std::string s = provenance_header(table_provenance(r), "# ");
  s += "accelerator,network,M,G,baseline_cycles,palquant_cycles,speedup,paper_speedup,baseline_"
       "energy_pj,"
       "palquant_energy_pj,energy_efficiency,paper_energy_efficiency,onchip_speedup,onchip_energy_"
       "efficiency\n";
  for (const auto& row : r.rows) {
    s += fmt::format(
        "{},{},{},{},{},{},{:.4f},{},{:.1f},{:.1f},{:.4f},{},{:.4f},{:.4f}\n", row.accelerator,
        row.network, row.M, row.G, row.baseline.cycles, row.palquant.cycles, row.speedup,
        row.paper_speedup ? fmt::format("{:.2f}", *row.paper_speedup) : "", row.baseline.energy_pj,
        row.palquant.energy_pj, row.energy_efficiency,
        row.paper_energy_efficiency ? fmt::format("{:.2f}", *row.paper_energy_efficiency) : "",
        row.onchip_speedup, row.onchip_energy);
  }
  return s;
}

std::string table_markdown(const Table2Result& r) {
  std::string s =
      "| accelerator | network | baseline | G | speedup | paper | dev | energy eff. | paper | dev "
      "| "
      "on-chip (cycles / energy) |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& row : r.rows) {
    const std::string onchip =
        r.options.onchip_effect
            ? fmt::format("{:.2f}x / {:.2f}x", row.onchip_speedup, row.onchip_energy)
            : std::string("-");
    s += fmt::format("| {} | {} | {} {}/{} | {} | {:.2f}x | {} | {} | {:.2f}x | {} | {} | {} |\n",
                     row.accelerator == "bitfusion" ? "Bit Fusion" : "BPVeC",
                     row.network == "resnet18" ? "ResNet-18" : "ResNet-34",
                     row.accelerator == "bitfusion" ? "LSQ" : "EWGS", row.M, row.M, row.G,
                     row.speedup, paper_value(row.paper_speedup),
                     deviation(row.speedup, row.paper_speedup), row.energy_efficiency,
                     paper_value(row.paper_energy_efficiency),
                     deviation(row.energy_efficiency, row.paper_energy_efficiency), onchip);
  }
  s += "\n" + settings_text(r);
  s += provenance_markdown(table_provenance(r));
  return s;
}

// Per-layer breakdown of baseline vs PalQuant for one row: CSV and a stacked
// bar plot (gnuplot), layers matched by name.
void write_breakdown(const Table2Row& row, const std::string& dir,
                     const nlohmann::json& provenance) {
  const std::string stem = fmt::format("{}/{}_{}_G{}", dir, row.accelerator, row.network, row.G);
  std::vector<std::string> names;
  std::map<std::string, const sim::LayerStats*> base, pal;
  for (const auto& l : row.baseline.stats.layers) base[l.name] = &l;
  for (const auto& l : row.palquant.stats.layers) pal[l.name] = &l;
  // Both forms' layers in execution order: PalQuant's own layers (the cyclic
  // shuffle convs) where they run, between the layers both forms have.
  {
    const auto& pl = row.palquant.stats.layers;
    size_t next = 0;
    for (const auto& l : row.baseline.stats.layers) {
      if (pal.count(l.name)) {
        while (next < pl.size() && pl[next].name != l.name) {
          if (!base.count(pl[next].name)) names.push_back(pl[next].name);
          ++next;
        }
        if (next < pl.size()) ++next;
      }
      names.push_back(l.name);
    }
    for (; next < pl.size(); ++next)
      if (!base.count(pl[next].name)) names.push_back(pl[next].name);
  }
  std::string csv = provenance_header(provenance, "# ");
  csv +=
      "layer,baseline_cycles,palquant_cycles,baseline_core_uj,baseline_sram_uj,baseline_dram_uj,"
      "palquant_core_uj,"
      "palquant_sram_uj,palquant_dram_uj\n";
  // cycles, then the energy of the core, SRAM and DRAM groups (uJ).
  auto parts = [](const sim::LayerStats* l) {
    std::array<double, 4> v{0, 0, 0, 0};
    if (!l) return v;
    v[0] = static_cast<double>(l->cycles);
    for (const auto& c : frontend::energy_components()) {
      const std::string group = c.group;
      v[group == "core" ? 1 : group == "sram" ? 2 : 3] += l->energy[c.id] / 1e6;
    }
    return v;
  };
  double ymax = 0;
  for (const auto& n : names) {
    const auto b = parts(base.count(n) ? base[n] : nullptr),
               p = parts(pal.count(n) ? pal[n] : nullptr);
    ymax = std::max({ymax, b[1] + b[2] + b[3], p[1] + p[2] + p[3]});
    csv += fmt::format("{},{:.0f},{:.0f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f}\n", n, b[0],
                       p[0], b[1], b[2], b[3], p[1], p[2], p[3]);
  }
  write_file_atomically(stem + "_layers.csv", csv);
  const std::string script = fmt::format(
      "set datafile separator ','\n"
      "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.8 border "
      "-1\n"
      "set boxwidth 0.8\nset xtics rotate by -45 left font ',9'\nset termoption noenhanced\n"
      "set key outside right top box\nset grid ytics\nset ylabel 'energy per layer (uJ)'\n"
      "set yrange [0:{:.3f}]\n"
      "set multiplot layout 2,1 title {}\n"
      "plot {} using 4:xtic(1) title 'baseline core', '' using 5 title 'baseline "
      "SRAM', '' using 6 "
      "title 'baseline DRAM'\n"
      "plot {} using 7:xtic(1) title 'PalQuant core', '' using 8 title 'PalQuant "
      "SRAM', '' using 9 "
      "title 'PalQuant DRAM'\nunset multiplot\n",
      ymax * 1.05,
      gnuplot_string(
          fmt::format("{} {} G={}: per-layer energy, baseline (top) vs PalQuant (bottom)",
                      row.accelerator, row.network, row.G)),
      gnuplot_string(stem + "_layers.csv"), gnuplot_string(stem + "_layers.csv"));
  for (const char* term : {"png", "svg"}) {
    const std::string out = stem + "_energy." + term;
    if (!draw_with_gnuplot(out, term, "size 1400,900", script, stem + "_plot.gp")) {
      fmt::print(stderr,
                 "table2: gnuplot failed for {} (is gnuplot installed? tools/setup installs it)\n",
                 out);
    }
  }
}

}  // namespace

int run_table2(const std::vector<std::string>& args) {
  Table2RunOptions options;
  std::string csv, markdown, breakdown;
  bool json = false;
  po::options_description desc("palsim table2 options");
  options.add_to(desc);
  desc.add_options()("json", po::bool_switch(&json),
                     "print one JSON object: provenance and rows (one object per row)")(
      "csv", po::value(&csv), "write the table as CSV")("markdown", po::value(&markdown),
                                                        "write the table as Markdown")(
      "breakdown", po::value(&breakdown),
      "write per-layer CSVs and stacked-bar plots (PNG, SVG) of baseline vs PalQuant into this "
      "directory");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_command_line(args, desc, pos, vm, "usage: palsim table2 [options]",
                          "  palsim table2\n  palsim table2 --json > table2.json\n"
                          "  palsim table2 --markdown table2.md --breakdown out/ -j 2\n"
                          "  palsim table2 --fp-layers int8 --hw-bitfusion "
                          "configs/bitfusion_public_accounting.yaml\n"
                          "  palsim table2 --offchip ddr4 --no-onchip-effect")) {
    return kExitOk;
  }
  const Table2Options o = options.resolved();
  if (!csv.empty()) check_output_path(csv, "--csv");
  if (!markdown.empty()) check_output_path(markdown, "--markdown");
  if (!breakdown.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(breakdown, ec);
    if (ec)
      throw InputError(
          fmt::format("--breakdown: cannot create directory '{}': {}", breakdown, ec.message()));
  }
  const Table2Result r = run_table2(o);
  if (!csv.empty()) write_file_atomically(csv, table_csv(r));
  if (!markdown.empty()) write_file_atomically(markdown, table_markdown(r));
  if (!breakdown.empty()) {
    const nlohmann::json provenance = table_provenance(r);
    for (const auto& row : r.rows) write_breakdown(row, breakdown, provenance);
  }
  if (json) {
    std::cout << table_json(r).dump(2) << "\n";
  } else {
    std::cout << table_text(r);
    fmt::print("{} simulations in {:.1f} s\n", r.rows.size() * (o.onchip_effect ? 3 : 2),
               r.seconds);
  }
  return kExitOk;
}

}  // namespace palsim::cli
