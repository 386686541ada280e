#pragma once
// Command-line parsing shared by the subcommands (Boost.Program_options).
#include <boost/program_options.hpp>

#include <string>
#include <vector>

#include "common/data_dir.h"
#include "frontend/arch/hw_config.h"
#include "frontend/builders/registry.h"
#include "frontend/lowering/hw_graph.h"
#include "sim/compile.h"

namespace palsim::cli {

namespace po = boost::program_options;

// A bad command line; main prints it with the command's usage and exits 2.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& m) : std::runtime_error(m) {}
};

inline const frontend::MethodOptions kMethodDefaults{};

// The NETWORK positional argument and the options that choose its form.
struct NetworkOptions {
  std::string network;
  std::string method = "fp";
  // Defaults are MethodOptions' own.
  int abits = kMethodDefaults.a_bits, wbits = kMethodDefaults.w_bits,
      slice_bits = kMethodDefaults.slice_bits, B = kMethodDefaults.B, G = kMethodDefaults.G;
  std::string quantizer = "lsq";
  std::string channel_shuffle = "per_stage";
  bool no_cyclic = false, no_permutation = false;
  std::string permute_direction = "paper";
  int input_size = 0, input_channels = 0, classes = 0, base_width = 0;
  std::string stem;
  std::string blocks;
  std::string projections;         // plain18
  double width = 1.0;              // shufflenetv2
  int cyclic_groups = 0;           // shufflenetv2
  std::vector<std::string> roles;  // ONNX: NAME=ROLE

  void add_to(po::options_description& desc);
  // Builds the request; `vm` tells which options were given.
  // Throws UsageError naming the option (bad value, or an option that does not
  // apply to a network file).
  frontend::NetworkRequest request(const po::variables_map& vm) const;

 private:
  frontend::NetworkRequest request_unchecked(const po::variables_map& vm) const;
};

// The accelerator and how the network is lowered onto it.
struct HardwareOptions {
  std::string hw = data_path("configs/bitfusion.yaml");
  std::vector<std::string> overrides;
  std::string fp_layers = "exclude";  // the default --help shows (a command may set another)
  int batch = frontend::LoweringOptions{}.batch;
  bool no_onchip = false;
  int refine = static_cast<int>(sim::kDefaultRefineCandidates);
  double cycle_tolerance = sim::kDefaultCycleTolerance;

  void add_to(po::options_description& desc);
  // Throws UsageError for a --hw that is neither a file nor a shipped name.
  frontend::HwConfig load() const;
  frontend::LoweringOptions lowering() const;
};

// The checks of --batch, --refine and --cycle-tolerance, shared by every
// command that compiles; each throws UsageError naming the option.
void check_batch(int batch);
void check_search_options(int refine, double cycle_tolerance);

// Parses `args` with `desc` (+ `positional`); prints help and returns false
// when --help was given. Throws UsageError on a bad command line.
bool parse_command_line(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description& positional, po::variables_map& vm,
                        const std::string& usage, const std::string& examples);

}  // namespace palsim::cli
