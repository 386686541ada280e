// palsim: accuracy, cycles and energy of quantized networks on
// precision-scalable accelerators, from one executable.
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/options.h"
#include "cli/provenance.h"
#include "frontend/util/build_info.h"
#include "frontend/util/error.h"

namespace {

void print_help() {
  std::printf("palsim %s: PalQuant and bit-decomposed networks on Bit Fusion and BPVeC\n\n", palsim::palsim_version());
  std::printf("usage: palsim COMMAND [options]     (palsim COMMAND --help for its options)\n\ncommands:\n");
  for (const auto& c : palsim::cli::commands()) std::printf("  %-10s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf(
      "\nexamples:\n"
      "  palsim bitops resnet18 --method palquant --B 2 --G 2\n"
      "  palsim bitops resnet18 --method lsq --abits 4 --wbits 4 --per-layer\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace palsim::cli;
  set_command_line(argc, argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "--version") {
    std::printf("palsim %s (simulator version %s)\n", palsim::palsim_version(), palsim::simulator_version());
    return kExitOk;
  }
  const std::string name = args[0];
  args.erase(args.begin());
  for (const auto& c : commands()) {
    if (c.name != name) continue;
    try {
      return c.run(args);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "palsim %s: error: %s\n(see palsim %s --help)\n", name.c_str(), e.what(), name.c_str());
      return kExitUsage;
    } catch (const palsim::RunFailure& e) {
      std::fprintf(stderr, "palsim %s: FAILED: %s\n", name.c_str(), e.what());
      return kExitFailure;
    } catch (const palsim::InputError& e) {
      std::fprintf(stderr, "palsim %s: error: %s\n", name.c_str(), e.what());
      return kExitFailure;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "palsim %s: error: out of memory\n", name.c_str());
      return kExitFailure;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "palsim %s: internal error: %s\n", name.c_str(), e.what());
      return kExitFailure;
    }
  }
  std::fprintf(stderr, "palsim: unknown command '%s' (see palsim --help)\n", name.c_str());
  return kExitUsage;
}
