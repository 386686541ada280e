// Fuzz target: the training configuration reader (training/config).
#include "tests/fuzz/fuzz_util.h"
#include "training/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  palsim::fuzz::expect_clean_rejection("fuzz-train.yaml", [&] {
    const palsim::training::TrainConfig c =
        palsim::training::parse_train_config(text, "fuzz-train.yaml", "/tmp");
    // The resolved configuration must read back (what `palsim train` writes
    // into its run directory and compares on resume).
    palsim::training::parse_train_config(c.to_yaml(), "fuzz-train.yaml", "/tmp");
  });
  return 0;
}
