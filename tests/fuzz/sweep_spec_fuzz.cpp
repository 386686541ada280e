// Fuzz target: the sweep specification reader (cli/sweep_spec), including the
// expansion into points. The input is sweeps/fuzz.yaml in a scratch tree that
// mirrors configs/ (../bitfusion.yaml, ../bpvec.yaml) so the hardware lists of
// the shipped sweeps resolve.
#include "cli/sweep_spec.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace palsim::fuzz;
  copy_source_file("configs/bitfusion.yaml", "sweep/bitfusion.yaml");
  copy_source_file("configs/bpvec.yaml", "sweep/bpvec.yaml");
  copy_source_file("workloads/examples/tiny.yaml", "sweep/sweeps/tiny.yaml");
  const std::string path = write_scratch("sweep/sweeps/fuzz.yaml", data, size);
  expect_clean_rejection(path, [&] { palsim::cli::load_sweep(path); });
  return 0;
}
