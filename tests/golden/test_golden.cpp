// Golden figures: the complete JSON of a fixed set of runs (cases.txt),
// compared byte for byte with tests/golden/NAME.json. Any change of a cycle,
// an energy, a count or a mapping fails here; updating the files is a
// deliberate act (tools/update_golden), and the simulator version is a hash of
// them, so results of two different models are never mixed.
//
// Removed before the comparison, because they describe the build or the
// machine rather than the model: provenance.build (palsim version, source
// revision, simulator version), provenance.command_line (the executable's
// path), and the wall-clock figures of detailed mode. Paths inside the
// checkout are written relative to it ("<source>/configs/..."), so that a
// clone elsewhere compares equal.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <stdlib.h>  // getenv

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/hardening_util/run_palsim.h"
#include "tests/hardening_util/scratch.h"

namespace {

namespace fs = std::filesystem;

const std::string kSrc = PALSIM_SOURCE_DIR;
const std::string kGoldenDir = kSrc + "/tests/golden";

struct GoldenCase {
  std::string name;
  std::vector<std::string> args;
};
// gtest prints a case by its name, not its bytes.
void PrintTo(const GoldenCase& c, std::ostream* os) {
  *os << c.name;
}

std::vector<GoldenCase> load_cases() {
  std::ifstream in(kGoldenDir + "/cases.txt");
  std::vector<GoldenCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    GoldenCase c;
    words >> c.name;
    for (std::string w; words >> w;) c.args.push_back(w);
    cases.push_back(c);
  }
  return cases;
}

// Drops the build- and machine-dependent fields, wherever a result object
// holds them (table2 prints a list of rows, each with its runs).
void normalize(nlohmann::json& j) {
  if (j.is_string()) {
    const std::string prefix = kSrc + "/";
    std::string text = j.get<std::string>();
    for (size_t at; (at = text.find(prefix)) != std::string::npos;)
      text.replace(at, prefix.size(), "<source>/");
    j = text;
    return;
  }
  if (j.is_array()) {
    for (auto& e : j) normalize(e);
    return;
  }
  if (!j.is_object()) return;
  if (j.contains("provenance") && j["provenance"].is_object()) {
    j["provenance"].erase("build");
    j["provenance"].erase("command_line");
  }
  if (j.contains("detailed") && j["detailed"].is_object()) {
    for (const char* machine :
         {"wall_seconds", "model_seconds", "check_seconds", "unit_cycles_per_second"})
      j["detailed"].erase(machine);
  }
  for (auto& [k, v] : j.items()) normalize(v);
}

using palsim_test::Scratch;

// Every leaf that differs, as "path: golden -> now" (at most `limit` of them;
// `count` counts all), so that a failure says which figures moved.
void diff_json(const nlohmann::json& want, const nlohmann::json& got, const std::string& path,
               std::vector<std::string>& out, size_t& count, size_t limit) {
  auto report = [&](const std::string& what) {
    ++count;
    if (out.size() < limit)
      out.push_back(path + ": " + (what.size() > 160 ? what.substr(0, 160) + "..." : what));
  };
  if (want.type() != got.type() && !(want.is_number() && got.is_number())) {
    report(want.dump() + " -> " + got.dump());
    return;
  }
  if (want.is_object()) {
    for (const auto& [k, v] : want.items()) {
      if (!got.contains(k))
        report("'" + k + "' removed");
      else
        diff_json(v, got[k], path + "." + k, out, count, limit);
    }
    for (const auto& [k, v] : got.items()) {
      if (!want.contains(k)) report("'" + k + "' added: " + v.dump().substr(0, 80));
    }
  } else if (want.is_array()) {
    if (want.size() != got.size()) report(fmt::format("{} entries -> {}", want.size(), got.size()));
    for (size_t i = 0; i < std::min(want.size(), got.size()); ++i)
      diff_json(want[i], got[i], fmt::format("{}[{}]", path, i), out, count, limit);
  } else if (want != got) {
    report(want.dump() + " -> " + got.dump());
  }
}

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, JsonEqualsTheCommittedFile) {
  const GoldenCase& c = GetParam();
  Scratch s;
  const palsim_test::RunResult r = palsim_test::run_palsim(c.args, kSrc, s.capture(), 600);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out.substr(0, 400);
  normalize(j);
  const std::string got = j.dump(1) + "\n";
  const std::string file = kGoldenDir + "/" + c.name + ".json";
  if (const char* update = ::getenv("PALSIM_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(file, std::ios::binary) << got;
    GTEST_SKIP() << "rewrote " << file;
  }
  const std::string want = palsim_test::read_text(file);
  ASSERT_FALSE(want.empty()) << file << " is missing: run tools/update_golden";
  if (got != want) {
    std::vector<std::string> lines;
    size_t count = 0;
    diff_json(nlohmann::json::parse(want), j, c.name, lines, count, 25);
    FAIL() << c.name << ": " << count << " figure(s) differ from " << file << ":\n  "
           << fmt::format("{}", fmt::join(lines, "\n  ")) << (count > lines.size() ? "\n  ..." : "")
           << "\nIf the change is intended, run tools/update_golden and say in the commit which "
              "figures moved and why.";
  }
}

INSTANTIATE_TEST_SUITE_P(Runs, Golden, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return info.param.name;
                         });

// The committed files and the cases agree: no golden file without its run.
TEST(GoldenFiles, EveryFileHasACase) {
  std::vector<std::string> names;
  for (const auto& c : load_cases()) names.push_back(c.name + ".json");
  for (const auto& e : fs::directory_iterator(kGoldenDir)) {
    if (e.path().extension() != ".json") continue;
    EXPECT_NE(std::find(names.begin(), names.end(), e.path().filename().string()), names.end())
        << e.path() << " has no case in cases.txt (remove it, or add its run)";
  }
}

}  // namespace
