#include "cli/table2.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "cli/options.h"
#include "common/error.h"
#include "common/progress.h"
#include "common/yaml_reader.h"
#include "frontend/arch/access_cost.h"
#include "frontend/arch/hw_config_json.h"
#include "frontend/builders/registry.h"
#include "frontend/builders/request_fields.h"
#include "frontend/builders/request_json.h"
#include "frontend/lowering/compile.h"
#include "sim/compile.h"
#include "sim/simulator.h"

namespace palsim::cli {

std::vector<PaperRow> load_paper_table2(const std::string& path) {
  YAML::Node root = load_yaml_file(path);
  YamlMap doc(root, path, "");
  std::string format;
  doc.read("format", format);
  if (format != "palsim-paper-table2-1") doc.fail("format", "expected palsim-paper-table2-1");
  std::vector<PaperRow> rows;
  for (auto& m : doc.list_of_maps("rows")) {
    PaperRow r;
    m.read_choice("accelerator", r.accelerator, {"bitfusion", "bpvec"});
    m.read("network", r.network);
    m.read_choice("baseline", r.baseline, {"lsq", "ewgs"});
    // M is the baseline's operand width: the range of lsq's bits.
    const auto& bits = frontend::field_info(frontend::RequestField::kABits);
    m.read("M", r.M, static_cast<int>(bits.min), static_cast<int>(bits.max));
    frontend::read_field(m, frontend::RequestField::kG, r.G);
    m.read("speedup", r.speedup, 0.0, 1e6);
    m.read("energy_efficiency", r.energy_efficiency, 0.0, 1e6);
    m.finish();
    rows.push_back(r);
  }
  doc.finish();
  return rows;
}

namespace {

struct Task {
  size_t row;
  int side;  // 0 baseline, 1 palquant, 2 palquant without on-chip intermediates
  const frontend::HwConfig* hw;
  frontend::NetworkRequest request;
  frontend::LoweringOptions lowering;
};

}  // namespace

void apply_offchip_choice(frontend::HwConfig& hw, const std::string& choice) {
  if (choice.empty()) return;
  if (choice == "bandwidth" || choice == "ddr4") {
    frontend::apply_hw_override(hw, "offchip.model=" + choice);
    return;
  }
  if (choice == "ddr4-ideal") {
    const frontend::Ddr4Cost ddr4(hw.offchip.ddr4, hw.clock_mhz);
    const auto bits = static_cast<int64_t>(std::floor(ddr4.sequential_bits_per_cycle()));
    const auto latency = static_cast<int64_t>(std::lround(ddr4.latency_cycles()));
    frontend::apply_hw_override(hw, "offchip.model=bandwidth");
    frontend::apply_hw_override(hw, fmt::format("offchip.bits_per_cycle={}", bits));
    frontend::apply_hw_override(hw, fmt::format("offchip.latency_cycles={}", latency));
    return;
  }
  throw UsageError(
      fmt::format("--offchip: must be bandwidth, ddr4 or ddr4-ideal, got '{}'", choice));
}

Table2Result run_table2(const Table2Options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  Table2Result result;
  result.options = o;
  result.hardware.emplace_back("bitfusion", frontend::load_hw_config(o.hw_bitfusion));
  result.hardware.emplace_back("bpvec", frontend::load_hw_config(o.hw_bpvec));
  if (result.hardware[0].second.kind != frontend::AcceleratorKind::kBitFusion) {
    throw InputError(
        fmt::format("--hw-bitfusion: '{}' is not a Bit Fusion configuration", o.hw_bitfusion));
  }
  if (result.hardware[1].second.kind != frontend::AcceleratorKind::kBpvec) {
    throw InputError(fmt::format("--hw-bpvec: '{}' is not a BPVeC configuration", o.hw_bpvec));
  }
  for (auto& named : result.hardware) apply_offchip_choice(named.second, o.offchip);
  const std::vector<PaperRow> paper = load_paper_table2(o.paper_file);

  std::vector<Task> tasks;
  for (const auto& [acc, hw] : result.hardware) {
    for (const auto& net : o.networks) {
      for (int M : o.bits) {
        Table2Row row;
        row.accelerator = acc;
        row.hardware = frontend::hw_display_name(hw);
        row.network = net;
        row.M = M;
        row.G = M / 2;
        const std::string base = acc == "bitfusion" ? "lsq" : "ewgs";
        for (const auto& p : paper) {
          if (p.accelerator == acc && p.network == net && p.M == M && p.baseline == base) {
            row.paper_speedup = p.speedup;
            row.paper_energy_efficiency = p.energy_efficiency;
          }
        }
        const size_t index = result.rows.size();
        result.rows.push_back(row);
        frontend::NetworkRequest b;
        b.network = net;
        b.method.method = base == "lsq" ? frontend::Method::kLsq : frontend::Method::kEwgs;
        b.method.a_bits = b.method.w_bits = M;
        frontend::NetworkRequest q;
        q.network = net;
        q.method.method = frontend::Method::kPalQuant;
        q.method.B = 2;
        q.method.G = M / 2;
        tasks.push_back({index, 0, &hw, b, o.lowering});
        tasks.push_back({index, 1, &hw, q, o.lowering});
        if (o.onchip_effect) {
          frontend::LoweringOptions off = o.lowering;
          off.onchip_intermediates = false;
          tasks.push_back({index, 2, &hw, q, off});
        }
      }
    }
  }

  Progress progress("table2", "runs", static_cast<int64_t>(tasks.size()), o.progress);
  std::atomic<size_t> next{0}, done{0};
  std::mutex mutex;
  std::exception_ptr error;
  auto worker = [&]() {
    while (true) {
      const size_t k = next++;
      if (k >= tasks.size()) return;
      const Task& t = tasks[k];
      try {
        const frontend::Network net = frontend::resolve_network(t.request);
        const frontend::Compiled c =
            sim::compile(*t.hw, net, t.lowering, o.refine, o.cycle_tolerance);
        sim::SimOptions so;
        sim::RunStats stats = sim::simulate(*t.hw, c.program, so);
        std::lock_guard<std::mutex> lock(mutex);
        Table2Side& side = t.side == 0   ? result.rows[t.row].baseline
                           : t.side == 1 ? result.rows[t.row].palquant
                                         : result.rows[t.row].palquant_offchip;
        side.method = t.request.method.label();
        side.layers_hash = frontend::network_hash(net);
        side.cycles = stats.cycles;
        side.energy_pj = stats.energy.total();
        side.stats = std::move(stats);
        progress.update(static_cast<int64_t>(++done));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        next = tasks.size();
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < std::max(1, o.jobs); ++i) pool.emplace_back(worker);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  progress.finish();

  for (auto& r : result.rows) {
    r.speedup = static_cast<double>(r.baseline.cycles) / static_cast<double>(r.palquant.cycles);
    r.energy_efficiency = r.baseline.energy_pj / r.palquant.energy_pj;
    if (o.onchip_effect) {
      r.onchip_speedup =
          static_cast<double>(r.palquant_offchip.cycles) / static_cast<double>(r.palquant.cycles);
      r.onchip_energy = r.palquant_offchip.energy_pj / r.palquant.energy_pj;
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace palsim::cli
