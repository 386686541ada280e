#include "cli/mapping_option.h"

#include <fmt/format.h>

#include "common/atomic_file.h"

namespace palsim::cli {

void MappingFileOptions::add_to(po::options_description& desc) {
  desc.add_options()("mapping", po::value(&read),
                     "take the mappings of the operations this YAML file names instead of "
                     "searching them (docs/formats.md, Mapping files)")(
      "write-mapping", po::value(&write),
      "write every operation's chosen mapping to this file, in the --mapping format");
}

std::optional<frontend::MappingFile> MappingFileOptions::load() const {
  if (!write.empty()) check_output_path(write, "--write-mapping");
  if (read.empty()) return std::nullopt;
  return frontend::load_mapping_file(read);
}

void MappingFileOptions::save(const frontend::Plan& plan, const std::string& hardware) const {
  if (write.empty()) return;
  write_file_atomically(write, frontend::mapping_file_text(frontend::plan_mappings(plan),
                                                           plan.graph.network, hardware));
}

std::string search_stats_text(const frontend::Plan& plan) {
  std::string s = "mapping search per operation (points of the map space; docs/architecture.md):\n";
  frontend::MapSearchStats total;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const frontend::OpPlan& op = plan.ops[i];
    s += fmt::format("  {:<28} {}\n", plan.graph.ops[i].name,
                     op.given ? "given by --mapping (not searched)" : op.search.describe());
    total += op.search;
  }
  return s + fmt::format("  {:<28} {}\n", "(all, identical layers counted each time)",
                         total.describe());
}

}  // namespace palsim::cli
