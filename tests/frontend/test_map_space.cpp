// The map space, its evaluator and the search policies (map_space.h,
// map_evaluator.h, search_policy.h): what a search visits is accounted for
// point by point, a point evaluated alone costs what the search said, and
// an illegal point names its rule.
#include "frontend/mapping/map_space.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "frontend/mapping/map_evaluator.h"
#include "frontend/mapping/mapper.h"
#include "frontend/mapping/search_policy.h"
#include "tests/frontend/shipped_config.h"

namespace palsim::frontend {
namespace {

MappingProblem conv(int cin, int cout, int out, int k, int bits, int groups = 1) {
  MappingProblem p;
  p.groups = groups;
  p.cin_g = cin;
  p.cout_g = cout;
  p.out_h = p.out_w = out;
  p.kh = p.kw = k;
  p.ph = p.pw = k / 2;
  p.in_h = p.in_w = out;
  p.a_bits = p.w_bits = p.in_bits = p.out_bits = bits;
  return p;
}

int64_t space_points(const HwConfig& hw, const MappingProblem& p) {
  int64_t n = 0;
  for (int pack : group_pack_axis(hw, p).values)
    n += make_map_space(hw, packed_problem(p, pack), "x").size();
  return n;
}

TEST(MapSpace, AxesAreNamedAndTheSpaceIsTheirProduct) {
  const HwConfig hw = config("bitfusion");
  const MappingProblem p = conv(64, 128, 14, 3, 4);
  const MapSpace s = make_map_space(hw, p, "x");
  EXPECT_EQ(s.mode.name, "array mode");
  EXPECT_EQ(s.order.name, "loop order");
  EXPECT_EQ(s.tile[static_cast<size_t>(LoopDim::kH)].name, "tile H");
  EXPECT_EQ(s.level[2].name, "DMA level output");
  EXPECT_EQ(s.tile[static_cast<size_t>(LoopDim::kM)].values, tile_candidates(128));
  EXPECT_EQ(s.level[0].values, (std::vector<int>{5, 4, 3, 2, 1, 0}));
  int64_t product = static_cast<int64_t>(s.mode.size() * s.order.size());
  for (const auto& t : s.tile) product *= static_cast<int64_t>(t.size());
  for (const auto& l : s.level) product *= static_cast<int64_t>(l.size());
  EXPECT_EQ(s.size(), product);
  // A packed tile covers whole groups; a pool has no weight level to choose.
  const MapSpace packed = make_map_space(hw, packed_problem(conv(8, 8, 14, 3, 4, 8), 4), "x");
  EXPECT_EQ(packed.tile[static_cast<size_t>(LoopDim::kC)].values, std::vector<int>{32});
  MappingProblem pool = p;
  pool.pool = true;
  EXPECT_EQ(make_map_space(hw, pool, "x").level[1].size(), 1u);
}

TEST(MapSearch, EveryPointOfTheSpaceIsEvaluatedOrRejectedForOneReason) {
  const HwConfig hw = config("bitfusion");
  const HwConfig small =
      config("bitfusion", {"buffers.obuf.size_bytes=2048", "buffers.wbuf.size_bytes=2048"});
  const MappingProblem depthwise = conv(1, 1, 28, 3, 4, 64);
  for (const MappingProblem& p : {conv(64, 128, 14, 3, 4), conv(3, 64, 56, 7, 8), depthwise}) {
    for (size_t count : {size_t{1}, size_t{8}}) {
      for (const HwConfig* h : {&hw, &small}) {
        const MapSearchResult r = find_mappings(*h, p, "x", count);
        EXPECT_EQ(r.stats.visited, space_points(*h, p));
        EXPECT_EQ(r.stats.visited, r.stats.evaluated + r.stats.rejected_total());
        EXPECT_GT(r.stats.evaluated, 0);
        EXPECT_GT(r.stats[RejectReason::kDominated], 0);
      }
    }
  }
  // The search prunes tilings by their work bound, and a small OBUF rejects tiles.
  const MapSearchResult r = find_mappings(small, conv(64, 128, 14, 3, 4), "x", 1);
  EXPECT_GT(r.stats[RejectReason::kWorkBound], 0);
  EXPECT_GT(r.stats[RejectReason::kObufCapacity], 0);
  EXPECT_GT(r.stats[RejectReason::kWbufCapacity], 0);
  EXPECT_NE(r.stats.describe().find("obuf_capacity"), std::string::npos);
  // An on-chip output may not spill partial sums.
  MappingProblem onchip = conv(256, 64, 7, 3, 4);
  onchip.onchip_output = true;
  EXPECT_GT(find_mappings(small, onchip, "x", 1).stats[RejectReason::kOnchipSpill], 0);
}

TEST(MapEvaluator, AGivenPointCostsWhatTheSearchEstimated) {
  for (const std::string name : {"bitfusion", "bpvec"}) {
    const HwConfig hw = config(name);
    const HwConfig ddr4 = config(name, {"offchip.model=ddr4"});
    for (const HwConfig* h : {&hw, &ddr4}) {
      const MappingProblem p = conv(1, 1, 28, 3, 4, 32);
      for (const Mapping& m : find_mappings(*h, p, "x", 8).mappings) {
        const MapSpace s = make_map_space(*h, packed_problem(p, m.pack), "x");
        Mapping given = m;
        given.mode = ArrayMode{};  // a file names a mode by fa, fw, lanes alone
        given.mode.fa = m.mode.fa;
        given.mode.fw = m.mode.fw;
        given.mode.lanes_per_unit = m.mode.lanes_per_unit;
        const PointEvaluation e = evaluate_point(*h, s, given);
        ASSERT_TRUE(e.estimate) << e.rejection->detail;
        EXPECT_EQ(e.estimate->cycles, m.estimate.cycles);
        EXPECT_EQ(e.estimate->dram_bits, m.estimate.dram_bits);
        EXPECT_DOUBLE_EQ(e.estimate->energy_pj, m.estimate.energy_pj);
        EXPECT_EQ(e.mapping.mode.passes(), m.mode.passes());
      }
    }
  }
}

TEST(MapEvaluator, AnIllegalPointNamesItsRuleAndKey) {
  const HwConfig hw = config("bitfusion", {"buffers.obuf.size_bytes=2048"});
  const MappingProblem p = conv(64, 128, 14, 3, 4);
  const MapSpace s = make_map_space(hw, p, "x");
  const Mapping best = find_mapping(hw, p, "x");
  const auto rejected = [&](Mapping m) {
    const PointEvaluation e = evaluate_point(hw, s, m);
    EXPECT_FALSE(e.estimate);
    return e.rejection.value_or(Rejection{RejectReason::kWorkBound, "", ""});
  };
  Mapping m = best;
  m.h_t = 15;
  Rejection r = rejected(m);
  EXPECT_EQ(r.reason, RejectReason::kTile);
  EXPECT_EQ(r.key, "tiles.H");
  m = best;
  m.mode.lanes_per_unit = 3;
  EXPECT_EQ(rejected(m).key, "mode");
  m = best;
  m.order = {LoopDim::kH, LoopDim::kN, LoopDim::kW, LoopDim::kM, LoopDim::kC};
  EXPECT_EQ(rejected(m).reason, RejectReason::kLoopOrder);
  m = best;
  m.level[0] = 6;
  EXPECT_EQ(rejected(m).key, "levels.input");
  // Whole images at once: the accumulators exceed the small OBUF.
  m = best;
  m.n_t = 1, m.h_t = m.w_t = 14, m.m_t = 64, m.c_t = 64;
  m.level = {5, 5, 5};
  r = rejected(m);
  EXPECT_EQ(r.reason, RejectReason::kObufCapacity);
  EXPECT_NE(r.detail.find("OBUF has 2048 B"), std::string::npos) << r.detail;
  // Packing: a pack must divide the groups.
  const auto bad_pack = check_group_pack(hw, conv(8, 8, 14, 3, 4, 8), 3);
  ASSERT_TRUE(bad_pack);
  EXPECT_EQ(bad_pack->reason, RejectReason::kGroupPack);
  EXPECT_FALSE(check_group_pack(hw, conv(8, 8, 14, 3, 4, 8), 4));
  EXPECT_TRUE(check_group_pack(hw, p, 2));  // one group
}

TEST(SearchPolicy, TheExhaustivePolicyProposesEveryTilingOnce) {
  const HwConfig hw = config("bpvec");
  const MapSpace s = make_map_space(hw, conv(16, 24, 6, 3, 4), "x");
  ExhaustivePolicy policy(s);
  std::set<std::string> seen;
  int64_t n = 0;
  while (const auto m = policy.next()) {
    ++n;
    seen.insert(m->describe());
    policy.report({});
  }
  EXPECT_EQ(n * s.points_per_tiling(), s.size());
  EXPECT_EQ(static_cast<int64_t>(seen.size()), n);
}

// A new strategy is one class: random sampling visits what it samples and
// finds nothing the exhaustive search missed.
TEST(SearchPolicy, RandomSamplingVisitsItsSamplesAndNeverBeatsTheExhaustiveSearch) {
  const HwConfig hw = config("bitfusion");
  const MappingProblem p = conv(64, 128, 14, 3, 4);
  const MapSearchResult all = find_mappings(hw, p, "x", 1);
  const MapSearchResult some = find_mappings(hw, p, "x", 1, random_policy(40, 7));
  const MapSpace s = make_map_space(hw, p, "x");
  EXPECT_EQ(some.stats.visited, 40 * s.points_per_tiling());
  EXPECT_LT(some.stats.visited, all.stats.visited);
  ASSERT_FALSE(some.mappings.empty());
  EXPECT_GE(some.mappings.front().estimate.cycles, all.mappings.front().estimate.cycles);
  // Deterministic from its seed.
  EXPECT_EQ(find_mappings(hw, p, "x", 1, random_policy(40, 7)).mappings.front().describe(),
            some.mappings.front().describe());
}

}  // namespace
}  // namespace palsim::frontend
