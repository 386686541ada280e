// The palsim executable: help, bitops, network, and exit codes
// (0 success, 1 a failed run or bad input file, 2 a bad command line).
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli_test_util.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace palsim_test;

// ---- help ----

TEST(CliHelp, TopLevel) {
  const Result r = palsim("--help");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "usage: palsim COMMAND");
  EXPECT_CONTAINS(r.out, "bitops");
  EXPECT_CONTAINS(r.out, "network");
  EXPECT_CONTAINS(r.out, "examples:");
  EXPECT_CONTAINS(r.out, "palsim bitops resnet18 --method palquant --B 2 --G 2");
  EXPECT_EQ(palsim("-h").code, 0);
  EXPECT_EQ(palsim("help").out, r.out);
}

TEST(CliHelp, NoArgumentsOrUnknownCommandIsUsage) {
  const Result none = palsim("");
  EXPECT_EQ(none.code, 2);
  EXPECT_CONTAINS(none.out, "usage: palsim COMMAND");
  const Result bad = palsim("simulate-everything");
  EXPECT_EQ(bad.code, 2);
  EXPECT_CONTAINS(bad.err, "unknown command 'simulate-everything'");
}

TEST(CliHelp, Version) {
  const Result r = palsim("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_CONTAINS(r.out, "palsim ");
}

const std::vector<std::string> kNetworkOptions = {"--network",
                                                  "--method",
                                                  "--abits",
                                                  "--wbits",
                                                  "--slice-bits",
                                                  "--quantizer",
                                                  "--B",
                                                  "--G",
                                                  "--channel-shuffle",
                                                  "--no-cyclic",
                                                  "--no-permutation",
                                                  "--permute-direction",
                                                  "--input-size",
                                                  "--input-channels",
                                                  "--classes",
                                                  "--base-width",
                                                  "--stem",
                                                  "--blocks"};

TEST(CliHelp, BitopsMentionsEveryOptionAndExamples) {
  const Result r = palsim("bitops --help");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_CONTAINS(r.out, "usage: palsim bitops NETWORK");
  std::vector<std::string> options = kNetworkOptions;
  for (const char* o : {"--per-layer", "--json", "--count-wbits", "--count-abits"})
    options.push_back(o);
  for (const auto& o : options) EXPECT_CONTAINS(r.out, o + " ");
  EXPECT_CONTAINS(r.out, "Examples:");
  EXPECT_CONTAINS(r.out, "palsim bitops resnet18 --method palquant --B 2 --G 2");
  EXPECT_CONTAINS(r.out, "palsim bitops resnet18 --method lsq --abits 4 --wbits 4");
  EXPECT_CONTAINS(r.out, "--json");
  EXPECT_EQ(palsim("bitops resnet18 -h").out, r.out);  // --help wins over the other arguments
}

TEST(CliHelp, NetworkMentionsEveryOptionAndExamples) {
  const Result r = palsim("network --help");
  EXPECT_EQ(r.code, 0) << r.err;
  std::vector<std::string> options = kNetworkOptions;
  options.push_back("--output");
  for (const auto& o : options) EXPECT_CONTAINS(r.out, o + " ");
  EXPECT_CONTAINS(r.out, "-o [ --output ]");
  EXPECT_CONTAINS(r.out, "Examples:");
  EXPECT_CONTAINS(r.out, "palsim network resnet18 --method palquant --B 2 --G 2 -o");
}

TEST(CliHelp, ExamplesInTheHelpRun) {
  // The example files the help text names exist and count.
  const Result r =
      palsim("bitops " + quoted(kSource + "/workloads/examples/tiny.yaml") + " --json");
  EXPECT_EQ(r.code, 0) << r.err;
  const Result p = palsim("bitops resnet34 --method palquant --B 2 --G 4 --per-layer");
  EXPECT_EQ(p.code, 0) << p.err;
}

// ---- bitops ----

TEST(CliBitops, PalQuantB2G2) {
  const Result r = palsim("bitops resnet18 --method palquant --B 2 --G 2");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "14.87");
  EXPECT_CONTAINS(r.out, "BitOps   2 x 2 x 3.717G = 14.87G");
  EXPECT_CONTAINS(r.out, "3716608000");
  EXPECT_CONTAINS(r.out, "resnet18-palquant-b2g2");
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(CliBitops, PaperFigures) {
  const std::pair<const char*, const char*> cases[] = {
      {"--method lsq --abits 4 --wbits 4", "= 29.10G"},
      {"--method lsq --abits 6 --wbits 6", "= 65.48G"},
      {"--method lsq --abits 8 --wbits 8", "= 116.42G"},
      {"--method palquant --B 2 --G 3", "= 22.30G"},
      {"--method palquant --B 2 --G 4", "= 29.73G"},
      {"--method lsq", "= 29.10G"},  // 4/4 by default
  };
  for (const auto& [args, expect] : cases) {
    const Result r = palsim(std::string("bitops resnet18 ") + args);
    EXPECT_EQ(r.code, 0) << args << ": " << r.err;
    EXPECT_CONTAINS(r.out, expect);
  }
}

TEST(CliBitops, JsonIsValid) {
  const Result r = palsim("bitops resnet18 --method palquant --B 2 --G 2 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out;
  ASSERT_TRUE(j.is_object());
  ASSERT_TRUE(j["bitops"].is_number());
  EXPECT_DOUBLE_EQ(j["bitops"].get<double>(), 14.87);
  ASSERT_TRUE(j["macs"].is_number_integer());
  EXPECT_EQ(j["macs"].get<int64_t>(), 3716608000);
  EXPECT_DOUBLE_EQ(j["macs_g"].get<double>(), 3.717);
  EXPECT_EQ(j["w_bits"], 2);
  EXPECT_EQ(j["a_bits"], 2);
  EXPECT_EQ(j["network"], "resnet18-palquant-b2g2");
  ASSERT_TRUE(j["layers"].is_array());
  ASSERT_FALSE(j["layers"].empty());
  int64_t sum = 0;
  for (const auto& l : j["layers"]) {
    ASSERT_TRUE(l["name"].is_string());
    ASSERT_TRUE(l["op"].is_string());
    ASSERT_TRUE(l["macs"].is_number_integer());
    EXPECT_TRUE(l["bitops"].is_number());
    EXPECT_TRUE(l["slice_products"].is_number_integer());
    sum += l["macs"].get<int64_t>();
  }
  EXPECT_EQ(sum, 3716608000);
  EXPECT_EQ(j["layers"][0]["name"], "conv1");
  EXPECT_EQ(j["layers"][0]["macs"], 236027904);
  // Nothing but the JSON on stdout.
  EXPECT_EQ(r.out.find("BitOps"), std::string::npos);
}

TEST(CliBitops, PerLayerTable) {
  const Result r = palsim("bitops resnet18 --method lsq --abits 4 --wbits 4 --per-layer");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header;
  std::getline(lines, header);
  EXPECT_CONTAINS(header, "layer");
  EXPECT_CONTAINS(header, "op");
  EXPECT_CONTAINS(header, "MACs");
  EXPECT_CONTAINS(header, "BitOps");
  int rows = 0;
  bool saw_conv1 = false, saw_fc = false;
  std::string line;
  while (std::getline(lines, line) && !line.empty()) {
    ++rows;
    std::istringstream cells(line);
    std::string name, op;
    long long macs = 0;
    cells >> name >> op >> macs;
    EXPECT_GT(macs, 0) << line;
    if (name == "conv1") {
      saw_conv1 = true;
      EXPECT_EQ(op, "conv");
      EXPECT_EQ(macs, 118013952);
    }
    if (name == "fc") saw_fc = (macs == 512000);
  }
  // 20 convs, 20 BNs, the global pool and the FC have a nonzero count.
  EXPECT_EQ(rows, 42);
  EXPECT_TRUE(saw_conv1);
  EXPECT_TRUE(saw_fc);
  EXPECT_CONTAINS(r.out, "= 29.10G");
}

TEST(CliBitops, YamlNetworkFiles) {
  Result r =
      palsim("bitops " + quoted(kSource + "/workloads/imagenet/resnet18_palquant_b2g2.yaml"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "= 14.87G");
  r = palsim("bitops " + quoted(kSource + "/workloads/imagenet/resnet18_lsq_a4w4.yaml"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "= 29.10G");
  r = palsim("bitops " + quoted(kSource + "/workloads/examples/tiny.yaml") + " --per-layer");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "block.conv1");
  EXPECT_CONTAINS(r.out, "6463840");
  r = palsim("bitops " + quoted(kSource + "/workloads/examples/tiny_palquant.yaml") +
             " --count-wbits 4 --count-abits 4 --json");
  EXPECT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["w_bits"], 4);
  EXPECT_EQ(j["a_bits"], 4);
}

TEST(CliBitops, RelativeYamlPath) {
  const Result r = palsim("bitops workloads/examples/tiny.yaml --json");
  // Relative to the current directory, which is not the source tree here.
  if (fs::exists("workloads/examples/tiny.yaml"))
    GTEST_SKIP() << "test runs inside the source tree";
  EXPECT_EQ(r.code, 1);
  EXPECT_CONTAINS(r.err, "workloads/examples/tiny.yaml");
  EXPECT_CONTAINS(r.err, "no such file");
}

// ---- bad command lines: exit 2, the option named ----

TEST(CliUsage, BadOptionsExit2NamingTheOption) {
  const std::string yaml = quoted(kSource + "/workloads/examples/tiny.yaml");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bitops resnet18 --method palquant --G 0", "--G"},
      {"bitops resnet18 --method palquant --G 17", "--G"},
      {"bitops resnet18 --method palquant --B 9", "--B"},
      {"bitops resnet18 --method palquant --B 1", "--B"},
      {"bitops resnet18 --method dorefa", "--method"},
      {"bitops resnet18 --method palquant --abits 4", "--abits"},
      {"bitops resnet18 --method palquant --wbits 4", "--wbits"},
      {"bitops resnet18 --abits 4", "--abits"},  // fp
      {"bitops resnet18 --method lsq --G 2", "--G"},
      {"bitops resnet18 --method lsq --no-cyclic", "--no-cyclic"},
      {"bitops resnet18 --method lsq --abits 9", "--abits"},
      {"bitops resnet18 --method bitdecomposed --slice-bits 3", "--slice-bits"},
      {"bitops resnet18 --method bitdecomposed --quantizer pact", "--quantizer"},
      {"bitops resnet18 --method palquant --G 2 --channel-shuffle always", "--channel-shuffle"},
      {"bitops resnet18 --method palquant --G 2 --permute-direction left", "--permute-direction"},
      {"bitops resnet18 --method palquant --G two", "--G"},
      {"bitops resnet18 --blocks 2,x,2,2", "--blocks"},
      {"bitops resnet99", "resnet99"},
      {"bitops", "NETWORK"},
      {"bitops resnet18 resnet34", "NETWORK is the only positional argument"},
      {"bitops resnet18 --frobnicate", "--frobnicate"},
      {"bitops resnet18 --count-wbits 0", "--count-wbits"},
      {"bitops " + yaml + " --method palquant", "--method"},
      {"bitops " + yaml + " --method fp", "--method"},
      {"bitops " + yaml + " --G 2", "--G"},
      {"bitops " + yaml + " --input-size 64", "--input-size"},
      {"network " + yaml + " --classes 10", "--classes"},
      {"network resnet18 --method palquant --G 0 -o x.yaml", "--G"},
  };
  for (const auto& [args, name] : cases) {
    const Result r = palsim(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_CONTAINS(r.err, name);
    EXPECT_CONTAINS(r.err, "error");
    EXPECT_TRUE(r.out.empty()) << args << "\n" << r.out;
  }
}

// ---- bad input files: exit 1 with file and line ----

TEST(CliErrors, BadYamlFileExits1WithFileLineKey) {
  const std::string path = kSource + "/tests/data/networks/bad_shape_mismatch.yaml";
  const Result r = palsim("bitops " + quoted(path));
  EXPECT_EQ(r.code, 1);
  EXPECT_CONTAINS(r.err, path + ":8:");
  EXPECT_CONTAINS(r.err, "'layers[4]'");
  EXPECT_CONTAINS(r.err, "add1");
  const Result missing = palsim("bitops /no/such/net.yaml");
  EXPECT_EQ(missing.code, 1);
  EXPECT_CONTAINS(missing.err, "/no/such/net.yaml");
}

// ---- network ----

TEST(CliNetwork, WriteThenCount) {
  TempDir dir;
  const std::string out = dir.path() + "/r18_b2g2.yaml";
  const Result w = palsim("network resnet18 --method palquant --B 2 --G 2 -o " + quoted(out));
  ASSERT_EQ(w.code, 0) << w.err;
  EXPECT_TRUE(w.out.empty());
  EXPECT_CONTAINS(w.err, "wrote");
  ASSERT_TRUE(fs::exists(out));
  const Result c = palsim("bitops " + quoted(out));
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_CONTAINS(c.out, "= 14.87G");
  // The file equals the stdout form and the shipped workload.
  const Result s = palsim("network resnet18 --method palquant --B 2 --G 2");
  EXPECT_EQ(s.code, 0);
  EXPECT_EQ(s.out, slurp(out));
  EXPECT_EQ(slurp(out), slurp(kSource + "/workloads/imagenet/resnet18_palquant_b2g2.yaml"));
  // Only the file itself is left in the directory (no temporary files).
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1);
}

TEST(CliNetwork, LsqWorkloadMatches) {
  const Result s = palsim("network resnet18 --method lsq --abits 4 --wbits 4");
  EXPECT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out, slurp(kSource + "/workloads/imagenet/resnet18_lsq_a4w4.yaml"));
}

TEST(CliNetwork, OutputInAMissingDirectory) {
  TempDir dir;
  const std::string missing = dir.path() + "/no/such/dir";
  const std::string out = missing + "/net.yaml";
  const Result r = palsim("network resnet18 --method palquant --B 2 --G 2 -o " + quoted(out));
  EXPECT_EQ(r.code, 1);
  EXPECT_CONTAINS(r.err, "-o");
  EXPECT_CONTAINS(r.err, "does not exist");
  EXPECT_CONTAINS(r.err, missing);
  EXPECT_TRUE(r.out.empty());
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(dir.path() + "/no"));
}

TEST(CliNetwork, OutputIsADirectory) {
  TempDir dir;
  const Result r = palsim("network resnet18 -o " + quoted(dir.path()));
  EXPECT_EQ(r.code, 1);
  EXPECT_CONTAINS(r.err, "is a directory");
}

}  // namespace
