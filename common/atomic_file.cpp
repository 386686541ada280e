#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "common/error.h"
#include "common/temp_file.h"

namespace palsim {

namespace fs = std::filesystem;

namespace {

std::string directory_of(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  return dir.empty() ? std::string(".") : dir.string();
}

enum class Kind { kMissing, kRegular, kStream, kDirectory, kOther };

// What `path` (links already resolved) is; `what` describes refused kinds.
Kind kind_of(const std::string& path, std::string& what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Kind::kMissing;
  if (S_ISREG(st.st_mode)) return Kind::kRegular;
  // A terminal, /dev/null, a FIFO: written in place, as a shell redirection would.
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return Kind::kStream;
  if (S_ISDIR(st.st_mode)) return Kind::kDirectory;
  what = S_ISBLK(st.st_mode)    ? "a block device"
         : S_ISSOCK(st.st_mode) ? "a socket"
                                : "not a regular file";
  return Kind::kOther;
}

// Writes all of `contents` to `fd`; false with errno set on failure.
bool write_all(int fd, const std::string& contents) {
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    written += static_cast<size_t>(n);
  }
  return true;
}

[[noreturn]] void fail_write(const std::string& path, const std::string& why) {
  throw InputError(fmt::format("cannot write '{}': {}", path, why));
}

void write_stream(const std::string& path, const std::string& target, const std::string& contents) {
  // No O_CREAT or O_TRUNC: the device or FIFO exists and is written as is.
  // Opening a FIFO waits for its reader, as a shell redirection does.
  const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) fail_write(path, std::strerror(errno));
  if (!write_all(fd, contents)) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    fail_write(path, why);
  }
  if (::close(fd) != 0) fail_write(path, std::strerror(errno));
}

void write_replacing(const std::string& path, const std::string& target,
                     const std::string& contents) {
  remove_stale_temps(target);
  const std::string tmp = temp_path_for(target);
  // The new file keeps the permissions of the one it replaces.
  struct stat old;
  const bool replacing = ::stat(target.c_str(), &old) == 0;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    fail_write(path, fmt::format("cannot create a temporary file in '{}': {}", directory_of(target),
                                 std::strerror(errno)));
  auto give_up = [&](const std::string& why) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail_write(path, why);
  };
  if (replacing && ::fchmod(fd, old.st_mode & 07777) != 0) give_up(std::strerror(errno));
  if (!write_all(fd, contents) || ::fsync(fd) != 0) give_up(std::strerror(errno));
  if (::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    fail_write(path, why);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    fail_write(path, why);
  }
  // The rename itself is durable once the directory is flushed.
  const int dir = ::open(directory_of(target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace

std::string resolve_output_links(const std::string& path) {
  std::string p = path;
  // The kernel's own bound on a chain of links (ELOOP).
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::error_code ec;
    const fs::path target = fs::read_symlink(p, ec);
    if (ec)
      throw InputError(fmt::format("{}: cannot read the symbolic link: {}", path, ec.message()));
    p = target.is_absolute() ? target.string() : (fs::path(p).parent_path() / target).string();
  }
  throw InputError(fmt::format("{}: too many levels of symbolic links", path));
}

void check_output_path(const std::string& path, const std::string& option) {
  if (path.empty()) throw InputError(fmt::format("{}: empty output file name", option));
  if (path == "-") return;
  const std::string target = resolve_output_links(path);
  const std::string shown = target == path ? fmt::format("'{}'", path)
                                           : fmt::format("'{}' (a link to '{}')", path, target);
  std::string what;
  switch (kind_of(target, what)) {
    case Kind::kDirectory:
      throw InputError(fmt::format("{}: output {} is a directory", option, shown));
    case Kind::kOther:
      throw InputError(
          fmt::format("{}: output {} is {}; palsim writes regular files, character devices, FIFOs "
                      "or - (standard output)",
                      option, shown, what));
    case Kind::kStream:
      if (::access(target.c_str(), W_OK) != 0) {
        throw InputError(
            fmt::format("{}: output {} is not writable: {}", option, shown, std::strerror(errno)));
      }
      return;
    case Kind::kRegular:
    case Kind::kMissing:
      break;
  }
  const std::string dir = directory_of(target);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError(
        fmt::format("{}: directory '{}' of output {} does not exist", option, dir, shown));
  }
  // The file is replaced by a rename, which needs the directory writable.
  if (::access(dir.c_str(), W_OK) != 0) {
    throw InputError(
        fmt::format("{}: directory '{}' of output {} is not writable", option, dir, shown));
  }
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  check_output_path(path, "output");
  if (path == "-") {
    write_stdout(contents);
    return;
  }
  const std::string target = resolve_output_links(path);
  std::string what;
  if (kind_of(target, what) == Kind::kStream) {
    write_stream(path, target, contents);
  } else {
    write_replacing(path, target, contents);
  }
}

void write_stdout(const std::string& contents) {
  // Through stdio, so the bytes stay in order with what std::cout and
  // fmt::print wrote before.
  if (std::fwrite(contents.data(), 1, contents.size(), stdout) != contents.size() ||
      std::fflush(stdout) != 0) {
    throw InputError(fmt::format("cannot write standard output: {}", std::strerror(errno)));
  }
}

}  // namespace palsim
