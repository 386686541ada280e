// Fuzz target: the IDX dataset reader (training/dataset: read_idx_file and
// load_fashion_mnist). The input holds both files of a split: its first 4
// bytes (little endian, modulo the remaining size) give the length of the
// image file; the rest is the label file. Files may be plain or gzipped.
#include <algorithm>

#include "tests/fuzz/fuzz_util.h"
#include "training/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace palsim::fuzz;
  if (size < 4) return 0;
  const size_t rest = size - 4;
  const uint32_t announced = uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 |
                             uint32_t(data[3]) << 24;
  const size_t images = rest ? announced % (rest + 1) : 0;
  write_scratch("idx/train-images-idx3-ubyte.gz", data + 4, images);
  write_scratch("idx/train-labels-idx1-ubyte.gz", data + 4 + images, rest - images);
  const std::string dir = scratch_dir() + "/idx";
  expect_clean_rejection(dir, [&] {
    const auto set = palsim::training::load_fashion_mnist(dir, "train");
    // Touch every image the reader accepted.
    std::vector<uint8_t> px(static_cast<size_t>(set->image_shape().elements()));
    for (int64_t i = 0; i < set->size(); ++i) set->get(i, px.data());
  });
  return 0;
}
