#include "common/progress.h"

#include <fmt/format.h>

#include <cstdio>

namespace palsim {

std::string format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s < 3600) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
}

Progress::Progress(std::string what, std::string unit, int64_t total, bool enabled)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(int64_t done, const std::string& detail) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // Nothing done yet is shown at once (work whose first item is long is seen
  // to have started); later lines at most twice a second.
  const bool start = done == 0 && !started_shown_;
  if (!start && now - last_print_ < std::chrono::milliseconds(500)) return;
  started_shown_ = started_shown_ || start;
  last_print_ = now;
  print(done, detail, Line::kRunning);
}

void Progress::finish(const std::string& detail) {
  if (!enabled_) return;
  print(done_ > total_ ? done_ : total_, detail, Line::kFinished);
}

void Progress::stop(const std::string& detail) {
  if (!enabled_) return;
  print(done_, detail, Line::kStopped);
}

void Progress::print(int64_t done, const std::string& detail, Line kind) {
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  std::string line = fmt::format("{}: {}/{} {}", what_, done, total_, unit_);
  if (total_ > 0)
    line +=
        fmt::format(" ({:.0f}%)", 100.0 * static_cast<double>(done) / static_cast<double>(total_));
  line += fmt::format(", {:.2f} {}/s", rate, unit_);
  if (!detail.empty()) line += ", " + detail;
  if (kind == Line::kFinished) {
    line += fmt::format(", done in {}", format_duration(elapsed));
  } else if (kind == Line::kStopped) {
    line += fmt::format(", stopped after {}", format_duration(elapsed));
  } else if (rate > 0 && total_ > done) {
    line += fmt::format(", ETA {}", format_duration(static_cast<double>(total_ - done) / rate));
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace palsim
