// Training configuration (schema errors name file, line and key; the resolved
// form reads back identically), datasets (Fashion-MNIST IDX files, PGM image
// folders, errors naming the file or package), the checkpoint file format.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "common/error.h"
#include "tests/common/test_util.h"
#include "training/array_file.h"
#include "training/config.h"
#include "training/dataset.h"

namespace palsim::training {
namespace {

using palsim_test::Contains;
using palsim_test::TempDir;

namespace fs = std::filesystem;

const char* kConfig = R"(format: palsim-train-1
network:
  name: resnet18
  method: palquant
  B: 2
  G: 2
  input_size: 28
  input_channels: 1
  classes: 10
  base_width: 8
  blocks: [1, 1, 1, 1]
  stem: small
data:
  dataset: fashion-mnist
  train_limit: 100
training:
  epochs: 2
  batch_size: 32
  lr_weights: 0.05
  lr_quantizers: 0.001
  momentum: 0.9
  weight_decay: 0.0001
  seed: 3
  threads: 2
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  if (at == std::string::npos)
    ADD_FAILURE() << "no '" << from << "' in the config";
  else
    s.replace(at, from.size(), to);
  return s;
}

// The FileError of parsing `text`: "file:line:col: key: message".
std::string error_of(const std::string& text) {
  try {
    parse_train_config(text, "cfg.yaml");
  } catch (const FileError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a FileError: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a FileError";
  return "";
}

TEST(TrainConfig, ReadsAndResolvesDefaults) {
  const TrainConfig c = parse_train_config(kConfig, "cfg.yaml");
  EXPECT_EQ(c.network.method, "palquant");
  EXPECT_EQ(c.network.channel_shuffle, "per_stage");
  EXPECT_TRUE(c.network.cyclic);
  EXPECT_EQ(c.network.fp_layers, "int8");
  EXPECT_EQ(c.data.path, kFashionMnistDir);
  EXPECT_EQ(c.data.train_limit, 100);
  EXPECT_EQ(c.training.threads, 2);
  // The resolved form reads back to the same resolved form.
  const std::string y = c.to_yaml();
  EXPECT_EQ(parse_train_config(y, "resolved.yaml").to_yaml(), y);
  EXPECT_CONTAINS(y, "permute_direction: paper");
}

// The long-recipe set is the short-recipe table with more data and epochs:
// each workloads/fmnist/long/X.yaml must equal workloads/fmnist/X.yaml in
// every other key, so the two recipes cannot drift apart, and every table
// configuration has its long twin.
TEST(TrainConfig, TheLongRecipeDiffersFromTheShortOneInDataAndEpochsOnly) {
  const fs::path short_dir = fs::path(PALSIM_SOURCE_DIR) / "workloads" / "fmnist";
  const fs::path long_dir = short_dir / "long";
  int pairs = 0;
  for (const auto& e : fs::directory_iterator(short_dir)) {
    if (e.path().extension() != ".yaml" || e.path().stem() == "smoke") continue;
    const fs::path twin = long_dir / e.path().filename();
    ASSERT_TRUE(fs::exists(twin)) << twin << " is missing";
    const TrainConfig s = load_train_config(e.path().string());
    TrainConfig l = load_train_config(twin.string());
    EXPECT_EQ(l.data.train_limit, 0) << twin;
    EXPECT_GT(l.training.epochs, s.training.epochs) << twin;
    l.data.train_limit = s.data.train_limit;
    l.training.epochs = s.training.epochs;
    EXPECT_EQ(l.to_yaml(), s.to_yaml()) << twin;
    ++pairs;
  }
  EXPECT_EQ(pairs, static_cast<int>(
                       std::distance(fs::directory_iterator(long_dir), fs::directory_iterator{})));
  EXPECT_GE(pairs, 16);
}

TEST(TrainConfig, ErrorsNameFileLineAndKey) {
  std::string e = error_of(replace(kConfig, "  seed: 3\n", "  seed: 3\n  sede: 4\n"));
  EXPECT_CONTAINS(e, "cfg.yaml:24");
  EXPECT_CONTAINS(e, "training.sede");
  e = error_of(replace(kConfig, "batch_size: 32", "batch_size: many"));
  EXPECT_CONTAINS(e, "cfg.yaml:18");
  EXPECT_CONTAINS(e, "training.batch_size");
  EXPECT_CONTAINS(e, "expected an integer");
  e = error_of(replace(kConfig, "  momentum: 0.9\n", ""));
  EXPECT_CONTAINS(e, "training.momentum");
  EXPECT_CONTAINS(e, "missing");
  e = error_of(replace(kConfig, "G: 2", "G: 40"));
  EXPECT_CONTAINS(e, "cfg.yaml:6");
  EXPECT_CONTAINS(e, "network.G");
  e = error_of(replace(kConfig, "lr_weights: 0.05", "lr_weights: 0"));
  EXPECT_CONTAINS(e, "training.lr_weights");
  EXPECT_CONTAINS(e, "positive");
  e = error_of(replace(kConfig, "method: palquant", "method: bitdecomposed"));
  EXPECT_CONTAINS(e, "network.method");
  e = error_of(replace(kConfig, "  B: 2\n", "  B: 2\n  abits: 4\n"));
  EXPECT_CONTAINS(e, "network.abits");
  EXPECT_CONTAINS(e, "applies to lsq and ewgs");
  e = error_of(replace(kConfig, "  threads: 2\n", "  threads: 2\n  ewgs_delta: 0.001\n"));
  EXPECT_CONTAINS(e, "training.ewgs_delta");
  e = error_of(replace(kConfig, "dataset: fashion-mnist", "dataset: cifar"));
  EXPECT_CONTAINS(e, "data.dataset");
  e = error_of(replace(kConfig, "blocks: [1, 1, 1, 1]", "blocks: [1, 1, 1]"));
  EXPECT_CONTAINS(e, "network.blocks");
  e = error_of(replace(kConfig, "format: palsim-train-1", "format: palsim-train-9"));
  EXPECT_CONTAINS(e, "format");
  e = error_of(replace(kConfig, "stem: small", "stem: large"));
  EXPECT_CONTAINS(e, "network.stem");
}

TEST(TrainConfig, MethodSpecificKeys) {
  std::string lsq = replace(kConfig, "  method: palquant\n  B: 2\n  G: 2\n",
                            "  method: lsq\n  abits: 4\n  wbits: 4\n");
  EXPECT_EQ(parse_train_config(lsq, "c.yaml").network.abits, 4);
  EXPECT_CONTAINS(error_of(replace(lsq, "  wbits: 4\n", "")), "network.wbits");
  std::string fp = replace(kConfig, "  method: palquant\n  B: 2\n  G: 2\n", "  method: fp\n");
  EXPECT_CONTAINS(error_of(fp), "training.lr_quantizers");  // fp has no quantizers
  fp = replace(fp, "  lr_quantizers: 0.001\n", "");
  EXPECT_EQ(parse_train_config(fp, "c.yaml").network.fp_layers, "fp");
  std::string ewgs = replace(lsq, "method: lsq", "method: ewgs");
  EXPECT_CONTAINS(error_of(ewgs), "training.ewgs_delta");
  ewgs = replace(ewgs, "  threads: 2\n", "  threads: 2\n  ewgs_delta: 0.001\n");
  EXPECT_DOUBLE_EQ(parse_train_config(ewgs, "c.yaml").training.ewgs_delta, 0.001);
}

// ---------------------------------------------------------------------------
// Datasets.
// ---------------------------------------------------------------------------

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(f);
}

std::string idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::string s = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int b = 3; b >= 0; --b) s.push_back(static_cast<char>((d >> (8 * b)) & 0xff));
  }
  s.append(data.begin(), data.end());
  return s;
}

void write_fake_fmnist(const std::string& dir, int n) {
  std::vector<uint8_t> px(static_cast<size_t>(n) * 28 * 28), lab(static_cast<size_t>(n));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7);
  for (int i = 0; i < n; ++i) lab[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 10);
  for (const char* split : {"train", "t10k"}) {
    write_gz(dir + "/" + split + "-images-idx3-ubyte.gz",
             idx({static_cast<uint32_t>(n), 28, 28}, px));
    write_gz(dir + "/" + split + "-labels-idx1-ubyte.gz", idx({static_cast<uint32_t>(n)}, lab));
  }
}

TEST(FashionMnist, ReadsGzippedIdxFiles) {
  TempDir d;
  write_fake_fmnist(d.path(), 12);
  const auto ds = load_fashion_mnist(d.path(), "train");
  EXPECT_EQ(ds->size(), 12);
  EXPECT_EQ(ds->classes(), 10);
  EXPECT_EQ(ds->image_shape(), (frontend::Shape{1, 28, 28}));
  std::vector<uint8_t> px(784);
  EXPECT_EQ(ds->get(3, px.data()), 3);
  EXPECT_EQ(px[0], static_cast<uint8_t>(3 * 784 * 7));
  DataConfig dc;
  dc.dataset = "fashion-mnist";
  dc.path = d.path();
  dc.train_limit = 5;
  const DataSplits s = open_datasets(dc);
  EXPECT_EQ(s.train->size(), 5);
  EXPECT_EQ(s.test->size(), 12);
}

TEST(FashionMnist, MissingFilesNameTheDebianPackage) {
  TempDir d;
  try {
    load_fashion_mnist(d.path() + "/nothing", "train");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "dataset-fashion-mnist");
    EXPECT_CONTAINS(e.what(), "train-images-idx3-ubyte.gz");
  }
}

TEST(FashionMnist, CorruptFilesAreNamed) {
  TempDir d;
  write_fake_fmnist(d.path(), 12);
  const std::string images = d.path() + "/train-images-idx3-ubyte.gz";
  // Truncated gzip stream.
  {
    std::ifstream in(images, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(images, std::ios::binary | std::ios::trunc);
    out << s.substr(0, s.size() / 2);
  }
  try {
    load_fashion_mnist(d.path(), "train");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), images);
  }
  // A header announcing more data than the file holds.
  write_gz(images, idx({13, 28, 28}, std::vector<uint8_t>(12 * 784)));
  try {
    load_fashion_mnist(d.path(), "train");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), images);
    EXPECT_CONTAINS(e.what(), "corrupt IDX");
  }
  // Not an IDX file at all.
  write_gz(images, "hello world, not idx");
  try {
    load_fashion_mnist(d.path(), "train");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), images);
  }
  // Headers the fuzzer found: images of no pixels, and no images of a huge
  // size (the labels file agrees with both).
  const std::string labels = d.path() + "/train-labels-idx1-ubyte.gz";
  struct Case {
    std::vector<uint32_t> dims;
    const char* message;
  };
  for (const Case& c :
       {Case{{12, 0, 0}, "images of 0 x 0 pixels"}, Case{{0, 24752, 7399}, "no images"},
        Case{{12, 28, 5000}, "images of 28 x 5000 pixels"}}) {
    const size_t bytes = static_cast<size_t>(c.dims[0]) * c.dims[1] * c.dims[2];
    write_gz(images, idx(c.dims, std::vector<uint8_t>(bytes)));
    write_gz(labels, idx({c.dims[0]}, std::vector<uint8_t>(c.dims[0])));
    try {
      load_fashion_mnist(d.path(), "train");
      FAIL() << c.message;
    } catch (const InputError& e) {
      EXPECT_CONTAINS(e.what(), images);
      EXPECT_CONTAINS(e.what(), c.message);
    }
  }
}

void write_pgm(const std::string& path, int w, int h, int maxval, uint8_t value) {
  std::ofstream out(path, std::ios::binary);
  out << "P5\n# a comment\n" << w << " " << h << "\n" << maxval << "\n";
  for (int i = 0; i < w * h; ++i) out.put(static_cast<char>(value));
}

TEST(ImageFolder, ReadsOneDirectoryPerClass) {
  TempDir d;
  for (const char* split : {"train", "test"}) {
    for (const char* cls : {"cat", "ant"}) {
      fs::create_directories(d.path() + "/" + split + "/" + cls);
      write_pgm(d.path() + "/" + split + "/" + cls + "/b.pgm", 4, 3, 255,
                std::string(cls) == "cat" ? 200 : 10);
      write_pgm(d.path() + "/" + split + "/" + cls + "/a.pgm", 4, 3, 15, 15);
    }
  }
  DataConfig dc;
  dc.dataset = "image-folder";
  dc.path = d.path();
  const DataSplits s = open_datasets(dc);
  EXPECT_EQ(s.train->size(), 4);
  EXPECT_EQ(s.train->classes(), 2);
  EXPECT_EQ(s.train->image_shape(), (frontend::Shape{1, 3, 4}));
  std::vector<uint8_t> px(12);
  EXPECT_EQ(s.train->get(0, px.data()), 0);  // ant/a.pgm: classes sorted, files sorted
  EXPECT_EQ(px[0], 255);                     // maxval 15 rescaled
  EXPECT_EQ(s.train->get(3, px.data()), 1);  // cat/b.pgm
  EXPECT_EQ(px[5], 200);
  // A file of another size, then a broken one, are named.
  write_pgm(d.path() + "/train/cat/c.pgm", 5, 3, 255, 1);
  try {
    open_datasets(dc);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "c.pgm");
  }
  {
    std::ofstream out(d.path() + "/train/cat/c.pgm", std::ios::binary | std::ios::trunc);
    out << "P5\n4 3\n255\n"
        << "ab";
  }
  try {
    open_datasets(dc);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "c.pgm");
    EXPECT_CONTAINS(e.what(), "truncated");
  }
}

// ---------------------------------------------------------------------------
// Array files.
// ---------------------------------------------------------------------------

TEST(ArrayFile, RoundTripsAndDetectsCorruption) {
  TempDir d;
  ArrayFile f;
  const float w[6] = {1, 2, 3, 4, 5, -0.5f};
  f.put_floats("op/a.b/weight", {2, 3}, w);
  f.put_int64("meta/epoch", 7);
  f.put_text("meta/config", "x: 1\n");
  const float s = 0.25f;
  f.put_floats("tensor/t/step", {}, &s);
  const std::string path = d.path() + "/c.bin";
  f.write(path);
  const ArrayFile g = ArrayFile::read(path);
  EXPECT_EQ(g.get("op/a.b/weight").floats(), std::vector<float>(w, w + 6));
  EXPECT_EQ(g.get("op/a.b/weight").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(g.get_int64("meta/epoch"), 7);
  EXPECT_EQ(g.get_text("meta/config"), "x: 1\n");
  EXPECT_EQ(g.get("tensor/t/step").floats(), std::vector<float>{0.25f});
  EXPECT_EQ(g.serialize(), f.serialize());
  std::string bytes = f.serialize();
  bytes[bytes.size() / 2] ^= 1;
  try {
    ArrayFile::parse(bytes, "damaged.bin");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "damaged.bin");
    EXPECT_CONTAINS(e.what(), "checksum");
  }
  EXPECT_THROW(ArrayFile::parse(bytes.substr(0, 10), "short.bin"), InputError);
}

}  // namespace
}  // namespace palsim::training
