#pragma once
// What a program file must satisfy before it is simulated (issue 17, class
// 5). A file with a valid checksum can still be inconsistent (written by
// hand, by another tool, or crafted); the loader checks what can be checked
// without the hardware, so that such a file is refused with its name and the
// instruction at fault instead of ending in an internal error, a hang or
// gigabytes of jobs:
//   metadata: at least one operation and one tensor; tensor sides, batch and
//     element widths in range; the input and output tensors exist;
//   structure: known layer kinds, registers, loop dimensions and operands;
//     LAYER ... ENDLAYER not nested, every LAYER has a COMPUTE and a STORE,
//     LOAD / COMPUTE / STORE only inside a layer, LOOP and ENDLOOP balanced
//     (a loop may hold whole layers, or lie inside one, never straddle one),
//     at least one trip per loop, the op index of each LAYER in the table,
//     HALT last;
//   tiles: the tile of a loop's dimension is at least 1, and a loop over N,
//     H or W has no more trips than its extent needs (no empty tiles);
//   work: the LOAD, COMPUTE and STORE instructions the loops execute, at most
//     kMaxProgramJobs (each becomes a job record of a few hundred bytes).
// The simulator's controller checks the rest (register ranges against each
// other, channel views, modes against the hardware) when it runs.
#include <cstdint>
#include <string>

#include "frontend/isa/program.h"

namespace palsim::isa {

constexpr uint64_t kMaxProgramJobs = uint64_t{100} * 1000 * 1000;
constexpr int64_t kMaxTensorExtent = int64_t{1} << 24;
constexpr int kMaxProgramBatch = 4096;

// Throws InputError "NAME: instruction PC (TEXT): WHY" or "NAME: metadata: WHY".
void check_program(const Program& p, const std::string& name);

}  // namespace palsim::isa
