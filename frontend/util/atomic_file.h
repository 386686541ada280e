#pragma once
// Results are written atomically: to a temporary file in the same directory,
// flushed to disk, then renamed over the destination. A crash leaves either the
// previous complete file or nothing, never a half-written result.
#include <string>

namespace palsim {

// Writes `contents` to `path` atomically. Throws InputError naming the path if
// the directory is missing or not writable.
void write_file_atomically(const std::string& path, const std::string& contents);

// Checks up front that `path` can be created (its directory exists and is
// writable), so a long run fails before it starts rather than at the end.
void check_output_path(const std::string& path, const std::string& option);

// Reads a whole file; throws InputError naming the file if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace palsim
