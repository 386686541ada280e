// The command line with the issue-9 networks: BitOps of plain18 with both
// projection choices, the ShuffleNet v2 options, a detailed simulation of a
// tiny ShuffleNet v2 that is bit-exact, and options given to the wrong network.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_test_util.h"

namespace palsim_test {
namespace {

TEST(CliNetworks, Plain18BitOpsWithBothProjectionChoices) {
  const Result keep = palsim("bitops plain18 --method lsq --abits 4 --wbits 4");
  EXPECT_EQ(keep.code, 0) << keep.err;
  EXPECT_CONTAINS(keep.out, "plain18-projections_keep-lsq-a4w4");
  EXPECT_CONTAINS(keep.out, "= 29.10G");
  EXPECT_CONTAINS(palsim("bitops plain18 --method palquant --B 2 --G 2").out, "= 14.87G");
  EXPECT_CONTAINS(palsim("bitops plain18 --method lsq --projections drop").out, "= 28.78G");
  EXPECT_CONTAINS(palsim("bitops plain18 --method palquant --G 2 --projections drop").out,
                  "= 14.71G");
}

TEST(CliNetworks, ShuffleNetBitOpsAndNetworkFile) {
  const Result r = palsim("bitops shufflenetv2 --method lsq --width 0.5 --cyclic-groups 2 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["network"], "shufflenetv2-0.5x-cyclic2-lsq-a4w4");
  EXPECT_GT(j["macs"].get<int64_t>(), 0);
  const Result y = palsim("network shufflenetv2 --method lsq --blocks 1,2,1");
  ASSERT_EQ(y.code, 0) << y.err;
  EXPECT_CONTAINS(y.out, "op: split");
  EXPECT_CONTAINS(y.out, "op: concat");
}

TEST(CliNetworks, DetailedTinyShuffleNetIsBitExact) {
  const Result r = palsim(
      "simulate shufflenetv2 --method lsq --width 0.5 --input-size 8 --stem small --blocks 1,2,1 "
      "--cyclic-groups 2 --refine 1 --mode detailed --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["detailed"]["bit_exact_vs_kernels"].get<bool>());
  bool copy = false;
  for (const auto& l : j["layers"]) copy = copy || l["kind"] == "copy";
  EXPECT_TRUE(copy);
}

TEST(CliNetworks, OptionsForAnotherNetworkAreErrors) {
  const Result a = palsim("bitops resnet18 --method lsq --projections drop");
  EXPECT_NE(a.code, 0);
  EXPECT_CONTAINS(a.err, "--projections applies to plain18");
  const Result b = palsim("bitops plain18 --width 0.5");
  EXPECT_NE(b.code, 0);
  EXPECT_CONTAINS(b.err, "--width applies to shufflenetv2");
  const Result c = palsim("bitops shufflenetv2 --method palquant --G 2");
  EXPECT_NE(c.code, 0);
  EXPECT_CONTAINS(c.err, "palquant");
  const Result d = palsim("bitops shufflenetv2 --width 0.7");
  EXPECT_NE(d.code, 0);
  EXPECT_CONTAINS(d.err, "--width");
  const Result e = palsim("bitops shufflenetv2 --cyclic-groups 0");
  EXPECT_EQ(e.code, 2);
  EXPECT_CONTAINS(e.err, "--cyclic-groups");
}

}  // namespace
}  // namespace palsim_test
