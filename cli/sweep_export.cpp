#include "cli/sweep_export.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "cli/gnuplot.h"
#include "cli/provenance.h"
#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "frontend/arch/energy_model.h"
#include "frontend/arch/hw_config_json.h"
#include "frontend/builders/request_json.h"

namespace palsim::cli {

namespace fs = std::filesystem;

nlohmann::json records_json(const std::vector<PointRecord>& records) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : records) {
    nlohmann::json j = r.params;
    j["key"] = r.key;
    j["status"] = to_string(r.status);
    if (r.status == PointStatus::kFailed) j["error"] = r.error;
    j["cycles"] = r.cycles;
    j["energy_pj"] = r.energy_pj;
    for (const char* k : {"energy_breakdown_pj", "utilization", "mac_utilization", "dram_bits",
                          "hardware_name", "bit_exact", "accuracy", "provenance"}) {
      if (r.result.contains(k)) j[k] = r.result[k];
    }
    // No wall time here: the JSON is the reproducible result (byte-identical
    // across runs and -j); timings are in the CSV and the database.
    out.push_back(j);
  }
  return out;
}

namespace {

std::string scalar(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string overrides_text(const nlohmann::json& p) {
  std::string s;
  if (!p.contains("overrides")) return s;
  for (const auto& [k, v] : p["overrides"].items())
    s += (s.empty() ? "" : ";") + k + "=" + scalar(v);
  return s;
}

// Parameter columns in this order first (a built-in network's shape options
// right after its name), then any other parameter a point has, by name.
const std::vector<std::string>& leading_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c = {"network"};
    for (const auto& k : frontend::shape_option_keys()) c.push_back(k);
    for (const char* k : {"method", "abits", "wbits", "slice_bits", "quantizer", "B", "G",
                          "channel_shuffle", "cyclic", "permutation", "permute_direction", "label",
                          "model", "hardware", "fp_layers", "batch", "onchip", "mode"})
      c.push_back(k);
    return c;
  }();
  return columns;
}

// Every parameter that shaped some point of `records` is a column: the
// leading ones that occur, then the rest (overrides are one column).
std::vector<std::string> param_columns(const std::vector<PointRecord>& records) {
  std::set<std::string> present;
  for (const auto& r : records) {
    for (const auto& [k, v] : r.params.items()) present.insert(k);
  }
  std::vector<std::string> cols;
  const std::vector<std::string>& leading = leading_columns();
  for (const auto& c : leading) {
    if (present.count(c)) cols.push_back(c);
  }
  for (const auto& c : present) {
    if (c != "overrides" && std::find(leading.begin(), leading.end(), c) == leading.end())
      cols.push_back(c);
  }
  return cols;
}

// The shape options a point's network was built with ("input_size=32,
// base_width=16"); empty for the defaults.
std::string shape_text(const nlohmann::json& p) {
  std::string s;
  for (const auto& k : frontend::shape_option_keys()) {
    if (p.contains(k)) s += fmt::format("{}{}={}", s.empty() ? "" : ", ", k, scalar(p[k]));
  }
  return s;
}

// The network as a label that tells apart two shapes of one network.
std::string network_label(const nlohmann::json& p) {
  const std::string shape = shape_text(p);
  return scalar(p["network"]) + (shape.empty() ? "" : " (" + shape + ")");
}

double result_number(const PointRecord& r, const char* key) {
  return r.result.contains(key) && r.result[key].is_number() ? r.result[key].get<double>() : 0.0;
}

std::string accuracy_text(const PointRecord& r) {
  return r.result.contains("accuracy") ? fmt::format("{:.4f}", r.result["accuracy"].get<double>())
                                       : "";
}

}  // namespace

// What produced an export: this export (build, command line) and, from the
// points, the builds that ran them and every configuration they ran on
// (by fingerprint; each row names its own).
nlohmann::json records_provenance(const std::vector<PointRecord>& records) {
  nlohmann::json hardware = nlohmann::json::object();
  std::set<std::string> revisions, versions;
  for (const auto& r : records) {
    if (!r.result.contains("provenance") || !r.result["provenance"].is_object()) continue;
    const nlohmann::json& p = r.result["provenance"];
    if (p.contains("hardware"))
      hardware[frontend::config_fingerprint(p["hardware"])] = p["hardware"];
    if (p.contains("build") && p["build"].is_object()) {
      nlohmann::json b = p["build"];
      revisions.insert(scalar(b["source_revision"]));
      versions.insert(scalar(b["simulator_version"]));
    }
  }
  nlohmann::json j = provenance_json(nullptr, nullptr, nullptr);
  j["points"] = {
      {"source_revisions", revisions}, {"simulator_versions", versions}, {"hardware", hardware}};
  return j;
}

std::string csv_provenance(const std::vector<PointRecord>& records) {
  return provenance_header(records_provenance(records), "# ");
}

std::string records_csv(const std::vector<PointRecord>& records) {
  const std::vector<std::string> params = param_columns(records);
  std::string s = csv_provenance(records);
  for (const auto& c : params) s += c + ",";
  s += "overrides,status,error,cycles,energy_pj,utilization,mac_utilization,dram_bits,accuracy";
  for (const auto& e : frontend::energy_components()) s += std::string(",e_") + e.key;
  s += ",hardware_name,hardware_fingerprint,layers_hash,source_revision,seconds,key\n";
  for (const auto& r : records) {
    // A copy: operator[] of a const json on a missing key is undefined.
    nlohmann::json res = r.result;
    for (const auto& c : params)
      s += csv_field(r.params.contains(c) ? scalar(r.params[c]) : "") + ",";
    s += csv_field(overrides_text(r.params)) + "," + to_string(r.status) + "," +
         csv_field(r.error) + ",";
    s += fmt::format("{},{:.3f},{:.6f},{:.6f},{},{}", r.cycles, r.energy_pj,
                     result_number(r, "utilization"), result_number(r, "mac_utilization"),
                     static_cast<uint64_t>(result_number(r, "dram_bits")), accuracy_text(r));
    for (const auto& e : frontend::energy_components()) {
      const auto& b =
          res.contains("energy_breakdown_pj") ? res["energy_breakdown_pj"] : nlohmann::json();
      s += fmt::format(",{:.3f}",
                       b.contains(e.key) && b[e.key].is_number() ? b[e.key].get<double>() : 0.0);
    }
    nlohmann::json prov = res.contains("provenance") ? res["provenance"] : nlohmann::json::object();
    const std::string fingerprint =
        prov.contains("hardware") ? frontend::config_fingerprint(prov["hardware"]) : "";
    const std::string layers =
        prov.contains("network") ? scalar(prov["network"]["layers_hash"]) : "";
    const std::string revision =
        prov.contains("build") ? scalar(prov["build"]["source_revision"]) : "";
    s += fmt::format(",{},{},{},{},{:.3f},{}\n", csv_field(scalar(res["hardware_name"])),
                     fingerprint, layers, csv_field(revision), r.seconds, r.key);
  }
  return s;
}

std::string records_markdown(const std::vector<PointRecord>& records) {
  std::string s =
      "| network | method | bits / B,G | hardware | overrides | status | cycles | energy (uJ) | "
      "utilization | DRAM "
      "(Mbit) | accuracy |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : records) {
    // A copy: operator[] of a const json on a missing key is undefined
    // behaviour (a damaged database can lack any key); here it reads null.
    nlohmann::json p = r.params;
    std::string bits = p.contains("G") ? fmt::format("B{} G{}", scalar(p["B"]), scalar(p["G"]))
                       : p.contains("abits")
                           ? fmt::format("A{} W{}", scalar(p["abits"]), scalar(p["wbits"]))
                       : p.contains("label") ? scalar(p["label"])
                                             : "";
    s += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {:.3f} | {:.1f}% | {:.3f} | {} |\n",
                     network_label(p),
                     p.contains("method") ? scalar(p["method"]) : "(from the file)", bits,
                     fs::path(scalar(p["hardware"])).filename().string(), overrides_text(p),
                     r.status == PointStatus::kDone ? "done" : "failed: " + r.error, r.cycles,
                     r.energy_pj / 1e6, 100 * result_number(r, "utilization"),
                     result_number(r, "dram_bits") / 1e6, accuracy_text(r));
  }
  s += provenance_markdown(records_provenance(records));
  return s;
}

void merge_databases(const std::vector<std::string>& sources, ResultDb& target) {
  for (const auto& src : sources) {
    if (!fs::exists(src)) throw InputError(fmt::format("{}: no such database", src));
    ResultDb db(src, DbAccess::kReadOnly);
    for (const auto& r : db.all()) {
      const auto existing = target.find(r.key);
      if (existing && existing->status == PointStatus::kDone && r.status != PointStatus::kDone)
        continue;
      target.put(r);
    }
  }
}

std::vector<std::string> plot_records(const std::vector<PointRecord>& records,
                                      const std::string& dir) {
  std::vector<std::string> written;
  // Baselines by (network, hardware, overrides, lowering, bits): the M-bit
  // points a PalQuant (B, G) point with B*G = M compares with.
  auto context = [](const nlohmann::json& p) {
    return fmt::format("{}|{}|{}|{}|{}|{}", network_label(p), scalar(p["hardware"]),
                       overrides_text(p), scalar(p["fp_layers"]), scalar(p["batch"]),
                       scalar(p["onchip"]));
  };
  std::map<std::string, const PointRecord*> baseline;
  for (const auto& r : records) {
    const auto& p = r.params;
    if (r.status != PointStatus::kDone || !p.contains("abits") || p["abits"] != p["wbits"])
      continue;
    baseline[context(p) + "|" + scalar(p["abits"])] = &r;
  }
  // series: (network, hardware, B) -> points (G, speedup, energy efficiency)
  std::map<std::string, std::vector<std::array<double, 3>>> series;
  for (const auto& r : records) {
    const auto& p = r.params;
    if (r.status != PointStatus::kDone || scalar(p["method"]) != "palquant") continue;
    const int B = p["B"].get<int>(), G = p["G"].get<int>();
    auto it = baseline.find(context(p) + "|" + std::to_string(B * G));
    if (it == baseline.end()) continue;
    const std::string name = fmt::format("{} {} B={}{}", network_label(p),
                                         fs::path(scalar(p["hardware"])).stem().string(), B,
                                         overrides_text(p).empty() ? "" : " " + overrides_text(p));
    series[name].push_back({static_cast<double>(G),
                            static_cast<double>(it->second->cycles) / r.cycles,
                            it->second->energy_pj / r.energy_pj});
  }
  auto gnuplot = [&](const std::string& stem, const std::string& body) {
    for (const char* term : {"png", "svg"}) {
      const std::string out = fmt::format("{}/{}.{}", dir, stem, term);
      if (draw_with_gnuplot(out, term, "size 1200,650 font ',12'", body,
                            fmt::format("{}/{}.gp", dir, stem))) {
        written.push_back(out);
      } else {
        fmt::print(stderr, "plot: gnuplot failed for {} (tools/setup installs gnuplot)\n", out);
      }
    }
  };
  if (!series.empty()) {
    std::string data = csv_provenance(records) + "series,G,speedup,energy_efficiency\n";
    std::string plot_s, plot_e;
    int idx = 0;
    for (auto& [name, pts] : series) {
      std::sort(pts.begin(), pts.end());
      const std::string file = fmt::format("{}/speedup_series{}.dat", dir, idx);
      std::string d;
      for (const auto& v : pts) {
        d += fmt::format("{} {:.4f} {:.4f}\n", v[0], v[1], v[2]);
        data += fmt::format("{},{},{:.4f},{:.4f}\n", csv_field(name), v[0], v[1], v[2]);
      }
      write_file_atomically(file, d);
      // Distinct markers, so overlapping series stay visible.
      plot_s +=
          fmt::format("{}{} using 1:2 with linespoints pt {} ps 1.5 lw 2 title {}", idx ? ", " : "",
                      gnuplot_string(file), 4 + 2 * idx, gnuplot_string(name));
      plot_e +=
          fmt::format("{}{} using 1:3 with linespoints pt {} ps 1.5 lw 2 title {}", idx ? ", " : "",
                      gnuplot_string(file), 4 + 2 * idx, gnuplot_string(name));
      ++idx;
    }
    write_file_atomically(dir + "/speedup_vs_G.csv", data);
    written.push_back(dir + "/speedup_vs_G.csv");
    // Integer G ticks, half a step of room either side (a single G is a
    // readable point, not a 0.02-wide axis), ratios from 0 so that bars of
    // different series compare, the legend under the plot (series names are long), names literal.
    const std::string against_g =
        "set termoption noenhanced\nset key below box\nset grid\nset xtics 1\n"
        "set offsets 0.5, 0.5, 0, 0\nset yrange [0:*]\nset xlabel 'G (parallel 2-bit groups)'\n";
    gnuplot("speedup_vs_G", against_g +
                                "set title 'PalQuant speedup over the B*G-bit baseline'\n"
                                "set ylabel 'speedup (baseline cycles / PalQuant cycles)'\nplot " +
                                plot_s + "\n");
    gnuplot("energy_efficiency_vs_G",
            against_g +
                "set title 'PalQuant energy efficiency over the B*G-bit baseline'\n"
                "set ylabel 'energy efficiency (baseline energy / PalQuant energy)'\nplot " +
                plot_e + "\n");
    for (int i = 0; i < idx; ++i) fs::remove(fmt::format("{}/speedup_series{}.dat", dir, i));
  }
  // Accuracy against energy of the trained-model points, one series per
  // accelerator (with its overrides and lowering), each point labelled.
  std::map<std::string, std::string> accuracy_series;
  std::string accuracy_csv =
      csv_provenance(records) + "series,label,energy_uj,cycles,accuracy_percent\n";
  double energy_lo = 0, energy_hi = 0;
  for (const auto& r : records) {
    if (r.status != PointStatus::kDone || !r.result.contains("accuracy")) continue;
    const auto& p = r.params;
    std::string name = fs::path(scalar(p["hardware"])).stem().string();
    if (!overrides_text(p).empty()) name += " " + overrides_text(p);
    if (p.contains("onchip") && !p["onchip"].get<bool>()) name += " no-onchip";
    const double acc = 100 * r.result["accuracy"].get<double>();
    const double uj = r.energy_pj / 1e6;
    energy_lo = accuracy_series.empty() ? uj : std::min(energy_lo, uj);
    energy_hi = accuracy_series.empty() ? uj : std::max(energy_hi, uj);
    accuracy_series[name] += fmt::format("{:.4f} {:.3f} \"{}\"\n", uj, acc, scalar(p["label"]));
    accuracy_csv += fmt::format("{},{},{:.4f},{},{:.3f}\n", csv_field(name),
                                csv_field(scalar(p["label"])), uj, r.cycles, acc);
  }
  if (!accuracy_series.empty()) {
    write_file_atomically(dir + "/accuracy_vs_energy.csv", accuracy_csv);
    written.push_back(dir + "/accuracy_vs_energy.csv");
    std::string plot;
    int idx = 0;
    for (const auto& [name, d] : accuracy_series) {
      const std::string file = fmt::format("{}/accuracy_series{}.dat", dir, idx);
      write_file_atomically(file, d);
      // Distinct markers per accelerator; each point labelled with its model.
      plot += fmt::format(
          "{}{} using 1:2 with points pt {} ps 2 lw 2 title {}, '' using 1:2:3 with labels "
          "left offset char 1,0.8 font ',11' notitle",
          idx ? ", " : "", gnuplot_string(file), 4 + 2 * idx, gnuplot_string(name));
      ++idx;
    }
    // Accuracy on its whole 0-100 % scale; energies with room either side
    // (10 % of their span, or of the value for a single energy), so no
    // point or label sits on the frame.
    const double pad = 0.1 * (energy_hi > energy_lo ? energy_hi - energy_lo : energy_hi);
    gnuplot("accuracy_vs_energy",
            fmt::format(
                "set termoption noenhanced\nset title 'Trained models: top-1 accuracy "
                "against energy per inference' font ',14'\nset xlabel 'energy per inference (uJ)'\n"
                "set ylabel 'top-1 accuracy (%)'\nset xrange [{}:{}]\nset yrange [0:100]\n"
                "set key below box spacing 1.3\nset bmargin 7\nset grid\nplot ",
                std::max(0.0, energy_lo - pad), energy_hi + pad) +
                plot + "\n");
    for (int i = 0; i < idx; ++i) fs::remove(fmt::format("{}/accuracy_series{}.dat", dir, i));
  }
  // Energy breakdown of every finished point (stacked bars).
  std::string rows = csv_provenance(records) + "point,core,sram,dram\n";
  int n = 0;
  // One network shape for every point: it goes into the title and the bar
  // labels stay short; otherwise each label names its shape.
  std::set<std::string> shapes;
  for (const auto& r : records) {
    if (r.status == PointStatus::kDone) shapes.insert(network_label(r.params));
  }
  const bool one_shape = shapes.size() == 1;
  for (const auto& r : records) {
    if (r.status != PointStatus::kDone || !r.result.contains("energy_breakdown_pj")) continue;
    const auto& b = r.result["energy_breakdown_pj"];
    const auto& p = r.params;
    std::string label = fmt::format(
        "{}-{}", scalar(p["method"]),
        p.contains("G")       ? fmt::format("B{}G{}", scalar(p["B"]), scalar(p["G"]))
        : p.contains("label") ? scalar(p["label"])
                              : fmt::format("A{}W{}", scalar(p["abits"]), scalar(p["wbits"])));
    if (!one_shape) label = network_label(p) + " " + label;
    label += "-" + fs::path(scalar(p["hardware"])).stem().string();
    if (!overrides_text(p).empty()) label += "-" + overrides_text(p);
    std::map<std::string, double> group_uj;  // core, sram, dram
    for (const auto& e : frontend::energy_components()) {
      if (b.contains(e.key) && b[e.key].is_number())
        group_uj[e.group] += b[e.key].get<double>() / 1e6;
    }
    rows += fmt::format("{},{:.4f},{:.4f},{:.4f}\n", csv_field(label), group_uj["core"],
                        group_uj["sram"], group_uj["dram"]);
    ++n;
  }
  if (n > 0) {
    write_file_atomically(dir + "/energy_breakdown.csv", rows);
    written.push_back(dir + "/energy_breakdown.csv");
    gnuplot("energy_breakdown",
            fmt::format("set termoption noenhanced\nset datafile separator ','\n"
                        "set style data histograms\nset style histogram rowstacked\n"
                        "set style fill solid 0.8 border -1\nset boxwidth 0.7\n"
                        "set xtics rotate by -30 left\nset grid ytics\nset yrange [0:*]\n"
                        "set title {}\nset ylabel 'energy per inference (uJ)'\n"
                        "set key outside right top box autotitle columnhead\n"
                        "plot {} using 2:xtic(1), '' using 3, '' using 4\n",
                        gnuplot_string("energy per inference by component" +
                                       (one_shape ? ": " + *shapes.begin() : std::string())),
                        gnuplot_string(dir + "/energy_breakdown.csv")));
  }
  return written;
}

}  // namespace palsim::cli
