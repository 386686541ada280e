#pragma once
// Text palsim reads (names, paths and values in YAML files, program and model
// files, command lines) ends up in JSON, CSV and messages. nlohmann::json
// refuses to serialize invalid UTF-8 and a NUL byte cuts C strings short, so
// both are refused where the text is read, with its place named, instead of
// failing (or truncating) at output time.
#include <string>
#include <string_view>

namespace palsim {

// Why `s` is not acceptable text, or "" when it is: invalid UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF included) or a NUL byte,
// with the offset of the first offending byte.
std::string text_problem(std::string_view s);

// `s` with every byte that text_problem() objects to written as \xNN, so a
// message quoting bad text is itself valid text.
std::string printable(std::string_view s);

}  // namespace palsim
