#include "common/data_dir.h"

#include <filesystem>
#include <mutex>
#include <system_error>

namespace palsim {

namespace fs = std::filesystem;

namespace {

struct Location {
  std::string binary_path = "/proc/self/exe";
  std::string data_from_binary = PALSIM_DATA_FROM_BIN;
};

Location& location() {
  static Location l;
  return l;
}

std::string find_data_dir() {
  std::error_code ec;
  const fs::path binary = fs::canonical(location().binary_path, ec);
  if (!ec) {
    const fs::path installed = binary.parent_path() / location().data_from_binary;
    // An installed tree has configs/ beside workloads/; a build tree has
    // neither at that place, and its binaries read the source tree.
    if (fs::is_directory(installed / "configs", ec))
      return fs::weakly_canonical(installed, ec).string();
  }
  return PALSIM_SOURCE_DIR;
}

}  // namespace

void set_binary_location(const std::string& binary_path, const std::string& data_from_binary) {
  location() = {binary_path, data_from_binary};
}

const std::string& data_dir() {
  static std::once_flag once;
  static std::string dir;
  std::call_once(once, [] { dir = find_data_dir(); });
  return dir;
}

std::string data_path(const std::string& relative) {
  return data_dir() + "/" + relative;
}

}  // namespace palsim
