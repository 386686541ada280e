#pragma once
// Drawing with gnuplot: how a path goes into a gnuplot script, and drawing a
// script into an image file.
#include <string>

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

// Draws `body` (a gnuplot script without its terminal and output) into the
// image `out` with `set terminal TERMINAL TERMINAL_OPTIONS` ("png" or "svg").
// The script is written to `script` and removed after; gnuplot draws into a
// temporary image renamed onto `out`, so `out` is the complete image or
// unchanged. Returns whether gnuplot succeeded (its messages are discarded).
bool draw_with_gnuplot(const std::string& out, const std::string& terminal,
                       const std::string& terminal_options, const std::string& body,
                       const std::string& script);

}  // namespace palsim::cli
