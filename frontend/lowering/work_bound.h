#pragma once
// The work a compilation will do, estimated before it starts, so that an
// absurd but in-range request (an input of 10^5 x 10^5, a padding of 10^6,
// batch 4096 on a deep network) is refused at once with the estimate and the
// limit, instead of searching or expanding for minutes with growing memory.
//
// Two measures, each a bound that the real work cannot beat:
//   tilings   the candidate tilings of an op's search (array modes x tile
//             choices of N, H, W, M and C; each is then tried in several
//             loop orders): the mapping search grows with it;
//   jobs      at least two jobs (COMPUTE, STORE) per output tile, whose
//             count is at least the output's partial sums over what one OBUF
//             tile holds, plus one LOAD per input and weight tile at least
//             as large as IBUF and WBUF hold: the job list (a record of a
//             few hundred bytes each) and every simulation grow with it.
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/lowering/hw_graph.h"

namespace palsim::frontend {

// The limits, measured on a 2-core machine: ResNet-18 LSQ 4/4 at 224x224 has
// at most 5.1e4 tilings per op (2.5e5 over the built-ins and both
// accelerators) and 1.9e3 jobs at least, and compiles with its simulation in
// 1.3 s; at 4096x4096, 9.8e5 tilings and 5.7e5 jobs took 31 s and 1 GB. The
// job limit is thus about two minutes and 4 GB. The built-in networks at
// batch 1 stay 20x below the tiling limit and 100x below the job limit
// (WorkBound tests).
constexpr int64_t kMaxTilingsPerOp = 10'000'000;
constexpr int64_t kMaxCompileJobs = 2'000'000;

struct OpWork {
  int64_t tilings = 0;
  int64_t min_jobs = 0;
};

struct WorkEstimate {
  std::vector<OpWork> ops;  // as graph.ops
  int64_t min_jobs = 0;     // whole network
};

WorkEstimate estimate_work(const HwConfig& hw, const HwGraph& graph);

// Throws InputError naming the op and both figures when an op's tilings pass
// kMaxTilingsPerOp or the network's jobs pass kMaxCompileJobs. (A program
// file, which is not searched, is held to its own count of jobs:
// isa::kMaxProgramJobs.)
void check_work(const WorkEstimate& work, const HwGraph& graph);

}  // namespace palsim::frontend
