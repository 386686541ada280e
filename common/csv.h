#pragma once
// CSV fields (RFC 4180): every CSV palsim writes quotes the same way.
#include <string>

namespace palsim {

// `s` as one field: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s);

}  // namespace palsim
