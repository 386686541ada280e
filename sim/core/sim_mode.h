#pragma once
// How a run is simulated: job-level timing (fast) or the SystemC model that
// steps every unit and moves the real values (detailed). Named once here;
// every command, sweep and report parses or prints it through these.
#include <string>

namespace palsim::sim {

enum class SimMode { kFast, kDetailed };
// Throws InputError naming --mode for anything but fast or detailed.
SimMode parse_sim_mode(const std::string& s);
std::string to_string(SimMode m);

}  // namespace palsim::sim
