#pragma once
// Progress of long work on stderr: items done of total, a rate, and an ETA.
// Lines are rate-limited; nothing is printed when disabled (--quiet, or JSON
// on stdout with stderr not a terminal is still fine: progress never goes to
// stdout).
#include <chrono>
#include <cstdint>
#include <string>

namespace palsim {

class Progress {
 public:
  // `what` names the work ("simulate resnet18"), `unit` the items ("layers").
  Progress(std::string what, std::string unit, int64_t total, bool enabled);
  // Marks `done` items finished; `detail` is extra text (e.g. a rate of
  // simulated cycles) appended to the line. update(0) prints at once.
  void update(int64_t done, const std::string& detail = "");
  // Prints the final line (always, when enabled).
  void finish(const std::string& detail = "");
  // Prints the final line of work stopped before the end (a signal): the
  // items actually done, not the total.
  void stop(const std::string& detail);
  double elapsed_seconds() const;

 private:
  enum class Line { kRunning, kFinished, kStopped };
  void print(int64_t done, const std::string& detail, Line line);

  std::string what_;
  std::string unit_;
  int64_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  int64_t done_ = 0;
  bool started_shown_ = false;
};

std::string format_duration(double seconds);

}  // namespace palsim
