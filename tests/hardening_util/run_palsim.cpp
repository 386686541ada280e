#include "tests/hardening_util/run_palsim.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace palsim_test {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t start_palsim(const std::vector<std::string>& args, const std::string& cwd,
                   const std::string& capture_dir, StdoutTo stdout_to) {
  const std::string out = capture_dir + "/stdout", err = capture_dir + "/stderr";
  std::vector<std::string> argv_s = {PALSIM_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Its own process group, so a kill reaches its children too (detailed
    // mode runs the SystemC model in a child).
    ::setpgid(0, 0);
    int o = -1;
    if (stdout_to == StdoutTo::kCapture) {
      o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    } else if (stdout_to == StdoutTo::kDevFull) {
      o = ::open("/dev/full", O_WRONLY);
    } else {
      int fds[2];
      if (::pipe(fds) == 0) {
        ::close(fds[0]);
        o = fds[1];
      }
    }
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(127);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

RunResult wait_palsim(pid_t pid, const std::string& capture_dir, double timeout_seconds) {
  RunResult r;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  int status = 0;
  while (true) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = read_text(capture_dir + "/stdout");
  r.err = read_text(capture_dir + "/stderr");
  return r;
}

RunResult run_palsim(const std::vector<std::string>& args, const std::string& cwd,
                     const std::string& capture_dir, double timeout_seconds, StdoutTo out) {
  return wait_palsim(start_palsim(args, cwd, capture_dir, out), capture_dir, timeout_seconds);
}

bool has_sanitizer_report(const std::string& err) {
  for (const char* m : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                        "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer"}) {
    if (err.find(m) != std::string::npos) return true;
  }
  return false;
}

}  // namespace palsim_test
