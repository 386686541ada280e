#pragma once
// Compilation with the simulator in the loop: the mapper's best candidates
// for every layer (and every candidate on-chip pair) are run alone through
// the fast engine and the best by simulated cycles, then energy, is kept. The
// mapper still does the searching; the simulator only measures, so the
// choice agrees with the timing the simulator will report. The candidates
// run on the configured memory's access-cost prices (PricedMemory): exactly
// the bandwidth model, and for DDR4 its burst/row pricing, which the DDR4
// timing model is tested to agree with per layer (a timing run per
// candidate would cost minutes per network).
#include "frontend/lowering/compile.h"

namespace palsim::sim {

// Candidates per layer evaluated by simulation (palsim's default) and the
// most a run may ask for (each costs a simulation of its layer).
constexpr size_t kDefaultRefineCandidates = 8;
constexpr size_t kMaxRefineCandidates = 256;

frontend::PlanEvaluator fast_evaluator(const frontend::HwConfig& hw);

// candidates <= 1: the mapper's estimate alone decides.
// The default objective: cycles within 1% of the fewest, then energy.
using frontend::kDefaultCycleTolerance;

frontend::Compiled compile(const frontend::HwConfig& hw, const frontend::Network& net,
                           const frontend::LoweringOptions& options,
                           size_t candidates = kDefaultRefineCandidates,
                           double cycle_tolerance = kDefaultCycleTolerance, bool progress = false,
                           const frontend::MappingFile* given = nullptr);

}  // namespace palsim::sim
