#include "sim/core/output_tile.h"

namespace palsim::sim {

void OutputTile::open(uint32_t space, const frontend::Box& box, bool fresh) {
  open_ = true;
  boxed_ = true;
  box_ = box;
  fresh_ = fresh;
  space_ = space;
  reload_ = kNoJob;
  unboxed_.clear();
}

void OutputTile::open_unboxed(uint32_t space) {
  open(space, frontend::Box{}, true);
  boxed_ = false;
}

void OutputTile::written_by(uint32_t job) {
  space_ = kNoJob;
  fresh_ = false;
  last_ = job;
  if (!boxed_) unboxed_.push_back(job);
}

uint32_t OutputTile::close() {
  open_ = false;
  return last_;
}

void OutputTile::reset() {
  open_ = false;
  space_ = reload_ = kNoJob;
  unboxed_.clear();
}

}  // namespace palsim::sim
