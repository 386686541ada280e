#pragma once
// Runs the points of a sweep in parallel worker threads (fast mode; detailed
// points run one at a time, each in its own child process). A failing point
// is recorded with its error and the others go on. Each finished point is
// committed to the database at once; Ctrl-C or SIGTERM stops dispatching new
// points, lets the running ones finish, reports how many points were stored
// and leaves a database `--resume` continues. A database another live sweep
// is running into is refused before any point runs (ResultDb::claim_run).
#include <string>

#include "cli/sweep_db.h"
#include "cli/sweep_spec.h"

namespace palsim::cli {

struct SweepRunOptions {
  int jobs = 1;
  bool resume = false;
  bool progress = true;
  int shard_index = 0;  // this process runs points i with i % shard_count == shard_index
  int shard_count = 1;
};

struct SweepSummary {
  size_t total = 0;    // points of this shard
  size_t skipped = 0;  // already done (resume)
  size_t done = 0;
  size_t failed = 0;
  bool interrupted = false;
  int signal = 0;  // the signal that interrupted it (SIGINT, SIGTERM)
  double seconds = 0;
};

SweepSummary run_sweep(const SweepSpec& spec, ResultDb& db, const SweepRunOptions& options);

// Runs one point (used by the runner and by tests): never throws; failures
// come back as status "failed" with the error.
PointRecord run_point(const SweepPoint& point);

}  // namespace palsim::cli
