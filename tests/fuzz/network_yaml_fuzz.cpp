// Fuzz target: the YAML network reader (frontend/ir/network_yaml), including
// shape inference of the network it describes.
#include "frontend/ir/network_yaml.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  palsim::fuzz::expect_clean_rejection("fuzz-network.yaml", [&] {
    palsim::frontend::parse_network_yaml(text, "fuzz-network.yaml");
  });
  return 0;
}
