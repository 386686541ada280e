#include "common/temp_file.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <filesystem>

#include <fmt/format.h>

namespace palsim {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMarker = ".palsim-tmp.";

// Parses "PID.N.HOST"; false when `rest` is not of that form.
bool parse_suffix(const std::string& rest, long& pid, std::string& host) {
  size_t i = 0;
  auto digits = [&](long& out) {
    const size_t start = i;
    out = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && i - start < 18)
      out = out * 10 + (rest[i++] - '0');
    return i > start && i < rest.size() && rest[i] == '.';
  };
  long n = 0;
  if (!digits(pid)) return false;
  ++i;
  if (!digits(n)) return false;
  host = rest.substr(i + 1);
  return !host.empty();
}

}  // namespace

const std::string& host_name() {
  static const std::string host = [] {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return std::string("localhost");
    return std::string(buf);
  }();
  return host;
}

bool process_exists(long pid) {
  if (pid <= 0 || pid > INT_MAX) return false;
  // kill(pid, 0) fails with ESRCH only when no such process exists.
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

std::string temp_path_for(const std::string& target) {
  static std::atomic<unsigned> counter{0};
  const fs::path t(target);
  const std::string name = fmt::format(".{}{}{}.{}.{}", t.filename().string(), kMarker, ::getpid(),
                                       counter++, host_name());
  return (t.parent_path() / name).string();
}

void remove_stale_temps(const std::string& target) {
  const fs::path t(target);
  const fs::path dir = t.parent_path().empty() ? fs::path(".") : t.parent_path();
  const std::string prefix = "." + t.filename().string() + kMarker;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    long pid = 0;
    std::string host;
    if (!parse_suffix(name.substr(prefix.size()), pid, host) || host != host_name()) continue;
    if (pid <= 0 || pid == ::getpid() || process_exists(pid)) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);  // a staging directory (a VCD trace) too
  }
}

}  // namespace palsim
