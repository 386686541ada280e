#pragma once
// A shipped hardware configuration (configs/NAME.yaml) with `--set`-style
// overrides, for the frontend tests.
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"

namespace palsim::frontend {

inline const std::string kConfigs = std::string(PALSIM_SOURCE_DIR) + "/configs/";

inline HwConfig config(const std::string& name, const std::vector<std::string>& overrides = {}) {
  HwConfig hw = load_hw_config(kConfigs + name + ".yaml");
  for (const auto& o : overrides) apply_hw_override(hw, o);
  return hw;
}

}  // namespace palsim::frontend
