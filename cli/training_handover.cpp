// `palsim train` and `palsim export` in the light palsim executable. They run
// libtorch, whose ~290 shared libraries take longer to load than most
// simulations take to run, so they live in palsim-train, installed beside
// palsim, which these hand over to (exec): every other command starts without
// loading libtorch. palsim-train is palsim with the torch commands built in.
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "cli/provenance.h"
#include "common/error.h"

namespace palsim::cli {

namespace {

int hand_over(const std::string& command, const std::vector<std::string>& args) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw InputError(fmt::format("cannot locate the palsim executable: {}", ec.message()));
  const std::string helper = (self.parent_path() / "palsim-train").string();
  // argv[0] stays what the user ran: messages and the recorded command line
  // read as they did when palsim held these commands itself.
  const std::vector<std::string>& line = command_line();
  std::vector<std::string> argv_text = {line.empty() ? std::string("palsim") : line[0], command};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  std::fflush(stdout);
  ::execv(helper.c_str(), argv.data());
  throw InputError(fmt::format("cannot run {} (it runs `palsim {}`): {}", helper, command,
                               std::strerror(errno)));
}

}  // namespace

int run_train(const std::vector<std::string>& args) {
  return hand_over("train", args);
}

int run_export(const std::vector<std::string>& args) {
  return hand_over("export", args);
}

}  // namespace palsim::cli
