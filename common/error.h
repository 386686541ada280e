#pragma once
// Errors that reach the user. Every error caused by an input names where the
// input is wrong: file, line and key for files, the option for command lines.
#include <stdexcept>
#include <string>
#include <vector>

namespace palsim {

// A mistake in something the user gave us (a file, an option, a combination).
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

// A mistake located in a file: "FILE:LINE:COL: KEY: MESSAGE".
class FileError : public InputError {
 public:
  FileError(const std::string& file, int line, int column, const std::string& key,
            const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& key() const { return key_; }

 private:
  friend void throw_file_errors(std::vector<FileError> errors);
  // Several mistakes as one error: their messages, one per line.
  FileError(const std::vector<FileError>& errors, const std::string& message);

  std::string file_;
  int line_;
  int column_;
  std::string key_;
};

// Reports every mistake a validation found, not only the first: returns when
// `errors` is empty, throws the one error unchanged when there is one, and
// otherwise one FileError listing them all, one "FILE:LINE:COL: KEY: MESSAGE"
// per line in file order (files in the order they first appear, then line and
// column); its file(), line() and key() are the first's.
void throw_file_errors(std::vector<FileError> errors);

// A function was called with arguments outside its domain (a quantizer's
// bits, a shape that does not match, a slice index out of range, a value that
// does not fit an instruction field). The kernels and the ISA throw it for every
// broken precondition. It is an InputError, not an InternalError: the kernels
// are a public library API whose arguments are often the user's data (a model
// file's scales and bit widths reach the quantizers, a program file's words
// reach decode), so such an error is reported to the user, not as a palsim bug.
// Arithmetic overflow of a correct computation stays std::overflow_error.
class ArgumentError : public InputError {
 public:
  explicit ArgumentError(const std::string& message) : InputError(message) {}
};

// A run that finished but failed a correctness check (a detailed simulation
// whose values differ from the kernels'): a failed run, exit 1, whatever it
// printed before.
class RunFailure : public std::runtime_error {
 public:
  explicit RunFailure(const std::string& message) : std::runtime_error(message) {}
};

// A broken invariant inside palsim itself (a bug, never the user's fault).
class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

}  // namespace palsim
