#pragma once
// One `palsim compile`: a network mapped onto an accelerator as an
// instruction stream; shared by the command and the Python module.
#include <nlohmann/json.hpp>

#include "cli/mapping_option.h"
#include "cli/options.h"
#include "frontend/arch/hw_config.h"
#include "frontend/lowering/compile.h"

namespace palsim::cli {

struct CompileOptions {
  NetworkOptions net;
  HardwareOptions hw;
  MappingFileOptions mapping;

  void add_to(po::options_description& desc);
};

struct CompileOutcome {
  frontend::HwConfig hardware;
  frontend::Compiled compiled;
  // {network, hardware, instructions, operations, onchip_intermediates}.
  nlohmann::json summary;
};

CompileOutcome compile_run(const CompileOptions& options, const po::variables_map& vm);

}  // namespace palsim::cli
