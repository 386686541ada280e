// palsim: accuracy, cycles and energy of quantized networks on
// precision-scalable accelerators, from one executable.
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/options.h"
#include "cli/provenance.h"
#include "common/build_info.h"
#include "common/error.h"
#include "common/text_check.h"

namespace {

void print_help() {
  std::printf("palsim %s: PalQuant and bit-decomposed networks on Bit Fusion and BPVeC\n\n",
              palsim::palsim_version());
  std::printf(
      "usage: palsim COMMAND [options]     (palsim COMMAND --help for its options)\n\ncommands:\n");
  for (const auto& c : palsim::cli::commands())
    std::printf("  %-10s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf(
      "\nexamples:\n"
      "  palsim bitops resnet18 --method palquant --B 2 --G 2\n"
      "  palsim bitops resnet18 --method lsq --abits 4 --wbits 4 --per-layer\n");
}

// Command-line text ends up in JSON (file names, labels): refused up front,
// naming the option it belongs to, instead of failing at output time.
void check_arguments(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string problem = palsim::text_problem(args[i]);
    if (problem.empty()) continue;
    const bool value_of_option = i > 0 && args[i - 1].size() > 1 && args[i - 1][0] == '-';
    throw palsim::cli::UsageError(fmt::format("{}'{}' {}",
                                              value_of_option ? args[i - 1] + ": " : "",
                                              palsim::printable(args[i]), problem));
  }
}

// Everything written to standard output must have arrived: a full disk,
// /dev/full or a closed pipe is a failed run, not exit 0 with half the output.
bool stdout_ok(const std::string& name) {
  std::cout.flush();
  const bool ok = std::fflush(stdout) == 0 && !std::ferror(stdout) && std::cout.good();
  if (!ok) {
    const int err = errno;
    std::fprintf(stderr, "palsim %s: error: cannot write standard output: %s\n", name.c_str(),
                 err ? std::strerror(err) : "write failed");
  }
  return ok;
}

int run(const palsim::cli::Command& c, const std::string& name,
        const std::vector<std::string>& args) {
  using namespace palsim::cli;
  try {
    check_arguments(args);
    return c.run(args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "palsim %s: error: %s\n(see palsim %s --help)\n", name.c_str(), e.what(),
                 name.c_str());
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

}  // namespace

int main(int argc, char** argv) {
  using namespace palsim::cli;
  // A closed pipe is reported as a failed write (below) rather than killing
  // palsim silently with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  set_command_line(argc, argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    if (!stdout_ok("help")) return kExitFailure;
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "--version") {
    std::printf("palsim %s (simulator version %s)\n", palsim::palsim_version(),
                palsim::simulator_version());
    return stdout_ok("--version") ? kExitOk : kExitFailure;
  }
  const std::string name = args[0];
  args.erase(args.begin());
  for (const auto& c : commands()) {
    if (c.name != name) continue;
    const int rc = run(c, name, args);
    if (!stdout_ok(name)) return rc == kExitOk ? kExitFailure : rc;
    return rc;
  }
  std::fprintf(stderr, "palsim: unknown command '%s' (see palsim --help)\n",
               palsim::printable(name).c_str());
  return kExitUsage;
}
