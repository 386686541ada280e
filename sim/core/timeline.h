#pragma once
// A timeline of one run in the Chrome trace event format ({"traceEvents":
// [...]}), which Perfetto (ui.perfetto.dev) and chrome://tracing open: one
// track per engine (DMA load, DMA store, array, post-processing) with a
// slice per job (its layer, group, transfer kind, bits and tensor box), a
// track of layer markers (each layer from its first job's start to its last
// job's completion), a counter of the DMA bits in flight, counters of the
// bits resident in IBUF, WBUF and OBUF (sim/core/buffer_occupancy.h), and,
// under the DDR4 off-chip model, a track per bank with a slice per command
// and a rank track for refreshes (sim/core/dram_bank_activity.h). Times are
// in microseconds at the configured clock (a cycle is 1 / clock_mhz us), so
// the viewer's time axis is the accelerator's. Fast and detailed mode give
// the same timeline when they give the same job timings (tested: they do).
#include <nlohmann/json.hpp>

#include "frontend/arch/hw_config.h"
#include "frontend/isa/program.h"
#include "sim/core/job.h"

namespace palsim::sim {

nlohmann::json timeline_json(const frontend::HwConfig& hw, const isa::Program& program,
                             const JobList& jobs);

}  // namespace palsim::sim
