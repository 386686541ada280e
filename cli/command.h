#pragma once
// The subcommands of `palsim`. Each lives in its own cmd_*.cpp and registers
// itself in commands.cpp.
#include <string>
#include <vector>

namespace palsim::cli {

// Exit codes: 0 success, 1 a failed run or bad input file, 2 a bad command line.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Command {
  std::string name;
  std::string summary;
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& commands();

int run_bitops(const std::vector<std::string>& args);
int run_network(const std::vector<std::string>& args);
int run_import(const std::vector<std::string>& args);
int run_compile(const std::vector<std::string>& args);
int run_disasm(const std::vector<std::string>& args);
int run_simulate(const std::vector<std::string>& args);
int run_table2(const std::vector<std::string>& args);
int run_sweep(const std::vector<std::string>& args);
int run_results(const std::vector<std::string>& args);
int run_plot(const std::vector<std::string>& args);
int run_validate(const std::vector<std::string>& args);
int run_evaluate(const std::vector<std::string>& args);
#ifdef PALSIM_WITH_TORCH
int run_train(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);
#endif

}  // namespace palsim::cli
