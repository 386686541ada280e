// Simulation speed, measured (issue: fast mode under 1 s for a whole
// ResNet-18, detailed mode at least 50 M FU-cycles/s).
//   build/tools/bench/bench_simulate --benchmark_filter=Fast
// Counters: simulated cycles per second (fast), FU-cycles per second (detailed:
// simulated cycles x array units / wall time of the simulation).
#include <benchmark/benchmark.h>

#include "frontend/builders/registry.h"
#include "frontend/lowering/compile.h"
#include "sim/compile.h"
#include "sim/simulator.h"

using namespace palsim;

namespace {

frontend::Network network(const std::string& method, int g_or_bits, int input) {
  frontend::NetworkRequest r;
  r.network = "resnet18";
  if (method == "palquant") {
    r.method.method = frontend::Method::kPalQuant;
    r.method.G = g_or_bits;
  } else {
    r.method.method = frontend::Method::kLsq;
    r.method.a_bits = r.method.w_bits = g_or_bits;
  }
  if (input != 224) r.input_size = input;
  return frontend::resolve_network(r);
}

const frontend::HwConfig& bitfusion() {
  static const frontend::HwConfig hw =
      frontend::load_hw_config(PALSIM_SOURCE_DIR "/configs/bitfusion.yaml");
  return hw;
}

// Whole ResNet-18 (ImageNet shapes): compile (mapping search, with the
// default refinement by simulation) and simulate, as `palsim simulate` does.
void BM_FastResNet18(benchmark::State& state, const std::string& method, int arg) {
  const frontend::Network net = network(method, arg, 224);
  uint64_t cycles = 0;
  for (auto _ : state) {
    frontend::clear_mapping_cache();
    const frontend::Compiled c = sim::compile(bitfusion(), net, frontend::LoweringOptions{},
                                              static_cast<size_t>(state.range(0)));
    const sim::RunStats r = sim::simulate(bitfusion(), c.program, sim::SimOptions{});
    cycles = r.cycles;
    benchmark::DoNotOptimize(cycles);
  }
  state.counters["simulated_cycles"] = static_cast<double>(cycles);
}

// The simulation alone (program compiled once).
void BM_FastResNet18SimOnly(benchmark::State& state, const std::string& method, int arg) {
  const frontend::Compiled c = frontend::compile_network(bitfusion(), network(method, arg, 224),
                                                         frontend::LoweringOptions{});
  uint64_t cycles = 0;
  for (auto _ : state) {
    cycles = sim::simulate(bitfusion(), c.program, sim::SimOptions{}).cycles;
    benchmark::DoNotOptimize(cycles);
  }
  state.counters["cycles_per_second"] = benchmark::Counter(
      static_cast<double>(cycles), benchmark::Counter::kIsIterationInvariantRate);
}

// Detailed mode: every Fusion Unit stepped each cycle, values computed.
void BM_Detailed(benchmark::State& state, const std::string& method, int arg, int input) {
  const frontend::Compiled c = frontend::compile_network(bitfusion(), network(method, arg, input),
                                                         frontend::LoweringOptions{});
  sim::SimOptions o;
  o.mode = sim::SimMode::kDetailed;
  o.graph = &c.plan.graph;
  o.check_values = false;
  double fu_cycles = 0, wall = 0;
  for (auto _ : state) {
    const sim::RunStats r = sim::simulate(bitfusion(), c.program, o);
    fu_cycles = static_cast<double>(r.cycles) * bitfusion().array.rows * bitfusion().array.cols;
    wall = r.wall_seconds;
  }
  state.counters["fu_cycles"] = fu_cycles;
  state.counters["fu_cycles_per_second_in_child"] = wall > 0 ? fu_cycles / wall : 0;
  // Wall time: the work happens in a child process.
  state.counters["fu_cycles_per_second"] =
      benchmark::Counter(fu_cycles, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

// Argument: mapping candidates simulated per layer (1: the estimate alone).
// Wall time: the layers are searched on every core.
BENCHMARK_CAPTURE(BM_FastResNet18, lsq_a4w4, std::string("lsq"), 4)
    ->Arg(1)
    ->Arg(4)
    ->Arg(8)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_FastResNet18, palquant_g2, std::string("palquant"), 2)
    ->Arg(1)
    ->Arg(4)
    ->Arg(8)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_FastResNet18SimOnly, lsq_a4w4, std::string("lsq"), 4)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FastResNet18SimOnly, palquant_g2, std::string("palquant"), 2)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Detailed, resnet18_palquant_g2_224, std::string("palquant"), 2, 224)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Detailed, resnet18_lsq_a4w4_224, std::string("lsq"), 4, 224)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

BENCHMARK_MAIN();
