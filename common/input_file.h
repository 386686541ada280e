#pragma once
// Reading the files palsim is given. Every input must be a regular file: a
// FIFO with no writer would block forever and a device such as /dev/zero never
// ends, so both are refused with the file named before a byte is read. The
// size of what is read is bounded, so a wrong file (or one that grows while it
// is read) fails with a message instead of exhausting memory.
#include <cstdint>
#include <string>

namespace palsim {

// The documented limits (docs/hardening.md): text inputs (hardware, network,
// sweep and training YAML) and binary inputs (programs, model files,
// checkpoints, decompressed dataset files).
constexpr uint64_t kMaxTextInputBytes = uint64_t{64} << 20;
constexpr uint64_t kMaxBinaryInputBytes = uint64_t{4} << 30;

// Why `path` cannot be read as an input file, or "" when it can: it is
// missing, a directory, a FIFO, a device or a socket (symbolic links are
// followed to what they name).
std::string input_file_problem(const std::string& path);

// Opens the regular file `path` for reading without ever blocking (O_NONBLOCK
// until fstat has shown it is a regular file) and checks its size against
// `limit`; returns the descriptor, which the caller closes. Throws InputError
// naming the file.
int open_input_file(const std::string& path, uint64_t limit);

// The whole contents of the regular file `path`, at most `limit` bytes.
std::string read_file(const std::string& path, uint64_t limit = kMaxBinaryInputBytes);

// A YAML or other text input: read_file with the text limit.
inline std::string read_text_file(const std::string& path) {
  return read_file(path, kMaxTextInputBytes);
}

// "1.5 MiB": a byte count for messages.
std::string format_bytes(uint64_t bytes);

}  // namespace palsim
