#pragma once
// The reproduction of the paper's Table 2: for each accelerator (Bit Fusion
// with LSQ baselines, BPVeC with EWGS baselines), each network (ResNet-18,
// ResNet-34) and M in {4, 6, 8}: the M-bit baseline, run bit-decomposed on the
// 2-bit machine, against PalQuant B = 2, G = M / 2 -- with one configuration
// per accelerator for every row.
#include <optional>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/lowering/hw_graph.h"
#include "sim/compile.h"
#include "sim/core/stats.h"

namespace palsim::cli {

struct PaperRow {
  std::string accelerator, network, baseline;
  int M = 0, G = 0;
  double speedup = 0, energy_efficiency = 0;
};
std::vector<PaperRow> load_paper_table2(const std::string& path);

struct Table2Options {
  std::string hw_bitfusion, hw_bpvec;
  std::vector<std::string> networks = {"resnet18", "resnet34"};
  std::vector<int> bits = {4, 6, 8};
  frontend::LoweringOptions lowering;
  bool onchip_effect = true;  // also run PalQuant without on-chip intermediates
  int jobs = 1;
  size_t refine = sim::kDefaultRefineCandidates;  // mapping candidates simulated per layer
  // Objective: cycles within this of the fewest, then energy.
  double cycle_tolerance = sim::kDefaultCycleTolerance;
  bool progress = true;
  std::string paper_file;
  // Off-chip memory of both machines: "" (as configured), "bandwidth",
  // "ddr4", or "ddr4-ideal" (see apply_offchip_choice).
  std::string offchip;
};

// Sets the off-chip memory of `hw` to `choice` through its overrides (so
// reports name it): "bandwidth" or "ddr4" select the model of the
// configuration's offchip section; "ddr4-ideal" is the bandwidth model at the
// DDR4 channel's sustained sequential rate (frontend::Ddr4Cost, rounded down
// to whole bits per cycle) with its access latency (tRCD + CL): the channel
// DDR4 would be if banks, rows and bursts cost nothing. "": unchanged.
// Throws UsageError for another value.
void apply_offchip_choice(frontend::HwConfig& hw, const std::string& choice);

struct Table2Side {
  std::string method;
  std::string layers_hash;  // frontend::network_hash of the network run
  uint64_t cycles = 0;
  double energy_pj = 0;
  sim::RunStats stats;
};

struct Table2Row {
  std::string accelerator, hardware, network;
  int M = 0, G = 0;
  Table2Side baseline, palquant, palquant_offchip;  // offchip: without on-chip intermediates
  double speedup = 0, energy_efficiency = 0;
  double onchip_speedup = 0, onchip_energy = 0;  // PalQuant with vs without on-chip intermediates
  std::optional<double> paper_speedup, paper_energy_efficiency;
};

struct Table2Result {
  std::vector<Table2Row> rows;
  std::vector<std::pair<std::string, frontend::HwConfig>> hardware;
  Table2Options options;
  double seconds = 0;
};

Table2Result run_table2(const Table2Options& options);

}  // namespace palsim::cli
