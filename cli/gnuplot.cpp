#include "cli/gnuplot.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "cli/external_command.h"
#include "common/atomic_file.h"

namespace palsim::cli {

bool draw_with_gnuplot(const std::string& out, const std::string& terminal,
                       const std::string& terminal_options, const std::string& body,
                       const std::string& script) {
  const std::string tmp = out + ".tmp";
  write_file_atomically(script, fmt::format("set terminal {} {}\nset output {}\n{}", terminal,
                                            terminal_options, gnuplot_string(tmp), body));
  const bool drawn = run_external({"gnuplot", script}, true) == 0;
  std::error_code ec;
  if (drawn)
    std::filesystem::rename(tmp, out, ec);
  else
    std::filesystem::remove(tmp, ec);
  std::filesystem::remove(script, ec);
  return drawn && !ec;
}

}  // namespace palsim::cli
