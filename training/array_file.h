#pragma once
// A file of named arrays: the trainer's checkpoints. Plain and torch-free, so
// that any tool can read a trained model without libtorch.
//
// Layout (little-endian):
//   "PALSIMAR" (8 bytes), u32 version = 2, u64 entry count, then per entry:
//   u32 name length, name bytes (UTF-8, unique), u8 dtype (1 float32,
//   2 float64, 3 int64, 4 bytes), u32 ndim, i64 dims[ndim], u64 byte count,
//   the bytes; finally u64 FNV-1a 64 hash (offset basis 14695981039346656037)
//   of every byte before it.
// Version 1 is the same layout hashed from the basis 1469598103934665603 (a
// digit short); it is still read, with a note on stderr.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace palsim::training {

enum class DType : uint8_t { kFloat32 = 1, kFloat64 = 2, kInt64 = 3, kBytes = 4 };

struct NamedArray {
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;  // empty: a scalar (float32/64, int64) or a byte string
  std::vector<uint8_t> data;

  int64_t elements() const;
  std::vector<float> floats() const;    // float32 arrays
  std::vector<int64_t> int64s() const;  // int64 arrays
  std::string text() const;             // byte strings
};

class ArrayFile {
 public:
  void put_floats(const std::string& name, std::vector<int64_t> shape, const float* data);
  void put_doubles(const std::string& name, std::vector<int64_t> shape, const double* data);
  void put_int64s(const std::string& name, std::vector<int64_t> shape, const int64_t* data);
  void put_int64(const std::string& name, int64_t v) { put_int64s(name, {}, &v); }
  void put_text(const std::string& name, const std::string& text);

  bool has(const std::string& name) const { return arrays_.count(name) != 0; }
  void remove(const std::string& name) { arrays_.erase(name); }
  // Throws InputError naming `file_` when absent or of another type.
  const NamedArray& get(const std::string& name) const;
  int64_t get_int64(const std::string& name) const;
  std::string get_text(const std::string& name) const;
  const std::map<std::string, NamedArray>& arrays() const { return arrays_; }

  std::string serialize() const;
  // Writes atomically (temporary file, fsync, rename).
  void write(const std::string& path) const;
  // Throws InputError naming the file when it is missing, truncated or corrupt.
  static ArrayFile read(const std::string& path);
  static ArrayFile parse(const std::string& bytes, const std::string& name);

 private:
  std::string file_;
  std::map<std::string, NamedArray> arrays_;
};

}  // namespace palsim::training
