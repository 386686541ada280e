#include "training/dataset.h"

#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"
#include "common/text_check.h"

namespace palsim::training {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// InMemoryDataset, LimitedDataset.
// ---------------------------------------------------------------------------

InMemoryDataset::InMemoryDataset(std::string name, frontend::Shape shape, int classes,
                                 std::vector<uint8_t> pixels, std::vector<int> labels)
    : name_(std::move(name)),
      shape_(shape),
      classes_(classes),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)) {
  if (shape_.elements() <= 0) throw InputError(fmt::format("dataset {}: empty image shape", name_));
  if (classes_ < 1) throw InputError(fmt::format("dataset {}: no classes", name_));
  if (pixels_.size() != labels_.size() * static_cast<size_t>(shape_.elements())) {
    throw InputError(fmt::format("dataset {}: {} pixel bytes for {} images of {}", name_,
                                 pixels_.size(), labels_.size(), frontend::to_string(shape_)));
  }
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] < 0 || labels_[i] >= classes_) {
      throw InputError(fmt::format("dataset {}: image {} has label {} outside 0..{}", name_, i,
                                   labels_[i], classes_ - 1));
    }
  }
}

int InMemoryDataset::get(int64_t index, uint8_t* pixels) const {
  if (index < 0 || index >= size())
    throw InternalError(fmt::format("dataset {}: index {} out of range", name_, index));
  const size_t n = static_cast<size_t>(shape_.elements());
  std::memcpy(pixels, pixels_.data() + static_cast<size_t>(index) * n, n);
  return labels_[static_cast<size_t>(index)];
}

LimitedDataset::LimitedDataset(std::shared_ptr<const Dataset> base, int64_t limit)
    : base_(std::move(base)), size_(base_->size()) {
  if (limit > 0 && limit < size_) size_ = limit;
}

int LimitedDataset::get(int64_t index, uint8_t* pixels) const {
  if (index < 0 || index >= size_)
    throw InternalError(fmt::format("dataset {}: index {} out of range", name(), index));
  return base_->get(index, pixels);
}

// ---------------------------------------------------------------------------
// IDX files (gzipped), Fashion-MNIST.
// ---------------------------------------------------------------------------

namespace {

// The whole (decompressed) contents of a gzip file; zlib reads plain files
// transparently. Only regular files are opened (a FIFO would block), and the
// decompressed size is bounded like any binary input: a small gzip file can
// expand a thousandfold.
std::string read_gz(const std::string& path) {
  const int fd = open_input_file(path, kMaxBinaryInputBytes);
  gzFile f = gzdopen(fd, "rb");
  if (!f) {
    ::close(fd);
    throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  std::string out;
  std::vector<char> buf(1 << 20);
  while (true) {
    const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int code = 0;
      const std::string why = gzerror(f, &code);
      gzclose(f);
      throw InputError(fmt::format("{}: corrupt gzip data ({})", path, why));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > kMaxBinaryInputBytes) {
      gzclose(f);
      throw InputError(fmt::format("{}: decompresses to more than {}, the limit of an input file",
                                   path, format_bytes(kMaxBinaryInputBytes)));
    }
    out.append(buf.data(), static_cast<size_t>(n));
  }
  int code = 0;
  const std::string why = gzerror(f, &code);
  gzclose(f);
  if (code != Z_OK && code != Z_STREAM_END)
    throw InputError(fmt::format("{}: corrupt gzip data ({})", path, why));
  return out;
}

uint32_t big_endian_u32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

}  // namespace

std::vector<uint8_t> read_idx_file(const std::string& path, std::vector<int64_t>& dims) {
  const std::string data = read_gz(path);
  if (data.size() < 4)
    throw InputError(fmt::format("{}: corrupt IDX file: {} bytes, no header", path, data.size()));
  if (data[0] != 0 || data[1] != 0) {
    throw InputError(fmt::format("{}: corrupt IDX file: bad magic number (not an IDX file)", path));
  }
  if (static_cast<uint8_t>(data[2]) != 0x08) {
    throw InputError(fmt::format("{}: IDX element type 0x{:02x}, expected unsigned bytes (0x08)",
                                 path, static_cast<uint8_t>(data[2])));
  }
  const int ndim = static_cast<uint8_t>(data[3]);
  if (ndim < 1 || ndim > 4)
    throw InputError(fmt::format("{}: corrupt IDX file: {} dimensions", path, ndim));
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  if (data.size() < header)
    throw InputError(fmt::format("{}: corrupt IDX file: truncated header", path));
  dims.clear();
  uint64_t count = 1;
  for (int i = 0; i < ndim; ++i) {
    const uint32_t d = big_endian_u32(data, 4 + 4 * static_cast<size_t>(i));
    dims.push_back(d);
    // Checked before multiplying: the product of four 32-bit dimensions can
    // wrap around 2^64 (to 0, matching an empty data section).
    if (d != 0 && count > (uint64_t{1} << 40) / d)
      throw InputError(fmt::format("{}: corrupt IDX file: absurd dimensions", path));
    count *= d;
  }
  if (data.size() - header != count) {
    throw InputError(fmt::format(
        "{}: corrupt IDX file: the header announces {} bytes of data, the file holds {}", path,
        count, data.size() - header));
  }
  return std::vector<uint8_t>(data.begin() + static_cast<std::ptrdiff_t>(header), data.end());
}

std::shared_ptr<const Dataset> load_fashion_mnist(const std::string& dir,
                                                  const std::string& split) {
  const std::string images = fmt::format("{}/{}-images-idx3-ubyte.gz", dir, split);
  const std::string labels = fmt::format("{}/{}-labels-idx1-ubyte.gz", dir, split);
  for (const std::string& f : {images, labels}) {
    std::error_code ec;
    if (fs::exists(f, ec) && !fs::is_regular_file(f, ec)) throw InputError(input_file_problem(f));
    if (!fs::is_regular_file(f, ec)) {
      throw InputError(fmt::format(
          "Fashion-MNIST: {} is missing; install the Debian package dataset-fashion-mnist "
          "(tools/setup installs it) or set data.path to a directory holding the four .gz files",
          f));
    }
  }
  std::vector<int64_t> idims, ldims;
  std::vector<uint8_t> pixels = read_idx_file(images, idims);
  const std::vector<uint8_t> raw_labels = read_idx_file(labels, ldims);
  if (idims.size() != 3) {
    throw InputError(
        fmt::format("{}: corrupt image file: {} dimensions, expected 3 (images, rows, columns)",
                    images, idims.size()));
  }
  if (ldims.size() != 1) {
    throw InputError(
        fmt::format("{}: corrupt label file: {} dimensions, expected 1", labels, ldims.size()));
  }
  // At least one image of at least one pixel; sides up to 4096 (a 28 x 28
  // data set in this format, or a user's own, is far below; larger sides would
  // only let a damaged header ask for gigabytes per image).
  if (idims[0] < 1) throw InputError(fmt::format("{}: corrupt image file: no images", images));
  if (idims[1] < 1 || idims[2] < 1 || idims[1] > 4096 || idims[2] > 4096) {
    throw InputError(fmt::format("{}: corrupt image file: images of {} x {} pixels", images,
                                 idims[1], idims[2]));
  }
  if (idims[0] != ldims[0]) {
    throw InputError(
        fmt::format("{}: {} labels for the {} images of {}", labels, ldims[0], idims[0], images));
  }
  std::vector<int> lab(raw_labels.begin(), raw_labels.end());
  for (size_t i = 0; i < lab.size(); ++i) {
    if (lab[i] > 9)
      throw InputError(
          fmt::format("{}: corrupt label file: label {} of image {}", labels, lab[i], i));
  }
  const frontend::Shape shape{1, static_cast<int>(idims[1]), static_cast<int>(idims[2])};
  return std::make_shared<InMemoryDataset>("fashion-mnist-" + split, shape, 10, std::move(pixels),
                                           std::move(lab));
}

// ---------------------------------------------------------------------------
// PGM image folders.
// ---------------------------------------------------------------------------

std::vector<uint8_t> read_pgm_file(const std::string& path, int& width, int& height) {
  const std::string s = read_file(path);
  size_t pos = 0;
  auto fail = [&](const std::string& why) -> void {
    throw InputError(fmt::format("{}: not a valid binary PGM (P5) file: {}", path, why));
  };
  if (s.size() < 2 || s[0] != 'P' || s[1] != '5') fail("it does not start with P5");
  pos = 2;
  // Header: three decimal numbers separated by whitespace and comments.
  auto next_number = [&]() -> long {
    while (pos < s.size()) {
      if (s[pos] == '#') {
        while (pos < s.size() && s[pos] != '\n') ++pos;
      } else if (std::isspace(static_cast<unsigned char>(s[pos]))) {
        ++pos;
      } else {
        break;
      }
    }
    long v = 0;
    size_t digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) && digits < 9) {
      v = v * 10 + (s[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0) fail("truncated or malformed header");
    return v;
  };
  const long w = next_number();
  const long h = next_number();
  const long maxval = next_number();
  if (w < 1 || h < 1 || w > 65535 || h > 65535) fail(fmt::format("size {}x{}", w, h));
  if (maxval < 1 || maxval > 255) fail(fmt::format("maxval {} (8-bit images need 1..255)", maxval));
  if (pos >= s.size() || !std::isspace(static_cast<unsigned char>(s[pos])))
    fail("no whitespace after the header");
  ++pos;
  const size_t n = static_cast<size_t>(w) * static_cast<size_t>(h);
  if (s.size() - pos < n)
    fail(fmt::format("truncated: {} pixel bytes for {}x{}", s.size() - pos, w, h));
  std::vector<uint8_t> pixels(n);
  for (size_t i = 0; i < n; ++i) {
    const long v = static_cast<uint8_t>(s[pos + i]);
    if (v > maxval) fail(fmt::format("pixel {} = {} exceeds maxval {}", i, v, maxval));
    pixels[i] = static_cast<uint8_t>(maxval == 255 ? v : (v * 255 + maxval / 2) / maxval);
  }
  width = static_cast<int>(w);
  height = static_cast<int>(h);
  return pixels;
}

std::shared_ptr<const Dataset> load_image_folder(const std::string& dir,
                                                 std::vector<std::string>& classes) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(fmt::format("image-folder: {} is not a directory", dir));
  if (classes.empty()) {
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string n = e.path().filename().string();
      if (n.empty() || n[0] == '.') continue;
      if (!e.is_directory()) {
        throw InputError(
            fmt::format("image-folder: {} is not a class directory (expected one sub-directory "
                        "per class)",
                        e.path().string()));
      }
      // Class names are written to the run's metrics and configuration.
      const std::string problem = text_problem(n);
      if (!problem.empty()) {
        throw InputError(fmt::format("image-folder: {}: the class directory name {}",
                                     printable(e.path().string()), problem));
      }
      classes.push_back(n);
    }
    std::sort(classes.begin(), classes.end());
    if (classes.empty())
      throw InputError(fmt::format("image-folder: {} has no class sub-directories", dir));
  } else {
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string n = e.path().filename().string();
      if (n.empty() || n[0] == '.') continue;
      if (std::find(classes.begin(), classes.end(), n) == classes.end()) {
        throw InputError(
            fmt::format("image-folder: class directory {} does not exist in the training split",
                        e.path().string()));
      }
    }
  }
  std::vector<uint8_t> pixels;
  std::vector<int> labels;
  int width = -1, height = -1;
  std::string first;
  for (size_t c = 0; c < classes.size(); ++c) {
    const fs::path cdir = fs::path(dir) / classes[c];
    if (!fs::is_directory(cdir, ec)) continue;  // a class without images in this split
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(cdir)) {
      const std::string n = e.path().filename().string();
      if (n.empty() || n[0] == '.') continue;
      std::string lower = n;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      if (!e.is_regular_file() || lower.size() < 4 || lower.substr(lower.size() - 4) != ".pgm") {
        throw InputError(fmt::format("image-folder: {} is not a .pgm file", e.path().string()));
      }
      files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      int w = 0, h = 0;
      const std::vector<uint8_t> px = read_pgm_file(f, w, h);
      if (width < 0) {
        width = w;
        height = h;
        first = f;
      } else if (w != width || h != height) {
        throw InputError(fmt::format(
            "image-folder: {} is {}x{}, but {} is {}x{}; every image must have the same size", f, w,
            h, first, width, height));
      }
      pixels.insert(pixels.end(), px.begin(), px.end());
      labels.push_back(static_cast<int>(c));
    }
  }
  if (labels.empty()) throw InputError(fmt::format("image-folder: {} holds no .pgm images", dir));
  return std::make_shared<InMemoryDataset>("image-folder:" + dir, frontend::Shape{1, height, width},
                                           static_cast<int>(classes.size()), std::move(pixels),
                                           std::move(labels));
}

// ---------------------------------------------------------------------------
// Registry.
// ---------------------------------------------------------------------------

namespace {

struct Entry {
  DatasetFactory factory;
  std::string default_path;
};

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r = [] {
    std::map<std::string, Entry> m;
    m["fashion-mnist"] = Entry{[](const DataConfig& d) {
                                 return DataSplits{load_fashion_mnist(d.path, "train"),
                                                   load_fashion_mnist(d.path, "t10k")};
                               },
                               kFashionMnistDir};
    m["image-folder"] = Entry{[](const DataConfig& d) {
                                std::vector<std::string> classes;
                                DataSplits s;
                                s.train = load_image_folder(d.path + "/train", classes);
                                s.test = load_image_folder(d.path + "/test", classes);
                                return s;
                              },
                              ""};
    return m;
  }();
  return r;
}

}  // namespace

void register_dataset(const std::string& name, DatasetFactory factory, std::string default_path) {
  if (name.empty() || !factory) throw InternalError("register_dataset: empty name or factory");
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[name] = Entry{std::move(factory), std::move(default_path)};
}

std::vector<std::string> registered_datasets() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& [n, e] : registry()) names.push_back(n);
  return names;
}

std::string default_dataset_path(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(name);
  return it == registry().end() ? "" : it->second.default_path;
}

DataSplits open_datasets(const DataConfig& data) {
  DatasetFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = registry().find(data.dataset);
    if (it == registry().end())
      throw InputError(fmt::format("data.dataset: unknown dataset '{}'", data.dataset));
    factory = it->second.factory;
  }
  DataSplits s = factory(data);
  if (!s.train || !s.test)
    throw InputError(fmt::format("dataset {}: the factory returned no data", data.dataset));
  if (s.train->image_shape() != s.test->image_shape() || s.train->classes() != s.test->classes()) {
    throw InputError(fmt::format(
        "dataset {}: the training and test splits differ in image shape or classes", data.dataset));
  }
  if (data.train_limit > 0) s.train = std::make_shared<LimitedDataset>(s.train, data.train_limit);
  if (data.test_limit > 0) s.test = std::make_shared<LimitedDataset>(s.test, data.test_limit);
  return s;
}

}  // namespace palsim::training
