#include "cli/command.h"

namespace palsim::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"bitops", "BitOps of a network in a given form (method.md section 4)", run_bitops},
      {"network", "write a built-in network, in a given form, as a YAML network file", run_network},
  };
  return all;
}

}  // namespace palsim::cli
