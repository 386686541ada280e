#pragma once
// The accelerator configuration (configs/*.yaml): one typed struct per YAML
// section, every number from the file (no constants in code), units in names.
// A derived file names `base: other.yaml` and overrides only what differs.
#include <cstdint>
#include <string>
#include <vector>

#include "common/yaml_reader.h"

namespace palsim::frontend {

enum class AcceleratorKind { kBitFusion, kBpvec };
std::string to_string(AcceleratorKind k);

// The configuration's choices, each named in the file as to_string gives it;
// parse sets `out` to the value of that name, false when none has it.
enum class OffchipModel { kBandwidth, kDdr4 };
enum class PagePolicy { kOpen, kClosed };
enum class SramAccounting { kArray, kPerMac };
std::string to_string(OffchipModel v);
std::string to_string(PagePolicy v);
std::string to_string(SramAccounting v);
bool parse(const std::string& name, OffchipModel& out);
bool parse(const std::string& name, PagePolicy& out);
bool parse(const std::string& name, SramAccounting& out);

struct ArrayConfig {
  int rows = 0;  // units along the reduction (inputs flow along rows)
  int cols = 0;  // units along output channels (partial sums flow down columns)
  // Bit Fusion: 2-bit BitBricks per Fusion Unit, and the operand widths the FU
  // may be fused to for a layer (2 = 2-bit mode; 4 and 8 fuse BitBricks).
  int bitbricks_per_unit = 16;
  std::vector<int> fusion_bits = {2};
  // BPVeC: NBVEs per Composable Vector Unit and 2-bit multipliers per NBVE.
  int nbves_per_unit = 16;
  int nbve_length = 16;
  // Cycles to move a fold's weights from WBUF into the units' shadow registers
  // (weights are double-buffered in the units, so loading overlaps streaming).
  int weight_load_cycles = 1;
};

struct BufferConfig {
  std::string name;
  int64_t size_bytes = 0;
  int banks = 1;
  bool double_buffered = true;
  double read_pj_per_bit = 0;
  double write_pj_per_bit = 0;
  // Capacity one tile may use: half the buffer when double-buffered.
  int64_t tile_capacity_bits() const { return size_bytes * 8 / (double_buffered ? 2 : 1); }
};

// DDR4 device and timing parameters (cycles of the DRAM clock tCK).
struct Ddr4Config {
  double tck_ns = 0.833;
  int channel_width_bits = 64;  // data bus width of the channel (devices x device width)
  int device_width_bits = 16;
  int bank_groups = 2;
  int banks_per_group = 4;
  int64_t rows = 65536;
  int columns = 1024;
  int burst_length = 8;
  int CL = 17, CWL = 12, tRCD = 17, tRP = 17, tRAS = 39;
  int tRRD_S = 7, tRRD_L = 8, tCCD_S = 4, tCCD_L = 6, tWTR_S = 3, tWTR_L = 9, tRTP = 9, tWR = 18,
      tFAW = 36;
  int tRFC = 420, tREFI = 9360;
  // Currents (mA) per device and VDD (V), for the current-based energy estimate
  // reported beside the per-bit figure.
  double IDD0 = 80, IDD2N = 34, IDD3N = 47, IDD4R = 243, IDD4W = 228, IDD5AB = 280, VDD = 1.2;
  PagePolicy page_policy = PagePolicy::kOpen;
};

struct OffchipConfig {
  OffchipModel model = OffchipModel::kBandwidth;
  int bits_per_cycle = 192;  // bandwidth model: bits per accelerator cycle
  int latency_cycles = 0;    // bandwidth model: cycles from request to first data
  double pj_per_bit = 15;    // energy of every bit moved (both models)
  Ddr4Config ddr4;
};

struct EnergyConfig {
  double unit_dynamic_pj_per_cycle = 0;  // one array unit (FU / CVU) busy for a cycle
  double unit_leakage_pj_per_cycle = 0;  // one array unit, every cycle of the run
  // The activation-sum unit of layers with the uniform (PalQuant/EWGS)
  // quantizer: the correction (L_w - 1) sum(q_a), per busy cycle.
  double activation_sum_pj_per_cycle = 0;
  double ppu_pj_per_element = 0;  // post-processing of one output element
  // How SRAM accesses are charged: array (palsim: the accesses the modelled
  // array makes) or per_mac (the public Bit Fusion simulator's accounting:
  // an input read and a partial-sum read and write per MAC), for comparison.
  SramAccounting sram_accounting = SramAccounting::kArray;
};

struct PpuConfig {
  int lanes = 32;  // output elements per cycle
};

struct HwConfig {
  std::string name;
  std::string file;
  AcceleratorKind kind = AcceleratorKind::kBitFusion;
  double clock_mhz = 500;
  ArrayConfig array;
  BufferConfig ibuf, wbuf, obuf;
  int accumulator_bits = 32;  // partial sums in OBUF
  OffchipConfig offchip;
  EnergyConfig energy;
  PpuConfig ppu;
  Provenance provenance;  // where each key was set (for errors found later)
  // The --set / sweep overrides applied after loading, in order ("array.rows=8").
  std::vector<std::string> overrides;

  // 2-bit multipliers in the whole array.
  int64_t multipliers() const;
  // A hash of every value (hw_config_json: the complete configuration), for
  // mapping caches and result keys.
  std::string fingerprint() const;
};

// Loads a hardware configuration (following `base:` chains) and validates it.
HwConfig load_hw_config(const std::string& path);
// Applies `key=value` overrides (YAML paths such as buffers.ibuf.size_bytes).
void apply_hw_override(HwConfig& cfg, const std::string& assignment);

}  // namespace palsim::frontend
