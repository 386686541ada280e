#pragma once
// Helpers for tests that run the palsim executable.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include "tests/common/test_util.h"

namespace palsim_test {

namespace fs = std::filesystem;

inline const std::string kSource = PALSIM_SOURCE_DIR;

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `palsim ARGS` (ARGS is shell text) and captures stdout, stderr, exit code.
inline Result palsim(const std::string& args) {
  TempDir dir;
  const std::string err_file = dir.path() + "/stderr";
  const std::string cmd = std::string("'") + PALSIM_BINARY + "' " + args + " 2>'" + err_file + "'";
  Result r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) {
    ADD_FAILURE() << "popen failed: " << cmd;
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(err_file);
  return r;
}

inline std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

}  // namespace palsim_test
