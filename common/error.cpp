#include "common/error.h"

#include <fmt/format.h>

namespace palsim {

namespace {
std::string format_location(const std::string& file, int line, int column, const std::string& key,
                            const std::string& message) {
  std::string where = file;
  if (line > 0) where += fmt::format(":{}", line);
  if (line > 0 && column > 0) where += fmt::format(":{}", column);
  if (key.empty()) return fmt::format("{}: {}", where, message);
  return fmt::format("{}: '{}': {}", where, key, message);
}
}  // namespace

FileError::FileError(const std::string& file, int line, int column, const std::string& key,
                     const std::string& message)
    : InputError(format_location(file, line, column, key, message)),
      file_(file),
      line_(line),
      key_(key) {}

}  // namespace palsim
