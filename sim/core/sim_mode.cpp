#include "sim/core/sim_mode.h"

#include <fmt/format.h>

#include "common/error.h"

namespace palsim::sim {

SimMode parse_sim_mode(const std::string& s) {
  if (s == to_string(SimMode::kFast)) return SimMode::kFast;
  if (s == to_string(SimMode::kDetailed)) return SimMode::kDetailed;
  throw InputError(fmt::format("--mode: unknown mode '{}' (fast, detailed)", s));
}

std::string to_string(SimMode m) {
  return m == SimMode::kFast ? "fast" : "detailed";
}

}  // namespace palsim::sim
