#pragma once
// Image classification data for the trainer. A Dataset hands out 8-bit images
// (the integer levels the accelerator's input tensor holds: the network sees
// pixel / 255) and labels. Add a dataset without touching the trainer: derive
// from Dataset (or fill an InMemoryDataset) and either pass the splits to
// training::train through TrainOptions::data, or register a factory under a
// name that configurations can then use as data.dataset.
//
// Built in:
//   fashion-mnist  the gzipped IDX files of the Debian package
//                  dataset-fashion-mnist ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz),
//                  read with zlib; default path /usr/share/datasets/fashion-mnist.
//   image-folder   PATH/train/CLASS/*.pgm and PATH/test/CLASS/*.pgm: binary PGM
//                  (P5) images, one sub-directory per class; classes are the
//                  sub-directory names of PATH/train in sorted order, images in
//                  sorted file-name order. Every image has the same size;
//                  maxval below 255 is rescaled to 0..255.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "frontend/ir/layer.h"
#include "training/config.h"

namespace palsim::training {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::string name() const = 0;
  virtual int64_t size() const = 0;
  virtual frontend::Shape image_shape() const = 0;  // channels, height, width
  virtual int classes() const = 0;
  // Writes image `index` (0 <= index < size()) as image_shape().elements()
  // bytes in CHW order to `pixels` and returns its label (0..classes()-1).
  virtual int get(int64_t index, uint8_t* pixels) const = 0;
};

// Images and labels held in memory.
class InMemoryDataset : public Dataset {
 public:
  // Throws InputError when the sizes disagree or a label is out of range.
  InMemoryDataset(std::string name, frontend::Shape shape, int classes, std::vector<uint8_t> pixels,
                  std::vector<int> labels);
  std::string name() const override { return name_; }
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  frontend::Shape image_shape() const override { return shape_; }
  int classes() const override { return classes_; }
  int get(int64_t index, uint8_t* pixels) const override;

 private:
  std::string name_;
  frontend::Shape shape_;
  int classes_;
  std::vector<uint8_t> pixels_;
  std::vector<int> labels_;
};

// The first `limit` images of `base` (all of them when limit is 0 or larger).
class LimitedDataset : public Dataset {
 public:
  LimitedDataset(std::shared_ptr<const Dataset> base, int64_t limit);
  std::string name() const override { return base_->name(); }
  int64_t size() const override { return size_; }
  frontend::Shape image_shape() const override { return base_->image_shape(); }
  int classes() const override { return base_->classes(); }
  int get(int64_t index, uint8_t* pixels) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  int64_t size_;
};

struct DataSplits {
  std::shared_ptr<const Dataset> train;
  std::shared_ptr<const Dataset> test;
};

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST from `dir`: split "train" (60,000 images) or "t10k" (10,000).
// A missing file is an InputError naming the file and the Debian package; a
// corrupt one names the file and what is wrong.
std::shared_ptr<const Dataset> load_fashion_mnist(const std::string& dir, const std::string& split);
// Reads one gzipped (or plain) IDX file of unsigned bytes; `dims` receives its
// dimensions. Errors name the file.
std::vector<uint8_t> read_idx_file(const std::string& path, std::vector<int64_t>& dims);
// An image folder (see above); `classes` fixes the class order (empty: the
// sorted sub-directories of `dir`, written back).
std::shared_ptr<const Dataset> load_image_folder(const std::string& dir,
                                                 std::vector<std::string>& classes);
// Reads one binary PGM file as 8-bit pixels.
std::vector<uint8_t> read_pgm_file(const std::string& path, int& width, int& height);

// Dataset factories by name (data.dataset). The factory receives the data
// section; limits are applied by open_datasets.
using DatasetFactory = std::function<DataSplits(const DataConfig&)>;
void register_dataset(const std::string& name, DatasetFactory factory,
                      std::string default_path = "");
std::vector<std::string> registered_datasets();
std::string default_dataset_path(const std::string& name);  // "" when none
// Opens the configured splits with train_limit / test_limit applied.
DataSplits open_datasets(const DataConfig& data);

}  // namespace palsim::training
