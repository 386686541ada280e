#include "frontend/util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "frontend/util/error.h"

namespace palsim {

namespace fs = std::filesystem;

namespace {
std::string directory_of(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  return dir.empty() ? std::string(".") : dir.string();
}
}  // namespace

void check_output_path(const std::string& path, const std::string& option) {
  if (path.empty()) throw InputError(fmt::format("{}: empty output path", option));
  const std::string dir = directory_of(path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError(fmt::format("{}: directory '{}' of output '{}' does not exist", option, dir, path));
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw InputError(fmt::format("{}: directory '{}' of output '{}' is not writable", option, dir, path));
  }
  if (fs::is_directory(path, ec)) {
    throw InputError(fmt::format("{}: output '{}' is a directory", option, path));
  }
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  check_output_path(path, "output");
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw InputError(fmt::format("cannot create '{}': {}", tmp, std::strerror(errno)));
  }
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw InputError(fmt::format("cannot write '{}': {}", path, why));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw InputError(fmt::format("cannot write '{}': {}", path, why));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw InputError(fmt::format("cannot write '{}': {}", path, why));
  }
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(fmt::format("{}: no such file", path));
  if (fs::is_directory(path, ec)) throw InputError(fmt::format("{}: is a directory, not a file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace palsim
