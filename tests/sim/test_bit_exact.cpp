// Bit-exactness of the detailed mode: the SystemC model moves the real values
// through DRAM, the buffers, every array unit and the post-processing unit,
// and every tensor it writes to DRAM must equal, bit for bit, what the
// kernels' reference executor computes from the same integer model
// (frontend::reference_execute). One test per case of sim_cases().
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "common/error.h"
#include "tests/sim/sim_test_util.h"

namespace palsim::sim::test {
namespace {

class BitExactCase : public ::testing::TestWithParam<SimCase> {};

TEST_P(BitExactCase, DetailedMatchesKernels) {
  const SimCase& c = GetParam();
  const CaseResults& r = case_results(c);
  if (c.check) c.check(r.compiled->compiled, r.compiled->jobs);
  EXPECT_TRUE(r.detailed.values_checked);
  EXPECT_TRUE(r.detailed.bit_exact) << r.detailed.first_mismatch;
  EXPECT_EQ(r.detailed.first_mismatch, "");
  EXPECT_GT(r.detailed.unit_cycles, 0u);
}

INSTANTIATE_TEST_SUITE_P(BitExact, BitExactCase, ::testing::ValuesIn(sim_cases()), case_name);

// --- the verdict can be negative ------------------------------------------------
//
// The detailed mode executes the program; the reference executes the graph
// and the integer model passed with it. Both are inputs of simulate(), so a
// test can make them disagree without any hook in the simulator: tamper with
// the program, or hand it a graph that says something else.

const SimCase& find_case(const std::string& name) {
  for (const SimCase& c : sim_cases()) {
    if (c.name == name) return c;
  }
  throw std::logic_error("no case " + name);
}

RunStats run_detailed(const frontend::HwConfig& hw, const isa::Program& program,
                      const frontend::HwGraph& graph, const frontend::IntegerModel& model) {
  SimOptions o;
  o.mode = SimMode::kDetailed;
  o.graph = &graph;
  o.model = &model;
  return simulate(hw, program, o);
}

TEST(BitExactNegative, ProgramWithAnotherGroupRotation) {
  const auto cc = compile_case(find_case("permute_paper_direction"));
  isa::Program p = cc->compiled.program;
  ASSERT_EQ(layer_register(p, 1, isa::Reg::kInRotate), 1);
  set_layer_register(p, 1, isa::Reg::kInRotate, 2);
  const RunStats r = run_detailed(cc->hw, p, cc->compiled.plan.graph, cc->model);
  EXPECT_TRUE(r.values_checked);
  EXPECT_FALSE(r.bit_exact);
  const std::string out =
      cc->compiled.plan.graph.tensors[static_cast<size_t>(cc->compiled.plan.graph.ops[1].output)]
          .name;
  EXPECT_NE(r.first_mismatch.find("tensor '" + out + "'"), std::string::npos) << r.first_mismatch;
  // The untampered program on the same graph and model is exact.
  EXPECT_TRUE(
      run_detailed(cc->hw, cc->compiled.program, cc->compiled.plan.graph, cc->model).bit_exact);
}

// A branch that reads the wrong half of its unit's input (a channel view
// moved) is caught, in the tensor it writes.
TEST(BitExactNegative, ProgramWithAnotherChannelView) {
  const auto cc = compile_case(find_case("shufflenet_tiny_lsq_bitfusion"));
  const auto& g = cc->compiled.plan.graph;
  int op = -1;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].name == "stage3.1.branch2.0") op = static_cast<int>(i);
  }
  ASSERT_GE(op, 0);
  isa::Program p = cc->compiled.program;
  ASSERT_EQ(layer_register(p, op, isa::Reg::kInCOffset), 48);
  ASSERT_EQ(layer_register(p, op, isa::Reg::kInCTotal), 96);
  set_layer_register(p, op, isa::Reg::kInCOffset, 0);
  const RunStats r = run_detailed(cc->hw, p, g, cc->model);
  EXPECT_TRUE(r.values_checked);
  EXPECT_FALSE(r.bit_exact);
  EXPECT_NE(r.first_mismatch.find("tensor 'stage3.1.branch2.2'"), std::string::npos)
      << r.first_mismatch;
}

TEST(BitExactNegative, ReferenceGraphWithoutTheChannelShuffle) {
  const auto cc = compile_case(find_case("shuffle_before_residual"));
  frontend::HwGraph g = cc->compiled.plan.graph;
  ASSERT_EQ(g.ops[0].out_shuffle_groups, 2);
  g.ops[0].out_shuffle_groups = 0;
  const frontend::IntegerModel model = frontend::synthetic_model(g, 1);
  const RunStats r = run_detailed(cc->hw, cc->compiled.program, g, model);
  EXPECT_FALSE(r.bit_exact);
  EXPECT_NE(r.first_mismatch.find("simulator"), std::string::npos) << r.first_mismatch;
}

TEST(BitExactNegative, ProgramThatReadsSignedWeightsAsUnsigned) {
  const auto cc = compile_case(find_case("lsq_a4w4"));
  isa::Program p = cc->compiled.program;
  ASSERT_EQ(layer_register(p, 0, isa::Reg::kWSigned), 1);
  set_layer_register(p, 0, isa::Reg::kWSigned, 0);
  const RunStats r = run_detailed(cc->hw, p, cc->compiled.plan.graph, cc->model);
  EXPECT_TRUE(r.values_checked);
  EXPECT_FALSE(r.bit_exact);
  EXPECT_NE(r.first_mismatch, "");
}

TEST(BitExactNegative, ProgramDisagreeingWithItsTensorsIsRejected) {
  // Registers that do not match the tensor they name would read or write
  // outside it: the detailed mode refuses the program before running it.
  const auto cc = compile_case(find_case("conv3x3_s1_pad1"));
  isa::Program p = cc->compiled.program;
  set_layer_register(p, 0, isa::Reg::kOutH, 6);
  try {
    run_detailed(cc->hw, p, cc->compiled.plan.graph, cc->model);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("output registers say 1x16x6x12"), std::string::npos)
        << e.what();
  }
  p = cc->compiled.program;
  set_layer_register(p, 0, isa::Reg::kOutAddr, 12345);
  EXPECT_THROW(run_detailed(cc->hw, p, cc->compiled.plan.graph, cc->model), InputError);
}

TEST(BitExactProgramOnly, GraphAndModelRebuiltFromTheProgram) {
  // Without SimOptions.graph/model the detailed mode rebuilds the graph from
  // the program's registers and makes a synthetic model for it.
  for (const char* name : {"shuffle_before_residual", "permute_reference_direction",
                           "cyclic_module_relu_before", "onchip_intermediate"}) {
    const auto cc = compile_case(find_case(name));
    SimOptions o;
    o.mode = SimMode::kDetailed;
    o.seed = 7;
    const RunStats r = simulate(cc->hw, cc->compiled.program, o);
    EXPECT_TRUE(r.values_checked) << name;
    EXPECT_TRUE(r.bit_exact) << name << ": " << r.first_mismatch;
  }
}

TEST(BitExactProgramOnly, ValuesUncheckedOnRequest) {
  const auto cc = compile_case(find_case("conv1x1"));
  SimOptions o;
  o.mode = SimMode::kDetailed;
  o.check_values = false;
  const RunStats r = simulate(cc->hw, cc->compiled.program, o);
  EXPECT_FALSE(r.values_checked);
  EXPECT_FALSE(r.bit_exact);
}

}  // namespace
}  // namespace palsim::sim::test
