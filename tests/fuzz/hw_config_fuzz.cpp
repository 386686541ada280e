// Fuzz target: the hardware configuration reader (frontend/arch/hw_config),
// following `base:` chains. The input is the configuration file; copies of
// configs/bitfusion.yaml and configs/bpvec.yaml sit next to it so derived
// files resolve their base.
#include "frontend/arch/hw_config.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace palsim::fuzz;
  copy_source_file("configs/bitfusion.yaml", "hw/bitfusion.yaml");
  copy_source_file("configs/bpvec.yaml", "hw/bpvec.yaml");
  const std::string path = write_scratch("hw/fuzz.yaml", data, size);
  expect_clean_rejection(path, [&] { palsim::frontend::load_hw_config(path); });
  return 0;
}
