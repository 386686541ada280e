// The planner: block intermediates kept on chip exactly where the model says
// they can be, and mappings cached per problem.
#include "frontend/lowering/plan.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "frontend/builders/registry.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/mapping/mapper.h"
#include "tests/frontend/shipped_config.h"

namespace palsim::frontend {
namespace {

HwGraph resnet18_graph(int G, bool onchip) {
  NetworkRequest request;
  request.network = "resnet18";
  request.method_given = true;
  if (G > 0) {
    request.method.method = Method::kPalQuant;
    request.method.B = 2;
    request.method.G = G;
  } else {
    request.method.method = Method::kLsq;
    request.method.a_bits = 4;
    request.method.w_bits = 4;
  }
  LoweringOptions options;
  options.onchip_intermediates = onchip;
  return build_hw_graph(resolve_network(request), options);
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}
// "layer2.1.conv1" -> "layer2.1."; "" when the name is not a block's conv1/conv2.
std::string block_of(const std::string& name, const std::string& conv) {
  const std::string suffix = "." + conv;
  if (!starts_with(name, "layer") || name.size() <= suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return "";
  }
  return name.substr(0, name.size() - conv.size());
}

void expect_same_mapping(const Mapping& a, const Mapping& b) {
  EXPECT_EQ(a.describe(), b.describe());
  EXPECT_EQ(a.n_t, b.n_t);
  EXPECT_EQ(a.h_t, b.h_t);
  EXPECT_EQ(a.w_t, b.w_t);
  EXPECT_EQ(a.m_t, b.m_t);
  EXPECT_EQ(a.c_t, b.c_t);
  EXPECT_EQ(a.order, b.order);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.mode.lanes_per_unit, b.mode.lanes_per_unit);
  EXPECT_EQ(a.mode.outputs_per_unit, b.mode.outputs_per_unit);
  EXPECT_EQ(a.estimate.cycles, b.estimate.cycles);
  EXPECT_EQ(a.estimate.compute_cycles, b.estimate.compute_cycles);
  EXPECT_EQ(a.estimate.dram_cycles, b.estimate.dram_cycles);
  EXPECT_EQ(a.estimate.dram_bits, b.estimate.dram_bits);
  EXPECT_EQ(a.estimate.energy_pj, b.estimate.energy_pj);
}

// Whether keeping the pair (i, i + 1) on chip improves the estimate, derived
// here from the mapper alone, and the mappings of the pair on chip.
struct FusionDecision {
  bool pays = false;
  Mapping producer, consumer;
};
FusionDecision decide_fusion(const HwConfig& hw, const HwGraph& g, size_t i, int64_t region) {
  FusionDecision d;
  MappingProblem pa = make_problem(g, g.ops[i]), pb = make_problem(g, g.ops[i + 1]);
  const Mapping sa = find_mapping(hw, pa, g.ops[i].name);
  const Mapping sb = find_mapping(hw, pb, g.ops[i + 1].name);
  pa.onchip_output = true;
  pa.ibuf_reserved_bits = region;
  pb.onchip_input = true;
  pb.ibuf_reserved_bits = region;
  try {
    d.producer = find_mapping(hw, pa, g.ops[i].name);
    d.consumer = find_mapping(hw, pb, g.ops[i + 1].name);
  } catch (const InputError&) {
    return d;
  }
  const MappingEstimate &fa = d.producer.estimate, &fb = d.consumer.estimate;
  const int64_t fused = fa.cycles + fb.cycles;
  const int64_t split = sa.estimate.cycles + sb.estimate.cycles;
  d.pays = fused < split || (fused == split && fa.energy_pj + fb.energy_pj <
                                                   sa.estimate.energy_pj + sb.estimate.energy_pj);
  return d;
}

TEST(Plan, PalQuantFusesTheTwoConvsOfABlock) {
#ifdef NDEBUG
  const std::vector<std::string> machines = {"bitfusion", "bpvec"};
#else
  const std::vector<std::string> machines = {"bitfusion"};  // BPVeC's search is slow unoptimized
#endif
  for (const std::string& hw_name : machines) {
    SCOPED_TRACE(hw_name);
    const HwConfig hw = config(hw_name);
    const Plan plan = plan_network(hw, resnet18_graph(2, true));
    const auto& ops = plan.graph.ops;
    ASSERT_EQ(plan.ops.size(), ops.size());

    // The network has what fusion must not cross: channel shuffles at block
    // ends and cyclic rotations at stage starts.
    int shuffles = 0, rotations = 0, blocks = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      shuffles += ops[i].out_shuffle_groups > 1;
      rotations += ops[i].in_group_rotate != 0;
      if (!block_of(ops[i].name, "conv1").empty()) ++blocks;
    }
    EXPECT_GT(shuffles, 0);
    EXPECT_GT(rotations, 0);
    EXPECT_EQ(blocks, 8);

    int64_t producers = 0, consumers = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      const OpPlan& op = plan.ops[i];
      SCOPED_TRACE(ops[i].name);
      EXPECT_FALSE(op.onchip_producer && op.onchip_consumer);
      EXPECT_EQ(op.problem.onchip_output, op.onchip_producer);
      EXPECT_EQ(op.problem.onchip_input, op.onchip_consumer);
      if (!op.onchip_producer && !op.onchip_consumer) {
        EXPECT_EQ(op.region_bits, 0);
        EXPECT_EQ(op.problem.ibuf_reserved_bits, 0);
      }
      if (op.onchip_consumer) {
        ++consumers;
        ASSERT_GT(i, 0u);
        EXPECT_TRUE(plan.ops[i - 1].onchip_producer);
      }
      if (!op.onchip_producer) continue;
      ++producers;
      ASSERT_LT(i + 1, ops.size());
      const HwOp& a = ops[i];
      const HwOp& b = ops[i + 1];
      const OpPlan& next = plan.ops[i + 1];
      // conv1 -> conv2 of one block.
      const std::string block = block_of(a.name, "conv1");
      EXPECT_FALSE(block.empty()) << a.name << " is not a block's first conv";
      EXPECT_EQ(block_of(b.name, "conv2"), block) << b.name;
      EXPECT_TRUE(next.onchip_consumer);
      EXPECT_EQ(b.input, a.output);
      EXPECT_EQ(a.groups, 2);
      EXPECT_EQ(b.groups, a.groups);
      // Never across a shuffle or a rotation.
      EXPECT_LE(a.out_shuffle_groups, 1);
      EXPECT_EQ(b.in_group_rotate, 0);
      // The conv1 output has no other reader.
      for (size_t j = 0; j < ops.size(); ++j) {
        if (j != i + 1) {
          EXPECT_NE(ops[j].input, a.output) << ops[j].name;
          EXPECT_NE(ops[j].residual, a.output) << ops[j].name;
        }
      }
      // One group's tensor, reserved in the IBUF by both.
      const int64_t region =
          static_cast<int64_t>(plan.graph.tensors[static_cast<size_t>(a.output)].size_bits()) /
          a.groups;
      EXPECT_EQ(op.region_bits, region);
      EXPECT_EQ(next.region_bits, region);
      EXPECT_LT(region, hw.ibuf.size_bytes * 8);
      EXPECT_EQ(op.problem.ibuf_reserved_bits, region);
      EXPECT_EQ(next.problem.ibuf_reserved_bits, region);
      // The mappings fit beside the region.
      const TileFootprint f = tile_footprint(hw, op.problem, op.mapping);
      EXPECT_LE(f.ibuf_bits, tile_capacity(hw, op.problem).ibuf_bits);
    }
    EXPECT_EQ(producers, consumers);
    EXPECT_EQ(plan.fused_pairs, producers);
    EXPECT_GT(plan.fused_pairs, 0);
    // Every block is a candidate; the stem-side blocks of stage 1 are too big
    // for the IBUF; the rest are fused exactly when the estimate improves.
    EXPECT_EQ(plan.fusion_candidates, 8);
    for (size_t i = 0; i + 1 < ops.size(); ++i) {
      const std::string block = block_of(ops[i].name, "conv1");
      if (block.empty()) continue;
      SCOPED_TRACE(ops[i].name);
      ASSERT_EQ(block_of(ops[i + 1].name, "conv2"), block);
      const int64_t region =
          static_cast<int64_t>(plan.graph.tensors[static_cast<size_t>(ops[i].output)].size_bits()) /
          ops[i].groups;
      const bool fits = region < hw.ibuf.size_bytes * 8;
      const FusionDecision d = fits ? decide_fusion(hw, plan.graph, i, region) : FusionDecision{};
      EXPECT_EQ(plan.ops[i].onchip_producer, d.pays);
      if (d.pays) {
        // The mappings are those of the on-chip problems.
        expect_same_mapping(plan.ops[i].mapping, d.producer);
        expect_same_mapping(plan.ops[i + 1].mapping, d.consumer);
      }
      if (starts_with(ops[i].name, "layer1.")) {
        EXPECT_FALSE(plan.ops[i].onchip_producer);
      }
    }
  }
}

TEST(Plan, NoFusionWhenOff) {
  const HwConfig hw = config("bitfusion");
  for (int G : {0, 2}) {
    const Plan plan = plan_network(hw, resnet18_graph(G, false));
    EXPECT_EQ(plan.fused_pairs, 0);
    EXPECT_EQ(plan.fusion_candidates, 0);
    for (size_t i = 0; i < plan.ops.size(); ++i) {
      const OpPlan& op = plan.ops[i];
      EXPECT_FALSE(op.onchip_producer) << plan.graph.ops[i].name;
      EXPECT_FALSE(op.onchip_consumer) << plan.graph.ops[i].name;
      EXPECT_EQ(op.region_bits, 0);
      EXPECT_FALSE(op.problem.onchip_input);
      EXPECT_FALSE(op.problem.onchip_output);
      EXPECT_EQ(op.problem.ibuf_reserved_bits, 0);
      // Without fusion every op has the mapping of its own problem.
      expect_same_mapping(op.mapping, find_mapping(hw, make_problem(plan.graph, plan.graph.ops[i]),
                                                   plan.graph.ops[i].name));
    }
  }
}

// A shuffle on the first conv's output, a rotation on the second's input, or a
// second reader of the intermediate each forbid keeping it on chip.
TEST(Plan, FusionNeverCrossesAPermutationOrASharedTensor) {
  const HwConfig hw = config("bitfusion");
  const HwGraph graph = resnet18_graph(2, true);
  const Plan plan = plan_network(hw, graph);
  size_t pair = graph.ops.size();
  for (size_t i = graph.ops.size(); i-- > 0;) {
    if (plan.ops[i].onchip_producer) pair = i;  // the first fused pair
  }
  ASSERT_LT(pair, graph.ops.size());
  auto fused_after = [&](const HwGraph& g) {
    return plan_network(hw, g).ops[pair].onchip_producer;
  };
  EXPECT_TRUE(fused_after(graph));
  {
    HwGraph g = graph;
    g.ops[pair].out_shuffle_groups = 2;
    EXPECT_FALSE(fused_after(g));
  }
  {
    HwGraph g = graph;
    g.ops[pair + 1].in_group_rotate = 1;
    EXPECT_FALSE(fused_after(g));
  }
  {
    HwGraph g = graph;
    ASSERT_LT(pair + 2, g.ops.size());
    g.ops[pair + 2].residual = g.ops[pair].output;  // a later op adds the intermediate
    EXPECT_FALSE(fused_after(g));
  }
  {
    HwGraph g = graph;
    g.ops[pair + 1].groups = 1;  // different grouping
    EXPECT_FALSE(fused_after(g));
  }
}

TEST(Plan, IdenticalProblemsShareTheCachedMapping) {
  const HwConfig hw = config("bitfusion");
  const Plan plan = plan_network(hw, resnet18_graph(2, false));
  std::map<std::string, size_t> first;
  int shared = 0;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const std::string key = plan.ops[i].problem.key();
    auto [it, inserted] = first.emplace(key, i);
    if (inserted) continue;
    ++shared;
    SCOPED_TRACE(plan.graph.ops[it->second].name + " and " + plan.graph.ops[i].name);
    expect_same_mapping(plan.ops[i].mapping, plan.ops[it->second].mapping);
  }
  // layer1.0 and layer1.1 have the same two convs, and so do the second blocks
  // of later stages with their neighbours.
  EXPECT_GE(shared, 2);
  EXPECT_EQ(plan.ops[0].problem.key(),
            plan.ops[2].problem.key());  // layer1.0.conv1, layer1.1.conv1
  // Planning again reuses the cache and changes nothing.
  const Plan again = plan_network(hw, resnet18_graph(2, false));
  ASSERT_EQ(again.ops.size(), plan.ops.size());
  for (size_t i = 0; i < plan.ops.size(); ++i)
    expect_same_mapping(again.ops[i].mapping, plan.ops[i].mapping);
}

// The cache is keyed by the whole configuration: a change to any number the
// estimate uses gives the mapping of the changed machine, not a cached one.
TEST(Plan, CacheDoesNotLeakAcrossConfigurations) {
  const HwGraph graph = resnet18_graph(0, false);
  HwGraph small = graph;
  small.ops.resize(3);  // the first ops are enough
  for (const char* o : {"offchip.latency_cycles=40", "offchip.bits_per_cycle=64", "ppu.lanes=1",
                        "buffers.obuf.size_bytes=4096", "energy.unit_leakage_pj_per_cycle=5",
                        "array.weight_load_cycles=64", "buffers.accumulator_bits=24"}) {
    SCOPED_TRACE(o);
    const HwConfig base = config("bitfusion");
    const HwConfig changed = config("bitfusion", {o});
    EXPECT_NE(base.fingerprint(), changed.fingerprint());
    const Plan a = plan_network(base, small);
    const Plan b = plan_network(changed, small);
    bool differs = false;
    for (size_t i = 0; i < b.ops.size(); ++i) {
      differs = differs || a.ops[i].mapping.estimate.cycles != b.ops[i].mapping.estimate.cycles ||
                a.ops[i].mapping.estimate.energy_pj != b.ops[i].mapping.estimate.energy_pj;
      expect_same_mapping(b.ops[i].mapping,
                          find_mapping(changed, b.ops[i].problem, small.ops[i].name));
      expect_same_mapping(a.ops[i].mapping,
                          find_mapping(base, a.ops[i].problem, small.ops[i].name));
    }
    EXPECT_TRUE(differs) << "the change does not affect the estimate: the test proves nothing";
  }
}

TEST(Plan, PsumScratchAfterTheTensors) {
  const HwConfig hw = config("bitfusion");
  const HwGraph graph = resnet18_graph(2, true);
  const Plan plan = plan_network(hw, graph);
  // One region per op, each big enough for its accumulators (and activation
  // sums), none overlapping the tensors or each other.
  uint64_t prev = graph.dram_bits;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const HwOp& op = plan.graph.ops[i];
    EXPECT_GE(plan.ops[i].psum_dram_bit, prev) << op.name;
    if (i > 0) {
      EXPECT_EQ(plan.ops[i].psum_dram_bit % 512, 0u) << op.name;
    }
    prev = plan.ops[i].psum_dram_bit + static_cast<uint64_t>(op.out.elements()) *
                                           plan.graph.options.batch * hw.accumulator_bits *
                                           (op.uniform_quantizer ? 2 : 1);
  }
  EXPECT_GE(plan.graph.dram_bits, prev);
}

}  // namespace
}  // namespace palsim::frontend
