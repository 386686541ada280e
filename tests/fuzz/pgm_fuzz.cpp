// Fuzz target: the binary PGM reader of image-folder datasets
// (training/dataset: read_pgm_file).
#include "tests/fuzz/fuzz_util.h"
#include "training/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace palsim::fuzz;
  const std::string path = write_scratch("pgm/fuzz.pgm", data, size);
  expect_clean_rejection(path, [&] {
    int w = 0, h = 0;
    const std::vector<uint8_t> px = palsim::training::read_pgm_file(path, w, h);
    if (px.size() != static_cast<size_t>(w) * static_cast<size_t>(h)) std::abort();
  });
  return 0;
}
