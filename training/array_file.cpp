#include "training/array_file.h"

#include <fmt/format.h>

#include <cstring>
#include <mutex>
#include <set>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/fnv1a.h"
#include "common/input_file.h"
#include "common/text_check.h"

namespace palsim::training {

namespace {

constexpr char kMagic[8] = {'P', 'A', 'L', 'S', 'I', 'M', 'A', 'R'};
// Version 2: the checksum is FNV-1a 64 as documented. Version 1 files were
// hashed from an offset basis missing a digit; they are still read, with
// that basis, and a note says so.
constexpr uint32_t kVersion = 2;
constexpr uint32_t kLegacyVersion = 1;

// One note per file per process: a reader may open the same file many times.
void note_legacy(const std::string& name) {
  static std::mutex mutex;
  static std::set<std::string> noted;
  std::lock_guard<std::mutex> lock(mutex);
  if (!noted.insert(name).second) return;
  fmt::print(
      stderr,
      "note: {}: array file format version 1 (checksum from a non-standard FNV-1a offset basis); "
      "read as such; writing it again (palsim export, or a new checkpoint) gives version {}\n",
      name, kVersion);
}

bool little_endian() {
  const uint16_t one = 1;
  uint8_t b = 0;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

size_t element_size(DType t) {
  switch (t) {
    case DType::kFloat32:
      return 4;
    case DType::kFloat64:
      return 8;
    case DType::kInt64:
      return 8;
    case DType::kBytes:
      return 1;
  }
  return 0;
}

template <typename T>
void append(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

class Reader {
 public:
  Reader(const std::string& bytes, std::string name) : s_(bytes), name_(std::move(name)) {}
  template <typename T>
  T take() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, s_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string take_bytes(size_t n) {
    need(n);
    std::string v = s_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  size_t pos() const { return pos_; }
  [[noreturn]] void corrupt(const std::string& why) const {
    throw InputError(fmt::format("{}: corrupt array file: {}", name_, why));
  }

 private:
  void need(size_t n) const {
    if (s_.size() - pos_ < n) corrupt("truncated");
  }
  const std::string& s_;
  std::string name_;
  size_t pos_ = 0;
};

}  // namespace

int64_t NamedArray::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<float> NamedArray::floats() const {
  if (dtype != DType::kFloat32) throw InternalError("NamedArray::floats: not a float32 array");
  std::vector<float> v(data.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), data.data(), data.size());
  return v;
}

std::vector<int64_t> NamedArray::int64s() const {
  if (dtype != DType::kInt64) throw InternalError("NamedArray::int64s: not an int64 array");
  std::vector<int64_t> v(data.size() / 8);
  if (!v.empty()) std::memcpy(v.data(), data.data(), data.size());
  return v;
}

std::string NamedArray::text() const {
  return std::string(data.begin(), data.end());
}

namespace {
NamedArray make(DType t, std::vector<int64_t> shape, const void* p, size_t bytes) {
  NamedArray a;
  a.dtype = t;
  a.shape = std::move(shape);
  a.data.resize(bytes);
  if (bytes) std::memcpy(a.data.data(), p, bytes);
  return a;
}
size_t count(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}
}  // namespace

void ArrayFile::put_floats(const std::string& name, std::vector<int64_t> shape, const float* data) {
  const size_t n = count(shape);
  arrays_[name] = make(DType::kFloat32, std::move(shape), data, n * 4);
}
void ArrayFile::put_doubles(const std::string& name, std::vector<int64_t> shape,
                            const double* data) {
  const size_t n = count(shape);
  arrays_[name] = make(DType::kFloat64, std::move(shape), data, n * 8);
}
void ArrayFile::put_int64s(const std::string& name, std::vector<int64_t> shape,
                           const int64_t* data) {
  const size_t n = count(shape);
  arrays_[name] = make(DType::kInt64, std::move(shape), data, n * 8);
}
void ArrayFile::put_text(const std::string& name, const std::string& text) {
  arrays_[name] =
      make(DType::kBytes, {static_cast<int64_t>(text.size())}, text.data(), text.size());
}

const NamedArray& ArrayFile::get(const std::string& name) const {
  auto it = arrays_.find(name);
  if (it == arrays_.end()) throw InputError(fmt::format("{}: has no entry '{}'", file_, name));
  return it->second;
}

int64_t ArrayFile::get_int64(const std::string& name) const {
  const NamedArray& a = get(name);
  if (a.dtype != DType::kInt64 || a.data.size() != 8) {
    throw InputError(fmt::format("{}: entry '{}' is not an integer", file_, name));
  }
  return a.int64s()[0];
}

std::string ArrayFile::get_text(const std::string& name) const {
  const NamedArray& a = get(name);
  if (a.dtype != DType::kBytes)
    throw InputError(fmt::format("{}: entry '{}' is not text", file_, name));
  std::string t = a.text();
  // Texts (network YAML, configuration, dataset names) reach JSON output.
  const std::string problem = palsim::text_problem(t);
  if (!problem.empty()) throw InputError(fmt::format("{}: entry '{}' {}", file_, name, problem));
  return t;
}

std::string ArrayFile::serialize() const {
  if (!little_endian()) throw InternalError("array files are written on little-endian hosts only");
  std::string out(kMagic, sizeof(kMagic));
  append<uint32_t>(out, kVersion);
  append<uint64_t>(out, arrays_.size());
  for (const auto& [name, a] : arrays_) {
    append<uint32_t>(out, static_cast<uint32_t>(name.size()));
    out += name;
    append<uint8_t>(out, static_cast<uint8_t>(a.dtype));
    append<uint32_t>(out, static_cast<uint32_t>(a.shape.size()));
    for (int64_t d : a.shape) append<int64_t>(out, d);
    append<uint64_t>(out, a.data.size());
    out.append(reinterpret_cast<const char*>(a.data.data()), a.data.size());
  }
  append<uint64_t>(out, fnv1a64(out.data(), out.size()));
  return out;
}

void ArrayFile::write(const std::string& path) const {
  write_file_atomically(path, serialize());
}

ArrayFile ArrayFile::read(const std::string& path) {
  return parse(palsim::read_file(path), path);
}

ArrayFile ArrayFile::parse(const std::string& bytes, const std::string& name) {
  if (!little_endian()) throw InternalError("array files are read on little-endian hosts only");
  ArrayFile f;
  f.file_ = name;
  Reader r(bytes, name);
  if (bytes.size() < sizeof(kMagic) + 12 + 8 ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    throw InputError(fmt::format("{}: not a palsim array file (bad magic)", name));
  }
  const uint64_t stored = [&] {
    uint64_t h;
    std::memcpy(&h, bytes.data() + bytes.size() - 8, 8);
    return h;
  }();
  r.take_bytes(sizeof(kMagic));
  // The version decides the checksum's basis, so it is read first; a damaged
  // version field then shows as a checksum mismatch or an unknown version.
  const uint32_t version = r.take<uint32_t>();
  if (version != kVersion && version != kLegacyVersion)
    throw InputError(fmt::format("{}: array file version {} (this palsim reads {} and {})", name,
                                 version, kLegacyVersion, kVersion));
  const uint64_t basis = version == kLegacyVersion ? kFnv1aLegacyBasis : kFnv1aBasis;
  if (fnv1a64(bytes.data(), bytes.size() - 8, basis) != stored) {
    throw InputError(
        fmt::format("{}: corrupt array file: checksum mismatch (truncated or damaged)", name));
  }
  if (version == kLegacyVersion) note_legacy(name);
  const uint64_t n = r.take<uint64_t>();
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t len = r.take<uint32_t>();
    const std::string key = r.take_bytes(len);
    // Entry names appear in messages and select what a reader uses.
    const std::string problem = palsim::text_problem(key);
    if (!problem.empty())
      r.corrupt(fmt::format("entry name '{}' {}", palsim::printable(key), problem));
    if (f.arrays_.count(key)) r.corrupt(fmt::format("entry '{}' appears more than once", key));
    NamedArray a;
    const uint8_t t = r.take<uint8_t>();
    if (t < 1 || t > 4) r.corrupt(fmt::format("entry '{}' has unknown type {}", key, t));
    a.dtype = static_cast<DType>(t);
    const uint32_t ndim = r.take<uint32_t>();
    if (ndim > 8) r.corrupt(fmt::format("entry '{}' has {} dimensions", key, ndim));
    // The element count must not overflow (a damaged shape would make
    // elements() wrap and the byte-count check below pass on garbage): no
    // array holds more elements than the file has bytes.
    uint64_t count = 1;
    for (uint32_t d = 0; d < ndim; ++d) {
      const int64_t v = r.take<int64_t>();
      if (v < 0) r.corrupt(fmt::format("entry '{}' has a negative dimension", key));
      if (count != 0 && static_cast<uint64_t>(v) > bytes.size() / count) {
        r.corrupt(fmt::format("entry '{}' has more elements than the file has bytes", key));
      }
      count *= static_cast<uint64_t>(v);
      a.shape.push_back(v);
    }
    const uint64_t nbytes = r.take<uint64_t>();
    if (nbytes != static_cast<uint64_t>(a.elements()) * element_size(a.dtype)) {
      r.corrupt(fmt::format("entry '{}' holds {} bytes for its shape", key, nbytes));
    }
    const std::string data = r.take_bytes(nbytes);
    a.data.assign(data.begin(), data.end());
    f.arrays_[key] = std::move(a);
  }
  if (r.pos() + 8 != bytes.size()) r.corrupt("trailing bytes");
  return f;
}

}  // namespace palsim::training
