#include "frontend/arch/hw_config_json.h"

#include <fmt/format.h>

#include "common/fnv1a.h"

namespace palsim::frontend {

namespace {

nlohmann::ordered_json buffer_json(const BufferConfig& b) {
  return {{"size_bytes", b.size_bytes},
          {"banks", b.banks},
          {"double_buffered", b.double_buffered},
          {"read_pj_per_bit", b.read_pj_per_bit},
          {"write_pj_per_bit", b.write_pj_per_bit}};
}

nlohmann::ordered_json ddr4_json(const Ddr4Config& d) {
  return {{"tck_ns", d.tck_ns},
          {"channel_width_bits", d.channel_width_bits},
          {"device_width_bits", d.device_width_bits},
          {"bank_groups", d.bank_groups},
          {"banks_per_group", d.banks_per_group},
          {"rows", d.rows},
          {"columns", d.columns},
          {"burst_length", d.burst_length},
          {"CL", d.CL},
          {"CWL", d.CWL},
          {"tRCD", d.tRCD},
          {"tRP", d.tRP},
          {"tRAS", d.tRAS},
          {"tRRD_S", d.tRRD_S},
          {"tRRD_L", d.tRRD_L},
          {"tCCD_S", d.tCCD_S},
          {"tCCD_L", d.tCCD_L},
          {"tWTR_S", d.tWTR_S},
          {"tWTR_L", d.tWTR_L},
          {"tRTP", d.tRTP},
          {"tWR", d.tWR},
          {"tFAW", d.tFAW},
          {"tRFC", d.tRFC},
          {"tREFI", d.tREFI},
          {"IDD0", d.IDD0},
          {"IDD2N", d.IDD2N},
          {"IDD3N", d.IDD3N},
          {"IDD4R", d.IDD4R},
          {"IDD4W", d.IDD4W},
          {"IDD5AB", d.IDD5AB},
          {"VDD", d.VDD},
          {"page_policy", to_string(d.page_policy)}};
}

}  // namespace

nlohmann::ordered_json hw_config_json(const HwConfig& c) {
  nlohmann::ordered_json array = {{"rows", c.array.rows},
                                  {"cols", c.array.cols},
                                  {"weight_load_cycles", c.array.weight_load_cycles}};
  // The reader takes the unit description of the configured accelerator only.
  if (c.kind == AcceleratorKind::kBitFusion) {
    array["bitbricks_per_unit"] = c.array.bitbricks_per_unit;
  } else {
    array["nbves_per_unit"] = c.array.nbves_per_unit;
    array["nbve_length"] = c.array.nbve_length;
  }
  array["fusion_bits"] = c.array.fusion_bits;
  nlohmann::ordered_json j;
  j["format"] = "palsim-hw-1";
  j["name"] = c.name;
  j["accelerator"] = to_string(c.kind);
  j["clock_mhz"] = c.clock_mhz;
  j["array"] = array;
  j["buffers"] = {{"ibuf", buffer_json(c.ibuf)},
                  {"wbuf", buffer_json(c.wbuf)},
                  {"obuf", buffer_json(c.obuf)},
                  {"accumulator_bits", c.accumulator_bits}};
  j["offchip"] = {{"model", to_string(c.offchip.model)},
                  {"bits_per_cycle", c.offchip.bits_per_cycle},
                  {"latency_cycles", c.offchip.latency_cycles},
                  {"pj_per_bit", c.offchip.pj_per_bit},
                  {"ddr4", ddr4_json(c.offchip.ddr4)}};
  j["energy"] = {{"unit_dynamic_pj_per_cycle", c.energy.unit_dynamic_pj_per_cycle},
                 {"unit_leakage_pj_per_cycle", c.energy.unit_leakage_pj_per_cycle},
                 {"activation_sum_pj_per_cycle", c.energy.activation_sum_pj_per_cycle},
                 {"ppu_pj_per_element", c.energy.ppu_pj_per_element},
                 {"sram_accounting", to_string(c.energy.sram_accounting)}};
  j["ppu"] = {{"lanes", c.ppu.lanes}};
  return j;
}

std::string config_fingerprint(const nlohmann::json& config) {
  return fnv1a64_hex(config.dump());
}

std::string hw_display_name(const HwConfig& c) {
  if (c.overrides.empty()) return c.name;
  return fmt::format("{} [{}]", c.name, fmt::join(c.overrides, ", "));
}

}  // namespace palsim::frontend
