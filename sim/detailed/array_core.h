#pragma once
// The detailed array: Bit Fusion's grid of Fusion Units or BPVeC's grid of
// Composable Vector Units, stepped unit by unit every cycle.
//
// Weight stationary. A compute job is a sequence of folds (weight sets: slice
// pass x output block x reduction fold). Fold f starts streaming at
//   s_f = t0 + W + f * max(P, W)
// and pixel p of it reaches unit (r, c) at cycle s_f + p + r + c (inputs enter
// row r at column 0 and travel along the row); the unit adds its dot product
// of `lanes` operand chunks to the partial sum arriving from the unit above,
// and column c's sum leaves the bottom row at s_f + p + rows - 1 + c, shifted
// by the pass's significance and accumulated into OBUF. The next job may
// start when the last fold's last pixel has entered (the occupancy); its
// results are complete rows + cols - 2 cycles later. Every buffer access,
// busy unit and activation-sum update is counted as it happens; the counts and
// cycles equal the array model's formulas (frontend/mapping/array_model.h),
// which the tests check.
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "sim/core/stats.h"
#include "sim/functional/functional_state.h"

namespace palsim::sim {

class ArrayCore {
 public:
  // exact_arithmetic: every unit computes through the kernels' BitBrick /
  // Fusion Unit (Bit Fusion) or NBVE (BPVeC) functions instead of plain
  // integer products (equal by the kernels' exhaustive tests; slower).
  ArrayCore(const frontend::HwConfig& hw, FunctionalState& state, bool exact_arithmetic);
  ~ArrayCore();

  bool accepting(uint64_t cycle) const { return cycle >= busy_until_; }
  void start(const Job& job, uint32_t id, uint64_t cycle, Counts* counts);
  // Steps cycle `cycle`; appends the ids of jobs whose last partial sum was
  // written this cycle (complete from the next cycle).
  void tick(uint64_t cycle, std::vector<uint32_t>& completed);
  bool idle() const { return flights_.empty(); }
  uint64_t unit_cycles() const {
    return unit_cycles_;
  }  // units stepped (for the performance figure)

 private:
  struct Flight;
  struct Fold;
  void make_fold(Flight& f, int64_t index, uint64_t start);
  void step_fold(Flight& f, Fold& fold, uint64_t cycle);

  const frontend::HwConfig& hw_;
  FunctionalState& state_;
  bool exact_;
  uint64_t busy_until_ = 0;
  uint64_t unit_cycles_ = 0;
  std::deque<std::unique_ptr<Flight>> flights_;
};

}  // namespace palsim::sim
