#pragma once
// Shared pieces of the fuzz targets (tests/fuzz/*_fuzz.cpp).
//
// Each target defines libFuzzer's entry point, LLVMFuzzerTestOneInput, and
// feeds the input to one palsim reader. A clear rejection (palsim::InputError
// whose message names the input) is the expected outcome for bad input;
// anything else escapes (an exception of another type, a crash, a sanitizer
// report, a leak, a hang) and is a finding. The same entry point is linked
// into a libFuzzer binary (PALSIM_FUZZ=ON, clang) and into a replay driver
// (every build) that ctest runs over the seed and regression corpora.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace palsim::fuzz {

// A scratch directory private to this process, created on first use and
// removed when the process exits.
const std::string& scratch_dir();

// Writes `size` bytes to `path` (relative paths are inside scratch_dir()),
// creating parent directories; returns the full path.
std::string write_scratch(const std::string& path, const uint8_t* data, size_t size);

// Copies a file of the source tree (relative to PALSIM_SOURCE_DIR) into the
// scratch directory, once per process.
void copy_source_file(const std::string& source_relative, const std::string& scratch_relative);

// Aborts (a finding) when `message` does not mention `name`.
void check_message_names(const std::string& message, const std::string& name);

// Rewrites the trailing checksum of an array file (checkpoints, integer
// models) to the one its version field calls for: FNV-1a 64 for version 2,
// the legacy basis for version 1 (training/array_file.h), so that mutations
// reach the entry parser behind the check.
void fix_array_file_checksum(std::string& bytes);

// Runs `read`; an InputError is accepted when its message names `name` (the
// file the reader was given), otherwise it is reported as a finding.
template <typename Read>
void expect_clean_rejection(const std::string& name, Read&& read) {
  try {
    read();
  } catch (const InputError& e) {
    check_message_names(e.what(), name);
  }
}

}  // namespace palsim::fuzz
