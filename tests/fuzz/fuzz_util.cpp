#include "tests/fuzz/fuzz_util.h"

#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "training/model_file.h"

namespace palsim::fuzz {

namespace fs = std::filesystem;

namespace {
std::string make_scratch() {
  std::string tmpl = (fs::temp_directory_path() / "palsim-fuzz-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    std::perror("palsim fuzz: mkdtemp");
    std::abort();
  }
  static const std::string dir = tmpl;
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(dir, ec);
  });
  return tmpl;
}
}  // namespace

const std::string& scratch_dir() {
  static const std::string dir = make_scratch();
  return dir;
}

std::string write_scratch(const std::string& path, const uint8_t* data, size_t size) {
  const fs::path full = fs::path(scratch_dir()) / path;
  fs::create_directories(full.parent_path());
  std::ofstream out(full, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "palsim fuzz: cannot write %s\n", full.c_str());
    std::abort();
  }
  return full.string();
}

void copy_source_file(const std::string& source_relative, const std::string& scratch_relative) {
  static std::set<std::string> done;
  if (!done.insert(scratch_relative).second) return;
  const fs::path to = fs::path(scratch_dir()) / scratch_relative;
  fs::create_directories(to.parent_path());
  fs::copy_file(fs::path(PALSIM_SOURCE_DIR) / source_relative, to,
                fs::copy_options::overwrite_existing);
}

void check_message_names(const std::string& message, const std::string& name) {
  if (message.find(name) != std::string::npos) return;
  std::fprintf(stderr, "palsim fuzz: the error does not name the input '%s': %s\n", name.c_str(),
               message.c_str());
  std::abort();
}

void fix_array_file_checksum(std::string& bytes) {
  if (bytes.size() < 20) return;
  uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  const uint64_t basis = version == 1 ? 1469598103934665603ull : 14695981039346656037ull;
  const size_t n = bytes.size() - 8;
  const uint64_t h =
      palsim::training::fnv1a64(reinterpret_cast<const uint8_t*>(bytes.data()), n, basis);
  for (int i = 0; i < 8; ++i) bytes[n + static_cast<size_t>(i)] = static_cast<char>(h >> (8 * i));
}

}  // namespace palsim::fuzz
