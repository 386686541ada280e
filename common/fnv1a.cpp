#include "common/fnv1a.h"

#include <fmt/format.h>

namespace palsim {

std::string fnv1a64_hex(std::string_view text, uint64_t basis) {
  return fmt::format("{:016x}", fnv1a64(text.data(), text.size(), basis));
}

}  // namespace palsim
