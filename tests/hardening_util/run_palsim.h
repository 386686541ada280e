#pragma once
// Runs the palsim executable as a child process (no shell): arguments as a
// list, a working directory, stdout and stderr captured, a time limit, and a
// way to kill it midway. Shared by the bad-input catalogue and the
// crash-safety tests.
#include <sys/types.h>

#include <string>
#include <vector>

namespace palsim_test {

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  std::string out, err;
};

// Where the child's standard output goes: a file in the capture directory,
// /dev/full (every write fails with ENOSPC), or a pipe whose reading end is
// already closed (every write fails with EPIPE, or SIGPIPE kills).
enum class StdoutTo { kCapture, kDevFull, kClosedPipe };

// Starts palsim ARGS in `cwd` with stdout and stderr going to files in
// `capture_dir`; returns the child's pid.
pid_t start_palsim(const std::vector<std::string>& args, const std::string& cwd,
                   const std::string& capture_dir, StdoutTo out = StdoutTo::kCapture);
// Waits for `pid` (killing it after `timeout_seconds`) and collects its output.
RunResult wait_palsim(pid_t pid, const std::string& capture_dir, double timeout_seconds);
// start + wait.
RunResult run_palsim(const std::vector<std::string>& args, const std::string& cwd,
                     const std::string& capture_dir, double timeout_seconds = 300,
                     StdoutTo out = StdoutTo::kCapture);

// Whether stderr holds a sanitizer report (ASan, LSan, UBSan).
bool has_sanitizer_report(const std::string& err);

std::string read_text(const std::string& path);

}  // namespace palsim_test
