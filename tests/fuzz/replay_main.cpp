// Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without
// libFuzzer: ctest runs it over the seed corpus and the regression corpus of
// its target in every build. An input that crashes, leaves an unexpected
// exception or takes longer than the limit fails the run.
//
//   replay_TARGET [--max-seconds S] DIR_OR_FILE...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_util.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  double max_seconds = 1.0;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--max-seconds" && i + 1 < argc) {
      max_seconds = std::atof(argv[++i]);
      continue;
    }
    if (fs::is_directory(a)) {
      for (const auto& e : fs::recursive_directory_iterator(a)) {
        if (e.is_regular_file() && e.path().filename().string()[0] != '.')
          files.push_back(e.path());
      }
    } else if (fs::is_regular_file(a)) {
      files.emplace_back(a);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", a.c_str());
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  int slow = 0;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replay: %s\n", f.c_str());
    const auto t0 = std::chrono::steady_clock::now();
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > max_seconds) {
      std::fprintf(stderr, "replay: %s took %.2f s (limit %.2f s)\n", f.c_str(), s, max_seconds);
      ++slow;
    }
  }
  std::printf("replayed %zu inputs, %d over the time limit\n", files.size(), slow);
  return slow ? 1 : 0;
}
