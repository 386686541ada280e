// palsim compile / disasm: the instruction stream of a network.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "cli/compile_run.h"
#include "cli/options.h"
#include "common/atomic_file.h"

namespace palsim::cli {

int run_compile(const std::vector<std::string>& args) {
  CompileOptions options;
  std::string output, listing;
  bool verbose = false;
  po::options_description desc("palsim compile options");
  options.add_to(desc);
  desc.add_options()("output,o", po::value(&output), "write the program binary here")(
      "listing", po::value(&listing), "also write the readable listing here (- for stdout)")(
      "verbose,v", po::bool_switch(&verbose),
      "print what the mapping search visited and rejected per operation (stderr)");
  po::positional_options_description pos;
  pos.add("network", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm,
          "usage: palsim compile NETWORK [form options] --hw CONFIG -o prog.bin",
          "  palsim compile resnet18 --method palquant --B 2 --G 2 --hw configs/bitfusion.yaml -o "
          "r18.bin\n"
          "  palsim compile resnet18 --method lsq --abits 4 --wbits 4 --listing -\n"
          "  palsim compile resnet18 --method lsq --abits 4 --wbits 4 --write-mapping r18.yaml "
          "--verbose")) {
    return kExitOk;
  }
  if (output.empty() && listing.empty() && options.mapping.write.empty())
    throw UsageError("give -o FILE, --listing FILE and/or --write-mapping FILE");
  if (!output.empty()) check_output_path(output, "-o");
  if (!listing.empty() && listing != "-") check_output_path(listing, "--listing");
  const CompileOutcome out = compile_run(options, vm);
  const frontend::Compiled& c = out.compiled;
  if (verbose) fmt::print(stderr, "{}", search_stats_text(c.plan));
  if (!output.empty()) {
    isa::save_program(c.program, output);
    fmt::print(stderr,
               "wrote {}: {} instructions for {} operations ({} block intermediates on chip)\n",
               output, c.program.code.size(), c.program.info.ops.size(), c.plan.fused_pairs);
  }
  if (listing == "-") {
    std::cout << isa::listing(c.program);
  } else if (!listing.empty()) {
    write_file_atomically(listing, isa::listing(c.program));
  }
  return kExitOk;
}

int run_disasm(const std::vector<std::string>& args) {
  std::string program;
  po::options_description desc("palsim disasm options");
  desc.add_options()("program", po::value(&program),
                     "PROGRAM: a file written by palsim compile -o");
  po::positional_options_description pos;
  pos.add("program", 1);
  po::variables_map vm;
  if (!parse_command_line(args, desc, pos, vm, "usage: palsim disasm PROGRAM",
                          "  palsim disasm r18.bin | less")) {
    return kExitOk;
  }
  if (program.empty()) throw UsageError("missing PROGRAM");
  std::cout << isa::listing(isa::load_program(program));
  return kExitOk;
}

}  // namespace palsim::cli
