#pragma once
// A double-buffered (or single) buffer as a ring of slots: each slot
// remembers the job after which its current contents may be overwritten, so
// that a new occupant waits for it.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/core/job.h"

namespace palsim::sim {

class SlotRing {
 public:
  explicit SlotRing(int slots) : last_(static_cast<size_t>(slots), kNoJob) {}
  // Moves to the next slot; returns the job its new occupant must wait for
  // (kNoJob: free).
  uint32_t acquire() {
    current_ = next_;
    next_ = (next_ + 1) % last_.size();
    const uint32_t wait = last_[current_];
    last_[current_] = kNoJob;
    return wait;
  }
  int current() const { return static_cast<int>(current_); }
  // `job` uses (or frees) the current occupant's slot.
  void use(uint32_t job) {
    if (last_[current_] == kNoJob || job > last_[current_]) last_[current_] = job;
  }

 private:
  std::vector<uint32_t> last_;
  size_t current_ = 0, next_ = 0;
};

}  // namespace palsim::sim
