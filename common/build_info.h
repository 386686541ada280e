#pragma once
// What built this palsim: recorded in the provenance of every result.
// Defined in a source file generated at build time (cmake/build_info.cmake).
namespace palsim {

// The release (CMake project version).
const char* palsim_version();
// `git describe --always --dirty` of the source checkout, "unknown" outside one.
const char* source_revision();
// The model's version: a hash of the golden figures (tests/golden/*.json).
// Results of two simulator versions are never mixed (sweep databases refuse
// another version's rows).
const char* simulator_version();

}  // namespace palsim
