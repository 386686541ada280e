// Throughput of the DDR4 off-chip model: bursts simulated per second of host
// time. serve() runs for every DMA transfer of a network (up to ~10^6 bursts
// for a ResNet inference); the aim is 20 M bursts/s (not met: README, Performance).
// The device is the shipped Bit Fusion configuration (configs/bitfusion.yaml).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "frontend/arch/hw_config.h"
#include "sim/memory/ddr4_memory.h"

namespace {

using palsim::sim::Ddr4Memory;
using palsim::sim::DramAccess;

const palsim::frontend::HwConfig& shipped() {
  static const palsim::frontend::HwConfig hw =
      palsim::frontend::load_hw_config(std::string(PALSIM_SOURCE_DIR) + "/configs/bitfusion.yaml");
  return hw;
}

// Serves `access` back to back (each transfer starting when the previous one
// completes, at a fresh address) and reports bursts per second.
void run(benchmark::State& state, palsim::frontend::PagePolicy page_policy, DramAccess access,
         uint64_t address_step_bits) {
  palsim::frontend::Ddr4Config config = shipped().offchip.ddr4;
  config.page_policy = page_policy;
  Ddr4Memory memory(config, shipped().clock_mhz);
  uint64_t cycle = 0;
  for (auto _ : state) {
    cycle += memory.serve(cycle, access);
    access.base_bit += address_step_bits;
  }
  benchmark::DoNotOptimize(cycle);
  const auto bursts = static_cast<double>(memory.stats().bursts);
  state.counters["bursts_per_second"] = benchmark::Counter(bursts, benchmark::Counter::kIsRate);
  state.counters["bursts_per_transfer"] = bursts / static_cast<double>(memory.stats().transfers);
}

// Sequential reads, one transfer of `range(0)` bytes at a time.
void BM_Ddr4SequentialRead(benchmark::State& state) {
  DramAccess a;
  a.run_bits = static_cast<uint64_t>(state.range(0)) * 8;
  run(state, palsim::frontend::PagePolicy::kOpen, a, a.run_bits);
}
BENCHMARK(BM_Ddr4SequentialRead)->Arg(256)->Arg(4096)->Arg(1 << 20);

void BM_Ddr4SequentialWrite(benchmark::State& state) {
  DramAccess a;
  a.write = true;
  a.run_bits = static_cast<uint64_t>(state.range(0)) * 8;
  run(state, palsim::frontend::PagePolicy::kOpen, a, a.run_bits);
}
BENCHMARK(BM_Ddr4SequentialWrite)->Arg(1 << 20);

// A tile of a strided tensor: 64 runs of 96 B, 1 KiB apart.
void BM_Ddr4StridedTile(benchmark::State& state) {
  DramAccess a;
  a.run_bits = 96 * 8;
  a.inner_count = 64;
  a.inner_stride_bits = 1024 * 8;
  run(state, palsim::frontend::PagePolicy::kOpen, a, 64 * 1024 * 8);
}
BENCHMARK(BM_Ddr4StridedTile);

// Every burst a row conflict in one bank: the slow path (PRE, ACT, RD).
void BM_Ddr4RowConflicts(benchmark::State& state) {
  DramAccess a;
  a.run_bits = 512;
  a.inner_count = 4096;
  a.inner_stride_bits = 64 * 1024 * 8;
  run(state, palsim::frontend::PagePolicy::kOpen, a, 512);
}
BENCHMARK(BM_Ddr4RowConflicts);

void BM_Ddr4SequentialReadClosedPage(benchmark::State& state) {
  DramAccess a;
  a.run_bits = (1 << 20) * 8;
  run(state, palsim::frontend::PagePolicy::kClosed, a, a.run_bits);
}
BENCHMARK(BM_Ddr4SequentialReadClosedPage);

}  // namespace

BENCHMARK_MAIN();
