#include "common/error.h"

#include <fmt/format.h>

#include <algorithm>

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
      column_(column),
      key_(key) {}

FileError::FileError(const std::vector<FileError>& errors, const std::string& message)
    : InputError(message),
      file_(errors.front().file_),
      line_(errors.front().line_),
      column_(errors.front().column_),
      key_(errors.front().key_) {}

void throw_file_errors(std::vector<FileError> errors) {
  if (errors.empty()) return;
  if (errors.size() == 1) throw errors.front();
  std::vector<std::string> files;
  for (const FileError& e : errors) {
    if (std::find(files.begin(), files.end(), e.file()) == files.end()) files.push_back(e.file());
  }
  auto rank = [&](const FileError& e) {
    return std::find(files.begin(), files.end(), e.file()) - files.begin();
  };
  std::stable_sort(errors.begin(), errors.end(), [&](const FileError& a, const FileError& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    if (a.line() != b.line()) return a.line() < b.line();
    return a.column() < b.column();
  });
  std::string message;
  for (const FileError& e : errors)
    message += (message.empty() ? "" : "\n") + std::string(e.what());
  throw FileError(errors, message);
}

}  // namespace palsim
