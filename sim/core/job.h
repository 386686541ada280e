#pragma once
// Jobs: what the controller hands to the engines after interpreting the
// instruction stream. Four engines each take their jobs in program order: the
// DMA load queue and the DMA store queue (which share one off-chip channel),
// the array and the post-processing unit (PPU). A job starts when its engine
// is free and every job it depends on is complete (plus one cycle for the
// completion to reach it). Both simulation modes execute the same job list
// with the same rules, so they agree on every cycle count by construction;
// the detailed mode additionally moves and computes the real values.
#include <cstdint>
#include <vector>

#include "frontend/mapping/array_model.h"
#include "frontend/mapping/tensor_layout.h"
#include "sim/memory/offchip_memory.h"

namespace palsim::sim {

enum class Engine : uint8_t { kLoad = 0, kStore = 1, kArray = 2, kPpu = 3 };
constexpr int kEngines = 4;
const char* engine_name(Engine e);

// No job (a dependency or a slot's last user that does not exist).
constexpr uint32_t kNoJob = 0xffffffffu;

// Cycles between a job's completion and the start of a job that waits for it.
constexpr uint64_t kCompletionHopCycles = 1;

enum class Buffer : uint8_t { kIbuf = 0, kWbuf = 1, kObuf = 2 };

// What a DMA job moves (for statistics and for the functional model).
enum class Transfer : uint8_t { kInput, kWeight, kPsumLoad, kResidual, kOutput, kPsumStore };
const char* transfer_name(Transfer t);

// A box of a tensor (frontend/mapping/tensor_layout.h).
using frontend::Box;

// The weights [M][C/G][kh][kw] a weight load moves, every kernel tap of them.
struct WeightRange {
  int m0 = 0, m = 1;  // output channels (absolute: across groups)
  int c0 = 0, c = 1;  // input channels of their group
};

struct Job {
  Engine engine = Engine::kLoad;
  int op = 0;     // hardware op (layer) index
  int group = 0;  // conv group
  std::vector<uint32_t> deps;

  // DMA
  Transfer transfer = Transfer::kInput;
  Buffer buffer = Buffer::kIbuf;
  std::vector<DramAccess> accesses;
  uint64_t bits = 0;    // useful bits moved
  Box box;              // the tensor box of an activation, residual or partial-sum transfer
  WeightRange weights;  // what a weight load moves

  // Array
  frontend::ComputeTile tile;
  frontend::ArrayMode mode;
  Box out_box;  // outputs the compute contributes to (n, m, h, w)
  // First input channel of the reduction tile (within the group, or the packed group tile).
  int c0 = 0;
  int pack = 1;  // groups packed into the tile (block-diagonal weights)
  // Array jobs and pool (PPU) jobs: the output tile their results go to — the
  // box of the OBUF half between the LOAD psum that opens it and the STORE
  // that closes it, which may span several compute tiles (loops nested inside
  // the output's DMA level) — and whether this job is the first to write it
  // (the half starts empty; otherwise it holds earlier or reloaded results).
  Box acc_box;
  bool opens_tile = false;

  // PPU
  frontend::PostTile post;
  bool final_output = true;
  bool post_to_region = false;  // results go to the on-chip IBUF region, not OBUF

  // Buffer slots (double-buffer halves) the job reads or writes, for the
  // functional model: DMA loads/stores use `slot`; computes and the PPU name
  // their input, weight, output and residual slots. -1: none.
  int slot = -1;
  int in_slot = -1, w_slot = -1, o_slot = -1, r_slot = -1;
  int64_t region = -1;  // on-chip region key (fused producer/consumer), -1: none

  // Timing results (cycles): occupies its engine [start, end); complete at done.
  uint64_t start = 0, end = 0, done = 0;
};

struct JobList {
  std::vector<Job> jobs;
  // Indices into `jobs` per engine, in program order.
  std::vector<uint32_t> queue[kEngines];
};

}  // namespace palsim::sim
