// The work estimate made before compiling (frontend/lowering/work_bound.h):
// its job count is a true lower bound of the jobs the program expands to, and
// the built-in networks at batch 1 sit far below both limits, so the bound
// refuses only absurd requests.
#include <gtest/gtest.h>

#include "frontend/lowering/work_bound.h"
#include "sim_test_util.h"

namespace palsim::sim::test {
namespace {

frontend::Network builtin(const std::string& name, frontend::Method method, int bits, int G) {
  frontend::NetworkRequest r;
  r.network = name;
  r.method_given = true;
  r.method.method = method;
  r.method.a_bits = r.method.w_bits = bits;
  r.method.B = 2;
  r.method.G = G;
  return frontend::resolve_network(r);
}

TEST(WorkBound, TheJobCountIsALowerBoundOfTheExpandedProgram) {
  for (const char* hw_name : {"bitfusion", "bpvec"}) {
    const frontend::HwConfig hw = hw_config(hw_name);
    for (const auto& net : {builtin("resnet18", frontend::Method::kLsq, 4, 1),
                            builtin("resnet18", frontend::Method::kPalQuant, 2, 2),
                            builtin("shufflenetv2", frontend::Method::kLsq, 4, 1)}) {
      const frontend::LoweringOptions options;
      const frontend::HwGraph graph = frontend::build_hw_graph(net, options);
      const frontend::WorkEstimate work = frontend::estimate_work(hw, graph);
      ASSERT_EQ(work.ops.size(), graph.ops.size());
      const frontend::Compiled c = frontend::compile_network(hw, net, options);
      const JobList jobs = expand_program(hw, c.program);
      EXPECT_LE(work.min_jobs, static_cast<int64_t>(jobs.jobs.size())) << net.name() << hw_name;
      // Not vacuous: within a small factor of the real count.
      EXPECT_GE(work.min_jobs * 50, static_cast<int64_t>(jobs.jobs.size())) << net.name();
      // Far below the limits.
      EXPECT_LT(work.min_jobs * 100, frontend::kMaxCompileJobs) << net.name();
      for (const auto& op : work.ops) EXPECT_LT(op.tilings * 20, frontend::kMaxTilingsPerOp);
    }
  }
}

TEST(WorkBound, AbsurdShapesAreRefusedBeforeAnySearch) {
  const frontend::HwConfig hw = hw_config("bitfusion");
  frontend::NetworkRequest r;
  r.network = "resnet18";
  r.method_given = true;
  r.method.method = frontend::Method::kLsq;
  r.method.a_bits = r.method.w_bits = 4;
  r.input_size = 100000;
  const frontend::Network big = frontend::resolve_network(r);
  try {
    frontend::compile_network(hw, big, frontend::LoweringOptions{});
    FAIL() << "compiled an input of 100000 x 100000";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("candidate tilings"), std::string::npos) << e.what();
  }
  frontend::LoweringOptions batch;
  batch.batch = 4096;
  const frontend::Network net = builtin("resnet18", frontend::Method::kLsq, 4, 1);
  try {
    frontend::compile_network(hw, net, batch);
    FAIL() << "compiled ResNet-18 at batch 4096";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("jobs"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace palsim::sim::test
