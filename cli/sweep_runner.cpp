#include "cli/sweep_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <thread>

#include "cli/model_data.h"
#include "cli/provenance.h"
#include "common/build_info.h"
#include "common/error.h"
#include "common/fnv1a.h"
#include "common/progress.h"
#include "frontend/arch/hw_config_json.h"
#include "frontend/builders/registry.h"
#include "frontend/builders/request_json.h"
#include "frontend/lowering/compile.h"
#include "sim/compile.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace palsim::cli {

namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<int> g_signal{0};

extern "C" void on_interrupt(int sig) {
  g_signal = sig;
  g_interrupted = true;
  // A second Ctrl-C ends the process at once.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

frontend::HwConfig resolve_hw(const SweepPoint& p) {
  frontend::HwConfig hw = frontend::load_hw_config(p.hardware);
  for (const auto& [k, v] : *p.overrides) frontend::apply_hw_override(hw, k + "=" + v);
  return hw;
}

// The figures of a finished point and what produced them (provenance: the
// build, the resolved configuration, the network's layers).
void record_stats(const frontend::HwConfig& hw, const sim::RunStats& s,
                  const nlohmann::json& network, PointRecord& r) {
  r.status = PointStatus::kDone;
  r.cycles = s.cycles;
  r.energy_pj = s.energy.total();
  r.result = {{"energy_breakdown_pj", sim::energy_to_json(s.energy)},
              {"utilization", s.utilization},
              {"mac_utilization", s.mac_utilization},
              {"dram_bits", s.counts.dram_read_bits + s.counts.dram_write_bits},
              {"hardware_name", frontend::hw_display_name(hw)},
              {"multipliers", hw.multipliers()}};
  r.result["provenance"] = provenance_json(&hw, network, nullptr);
}

// A trained model: cycles and energy of its network (as `palsim evaluate`
// compiles it), and its accuracy: the trained model's top-1 over the test
// images export stored (palsim validate checks the integer path gives the
// same top-1 on every one of them; running the integer path here would cost
// a minute per point for the same figure).
void run_model_point(const SweepPoint& p, const frontend::HwConfig& hw, PointRecord& r) {
  const training::IntegerModelFile m = training::read_integer_model(p.model);
  if (!m.reference || m.reference->images == 0) {
    throw InputError(
        fmt::format("{}: holds no test predictions (export it again with palsim export)", p.model));
  }
  const frontend::Compiled c =
      compile_model(hw, m, p.lowering.onchip_intermediates, sim::kDefaultRefineCandidates,
                    sim::kDefaultCycleTolerance, false);
  sim::SimOptions so;
  so.mode = p.mode;
  so.graph = &c.plan.graph;
  // Timing and energy do not depend on the values: detailed points run the
  // synthetic values (palsim validate --sim-images runs the model's own).
  const sim::RunStats s = sim::simulate(hw, c.program, so);
  record_stats(hw, s, model_provenance(p.model, m.network), r);
  if (so.mode == sim::SimMode::kDetailed) r.result["bit_exact"] = s.bit_exact;
  sim::require_bit_exact(s);
  const auto& ref = *m.reference;
  const size_t classes = static_cast<size_t>(m.classes());
  int64_t correct = 0;
  for (int64_t i = 0; i < ref.images; ++i) {
    const float* l = ref.logits.data() + static_cast<size_t>(i) * classes;
    const auto top = static_cast<int64_t>(std::max_element(l, l + classes) - l);
    correct += top == ref.labels[static_cast<size_t>(i)];
  }
  r.result["accuracy"] = static_cast<double>(correct) / static_cast<double>(ref.images);
  r.result["accuracy_images"] = ref.images;
  r.result["accuracy_dataset"] = ref.dataset;
}

}  // namespace

PointRecord run_point(const SweepPoint& p) {
  const auto t0 = std::chrono::steady_clock::now();
  PointRecord r;
  r.params = p.params();
  try {
    const frontend::HwConfig hw = resolve_hw(p);
    r.key = point_key(p, hw);
    if (!p.model.empty()) {
      run_model_point(p, hw, r);
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return r;
    }
    const frontend::NetworkRequest req = p.request();
    const frontend::Network net = frontend::resolve_network(req);
    const frontend::Compiled c = sim::compile(hw, net, p.lowering);
    sim::SimOptions so;
    so.mode = p.mode;
    so.graph = &c.plan.graph;
    const sim::RunStats s = sim::simulate(hw, c.program, so);
    record_stats(hw, s, network_provenance(req, net), r);
    if (so.mode == sim::SimMode::kDetailed) r.result["bit_exact"] = s.bit_exact;
    sim::require_bit_exact(s);
  } catch (const std::exception& e) {
    r.status = PointStatus::kFailed;
    r.error = e.what();
  }
  if (r.key.empty()) {
    // No hardware could be resolved: key by the parameters alone.
    r.key = fnv1a64_hex(r.params.dump() + "|" + simulator_version(), kFnv1aLegacyBasis);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

SweepSummary run_sweep(const SweepSpec& spec, ResultDb& db, const SweepRunOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  SweepSummary sum;
  // The points of this shard that still need running.
  std::vector<const SweepPoint*> todo;
  std::map<std::string, std::string> keys;
  std::map<std::string, frontend::HwConfig> hw_cache;
  bool existing = false;
  for (size_t i = 0; i < spec.points.size(); ++i) {
    if (static_cast<int>(i % static_cast<size_t>(o.shard_count)) != o.shard_index) continue;
    ++sum.total;
    const SweepPoint& p = spec.points[i];
    std::string key;
    try {
      const std::string hk = p.hardware + "|" + nlohmann::json(p.params()["overrides"]).dump();
      auto it = hw_cache.find(hk);
      if (it == hw_cache.end()) it = hw_cache.emplace(hk, resolve_hw(p)).first;
      key = point_key(p, it->second);
    } catch (const InputError&) {
      todo.push_back(&p);  // recorded as failed by run_point
      continue;
    }
    const auto rec = db.find(key);
    if (rec) existing = true;
    if (rec && rec->status == PointStatus::kDone && o.resume) {
      ++sum.skipped;
      continue;
    }
    todo.push_back(&p);
  }
  if (existing && !o.resume) {
    throw InputError(fmt::format(
        "{}: already holds results of points of this sweep; continue it with --resume, or "
        "give another --db",
        db.path()));
  }
  // Refused here, before any point runs, when another sweep holds the database.
  db.claim_run();
  g_interrupted = false;
  g_signal = 0;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  int jobs = std::max(1, o.jobs);
  for (const auto* p : todo) {
    if (p->mode == sim::SimMode::kDetailed)
      jobs = 1;  // each detailed point forks a child; keep the parent single-threaded
  }
  Progress progress(fmt::format("sweep {}", spec.name), "points", static_cast<int64_t>(todo.size()),
                    o.progress);
  std::atomic<size_t> next{0}, done{0}, failed{0};
  std::mutex mutex;
  std::exception_ptr fatal;
  auto worker = [&]() {
    while (!g_interrupted) {
      const size_t k = next++;
      if (k >= todo.size()) return;
      PointRecord r = run_point(*todo[k]);
      r.seq = todo[k] - spec.points.data();  // exports list points in sweep order, whatever -j
      try {
        db.put(r);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!fatal) fatal = std::current_exception();
        g_interrupted = true;
        return;
      }
      if (r.status == PointStatus::kFailed) ++failed;
      const size_t d = ++done;
      std::lock_guard<std::mutex> lock(mutex);
      progress.update(static_cast<int64_t>(d), fmt::format("{} failed", failed.load()));
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < jobs; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (fatal) std::rethrow_exception(fatal);
  sum.done = done - failed;
  sum.failed = failed;
  sum.interrupted = g_interrupted && done < todo.size();
  sum.signal = sum.interrupted ? g_signal.load() : 0;
  if (sum.interrupted) {
    progress.stop(fmt::format("stopped by {}: {} of {} points stored ({} failed)",
                              sum.signal == SIGTERM ? "SIGTERM" : "SIGINT", done.load(),
                              todo.size(), failed.load()));
  } else {
    progress.finish(fmt::format("{} failed", failed.load()));
  }
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace palsim::cli
