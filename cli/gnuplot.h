#pragma once
// Drawing with gnuplot: how a path goes into a gnuplot script, and running it.
#include <string>

#include "cli/external_command.h"

namespace palsim::cli {

// `text` as a gnuplot single-quoted string: a quote inside is doubled, the
// only escape single-quoted gnuplot strings have.
inline std::string gnuplot_string(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// Runs gnuplot on the script file `script` (its messages discarded); true
// when it succeeded.
inline bool run_gnuplot(const std::string& script) {
  return run_external({"gnuplot", script}, true) == 0;
}

}  // namespace palsim::cli
