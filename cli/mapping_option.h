#pragma once
// --mapping FILE and --write-mapping FILE (docs/formats.md, "Mapping files"):
// a network's mappings given instead of searched, and the chosen mappings
// written in the same format, to edit and give back.
#include <optional>
#include <string>

#include "cli/options.h"
#include "frontend/lowering/plan.h"
#include "frontend/mapping/mapping_file.h"

namespace palsim::cli {

struct MappingFileOptions {
  std::string read;   // --mapping
  std::string write;  // --write-mapping

  void add_to(po::options_description& desc);
  // Refuses an unwritable --write-mapping before any work; reads --mapping
  // (FileError at the file's line and key).
  std::optional<frontend::MappingFile> load() const;
  // Writes --write-mapping (atomically), if given.
  void save(const frontend::Plan& plan, const std::string& hardware) const;
};

// What a compile's search visited per operation ("compile --verbose").
std::string search_stats_text(const frontend::Plan& plan);

}  // namespace palsim::cli
