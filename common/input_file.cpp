#include "common/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/error.h"

namespace palsim {

namespace {

// What a non-regular file is, for messages.
std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string not_regular(const std::string& path, mode_t mode) {
  return fmt::format("{}: is {}, not a regular file", path, kind_of(mode));
}

std::string too_large(const std::string& path, uint64_t size, uint64_t limit) {
  return fmt::format("{}: {} is more than the {} an input file may have", path, format_bytes(size),
                     format_bytes(limit));
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, kUnits[u]);
}

std::string input_file_problem(const std::string& path) {
  if (path.empty()) return "empty file name";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return fmt::format("{}: no such file", path);
    return fmt::format("{}: cannot open: {}", path, std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return not_regular(path, st.st_mode);
  return "";
}

int open_input_file(const std::string& path, uint64_t limit) {
  if (path.empty()) throw InputError("empty input file name");
  // O_NONBLOCK: opening a FIFO with no writer returns at once instead of
  // waiting for one; the fstat below then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) throw InputError(fmt::format("{}: no such file", path));
    throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw InputError(fmt::format("{}: cannot open: {}", path, why));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(not_regular(path, st.st_mode));
  }
  if (static_cast<uint64_t>(st.st_size) > limit) {
    ::close(fd);
    throw InputError(too_large(path, static_cast<uint64_t>(st.st_size), limit));
  }
  // Regular files never block; clear the flag for readers (zlib) that would
  // treat EAGAIN as an error on some filesystems.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

std::string read_file(const std::string& path, uint64_t limit) {
  const int fd = open_input_file(path, limit);
  struct stat st;
  std::string out;
  if (::fstat(fd, &st) == 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw InputError(fmt::format("{}: cannot read: {}", path, why));
    }
    if (n == 0) break;
    // A file that grows while it is read is bounded too.
    if (out.size() + static_cast<size_t>(n) > limit) {
      ::close(fd);
      throw InputError(too_large(path, out.size() + static_cast<size_t>(n), limit));
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace palsim
