// Compile time against network depth: a chain of N residual pairs of 3x3
// convolutions (16 channels, 8x8), compiled with the simulator in the loop.
// Compile time must grow linearly with the layer count (a per-candidate copy
// of the whole network once made it quadratic: 2.5k / 5k / 10k convs took
// 1.4 / 4.6 / 19.9 s); the fitted complexity is printed as BigO.
//   build/tools/bench/bench_compile_scaling
#include <benchmark/benchmark.h>

#include <string>

#include "frontend/arch/hw_config.h"
#include "frontend/ir/network.h"
#include "frontend/lowering/compile.h"
#include "frontend/lowering/plan.h"
#include "sim/compile.h"

using namespace palsim;

namespace {

frontend::Network chain(int convs) {
  frontend::Network net("chain" + std::to_string(convs));
  int prev = net.add("input", frontend::InputAttrs{frontend::Shape{16, 8, 8}}, {},
                     frontend::LayerRole::kBody);
  int block_in = prev;
  for (int i = 0; i < convs; ++i) {
    frontend::ConvAttrs c;
    c.out_channels = 16;
    c.kernel_h = c.kernel_w = 3;
    c.pad_h = c.pad_w = 1;
    c.quant = frontend::QuantSpec{frontend::Quantizer::kLsq, 4, 4, 0};
    prev = net.add("c" + std::to_string(i), c, {prev});
    if (i % 2 == 1) prev = net.add("a" + std::to_string(i), frontend::AddAttrs{}, {prev, block_in});
    prev = net.add("r" + std::to_string(i), frontend::ReluAttrs{}, {prev});
    if (i % 2 == 1) block_in = prev;
  }
  net.infer_shapes();
  return net;
}

void CompileChain(benchmark::State& state) {
  static const frontend::HwConfig hw =
      frontend::load_hw_config(std::string(PALSIM_SOURCE_DIR) + "/configs/bitfusion.yaml");
  const frontend::Network net = chain(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    frontend::clear_mapping_cache();
    benchmark::DoNotOptimize(sim::compile(hw, net, frontend::LoweringOptions{}));
  }
  state.SetComplexityN(state.range(0));
}
BENCHMARK(CompileChain)
    ->RangeMultiplier(2)
    ->Range(1250, 10000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oN);

}  // namespace

BENCHMARK_MAIN();
