#pragma once
// Mappings as a file (docs/formats.md, "Mapping files"): the mapping of some
// or all of a network's hardware operations, read strictly (every key known,
// typed, in range) and written in the same format, so that a plan's
// mappings can be saved, edited and given back (`palsim simulate --mapping`,
// `--write-mapping`). Whether a given mapping is legal for its operation is
// the planner's question (it knows the problem): its errors point at the
// entry's keys through `provenance`.
#include <string>
#include <vector>

#include "common/yaml_reader.h"
#include "frontend/mapping/mapping.h"

namespace palsim::frontend {

struct GivenMapping {
  std::string op;
  // pack, mode (fa, fw, lanes_per_unit: the rest is the array's), tiles,
  // order and levels; no estimate.
  Mapping mapping;
  bool onchip_input = false;   // reads its input from the on-chip region
  bool onchip_output = false;  // writes its output to the on-chip region
  std::string path;            // its YAML path ("layers[3]"), for errors
};

struct MappingFile {
  std::string file;
  std::vector<GivenMapping> layers;
  Provenance provenance;  // where each key of each entry was set
  const GivenMapping* find(const std::string& op) const;
  // Throws FileError at `entry`'s `key` ("tiles.H", "mode", ...; "" for the entry).
  [[noreturn]] void fail(const GivenMapping& entry, const std::string& key,
                         const std::string& message) const;
};

MappingFile load_mapping_file(const std::string& path);
// The file text of `layers` (in their order), under a header naming the
// network and hardware they were made for.
std::string mapping_file_text(const std::vector<GivenMapping>& layers, const std::string& network,
                              const std::string& hardware);

}  // namespace palsim::frontend
