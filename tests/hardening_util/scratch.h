#pragma once
// A scratch directory for tests that run the palsim executable: created
// empty (with a `capture` subdirectory for the child's stdout and stderr),
// removed with everything in it at the end of the test.
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "tests/hardening_util/run_palsim.h"

namespace palsim_test {

class Scratch {
 public:
  explicit Scratch(const std::string& prefix = "palsim-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    path_ = ::mkdtemp(tmpl.data());
    std::filesystem::create_directories(capture());
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::string& path() const { return path_; }
  std::string capture() const { return path_ + "/capture"; }
  std::string operator/(const std::string& f) const { return path_ + "/" + f; }

  // palsim ARGS run in the directory.
  RunResult run(const std::vector<std::string>& args, double timeout_seconds = 300) const {
    return run_palsim(args, path_, capture(), timeout_seconds);
  }
  pid_t start(const std::vector<std::string>& args) const {
    return start_palsim(args, path_, capture());
  }
  RunResult wait(pid_t pid) const { return wait_palsim(pid, capture(), 300); }

  // The names in the directory, without the capture directory.
  std::set<std::string> names() const {
    std::set<std::string> n;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      if (e.path().filename() != "capture") n.insert(e.path().filename().string());
    }
    return n;
  }

 private:
  std::string path_;
};

}  // namespace palsim_test
