#pragma once
// The output-tile protocol of the controller. An output tile is the box of an
// OBUF half between the instruction that opens it and the STORE that closes
// it; several compute (or pool) jobs may write it (loops nested inside the
// output's DMA level). A conv's tile opens at its LOAD psum, with its box
// known; a pool's at its first COMPUTE after a STORE, its box known only at
// the STORE. The first job that writes a tile waits for its OBUF half to be
// free; a tile whose partial sums come back from DRAM makes every writer wait
// for the reload.
#include <cstdint>
#include <utility>
#include <vector>

#include "frontend/mapping/tensor_layout.h"
#include "sim/core/job.h"

namespace palsim::sim {

class OutputTile {
 public:
  bool is_open() const { return open_; }
  // Opens a tile of `box` (conv) whose OBUF half is free after `space`;
  // `fresh`: it starts empty (no earlier partial sums of these outputs).
  void open(uint32_t space, const frontend::Box& box, bool fresh);
  // Opens a tile whose box its STORE tells (pool).
  void open_unboxed(uint32_t space);
  // The job that reloads the tile's partial sums: it takes over the wait for
  // the OBUF half, and the tile's writers wait for it.
  uint32_t take_space_wait() { return std::exchange(space_, kNoJob); }
  void reloaded_by(uint32_t job) { reload_ = job; }

  // What the next writer waits for (kNoJob: nothing) and writes.
  uint32_t space_wait() const { return space_; }
  uint32_t reload() const { return reload_; }
  const frontend::Box& box() const { return box_; }
  bool next_writer_opens() const { return fresh_; }
  // Records `job` as a writer of the tile.
  void written_by(uint32_t job);

  // The STORE: the tile closes; returns the job its results wait for.
  uint32_t close();
  // The pool writers of the tile just closed, whose box the STORE tells.
  const std::vector<uint32_t>& unboxed_writers() const { return unboxed_; }
  // A new layer: no tile open.
  void reset();

 private:
  bool open_ = false, fresh_ = false, boxed_ = true;
  frontend::Box box_;
  uint32_t space_ = kNoJob, reload_ = kNoJob;
  // The last job that wrote an output tile (kept across tiles, as the store
  // of a tile that no job wrote waits for it).
  uint32_t last_ = kNoJob;
  std::vector<uint32_t> unboxed_;
};

}  // namespace palsim::sim
