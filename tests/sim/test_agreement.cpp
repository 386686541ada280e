// Agreement of the two simulation modes on every case of sim_cases().
//
// Why they agree by construction: both modes expand the program into the same
// job list (sim/core/controller) and run it under the same rules — an engine
// takes its queue in order, a job starts when its engine is free and every
// dependency completed one hop earlier, the two DMA queues share one off-chip
// channel with the store queue first on a tie, and the same off-chip memory
// object serves the same (start cycle, access) sequence. The fast mode applies
// the rules job by job with the array model's closed forms for durations and
// counts (frontend/mapping/array_model.h, sim/core/stats); the detailed mode
// applies them cycle by cycle in SystemC, steps every array unit on every
// cycle and counts each buffer access, busy unit, fold and chunk product as it
// happens.
//
// What this guards against: the cycle-level engines drifting from the fast
// engine's rules (an off-by-one in completion, a different DMA arbitration,
// the array accepting a tile early or late), the per-cycle stepping doing
// different work than the closed forms charge (a fold missing, a row or column
// idle or double-counted, activation sums in the wrong folds, partial-sum
// reads on a first contribution), accesses lost between the engines and the
// SystemC buffer modules, and the statistics assembled differently from the
// two kinds of records (per-layer attribution, energies, DRAM statistics).
#include <gtest/gtest.h>

#include "tests/sim/sim_test_util.h"

namespace palsim::sim::test {
namespace {

class AgreementCase : public ::testing::TestWithParam<SimCase> {};

TEST_P(AgreementCase, FastEqualsDetailed) {
  const CaseResults& r = case_results(GetParam());
  EXPECT_GT(r.fast.cycles, 0u);
  expect_same_stats(r.fast, r.detailed);
}

INSTANTIATE_TEST_SUITE_P(Agreement, AgreementCase, ::testing::ValuesIn(sim_cases()), case_name);

}  // namespace
}  // namespace palsim::sim::test
