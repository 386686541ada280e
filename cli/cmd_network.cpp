// palsim network: export a built-in network in a given form as a YAML file.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "common/atomic_file.h"
#include "frontend/ir/network_yaml.h"

namespace palsim::cli {

int run_network(const std::vector<std::string>& args) {
  NetworkOptions net;
  std::string output;
  po::options_description desc("palsim network options");
  net.add_to(desc);
  desc.add_options()("output,o", po::value(&output), "write the YAML here (default: stdout)");
  po::positional_options_description pos;
  pos.add("network", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm, "usage: palsim network NETWORK [options] [-o FILE.yaml]",
          "  palsim network resnet18 --method palquant --B 2 --G 2 -o r18_b2g2.yaml\n"
          "  palsim network resnet34 --method lsq --abits 4 --wbits 4\n"
          "  palsim network shufflenetv2 --method lsq --width 0.5 --stem small --input-size 28 "
          "--input-channels 1 --classes 10")) {
    return kExitOk;
  }
  const frontend::NetworkRequest request = net.request(vm);
  // A missing or unwritable output directory fails before any work is done.
  if (!output.empty()) check_output_path(output, "-o/--output");
  const frontend::Network network = frontend::resolve_network(request);
  const std::string yaml = frontend::network_to_yaml(network);
  if (output.empty()) {
    std::cout << yaml;
  } else {
    write_file_atomically(output, yaml);
    fmt::print(stderr, "wrote {} ({} layers)\n", output, network.size());
  }
  return kExitOk;
}

}  // namespace palsim::cli
