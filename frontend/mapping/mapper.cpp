#include "frontend/mapping/mapper.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "frontend/mapping/map_evaluator.h"
#include "frontend/mapping/ranking.h"

namespace palsim::frontend {

namespace {

// One space (one pack): the policy proposes, the evaluator estimates, the
// ranking keeps. No candidates when nothing fits.
MapSearchResult search_space(const HwConfig& hw, const MappingProblem& p,
                             const std::string& op_name, size_t count,
                             const PolicyFactory& make_policy) {
  const MapSpace space = make_map_space(hw, p, op_name);
  Ranking ranking(count);
  MapSearchResult r;
  TilingEvaluator evaluator(hw, space);
  const std::unique_ptr<SearchPolicy> policy = make_policy(space);
  while (const Mapping* tiling = policy->next())
    policy->report(evaluator.evaluate(*tiling, ranking, r.stats));
  r.mappings = ranking.finish();
  return r;
}

[[noreturn]] void no_tiling_fits(const HwConfig& hw, const MappingProblem& p,
                                 const std::string& op_name) {
  throw InputError(fmt::format(
      "operation '{}': no tiling fits the buffers of '{}' (IBUF {} B, WBUF {} B, OBUF {} B{}); "
      "the smallest tile needs one output position, one channel and a {}x{} kernel",
      op_name, hw.name, hw.ibuf.size_bytes, hw.wbuf.size_bytes, hw.obuf.size_bytes,
      p.ibuf_reserved_bits ? fmt::format(", {} B of IBUF held on chip", p.ibuf_reserved_bits / 8)
                           : "",
      p.kh, p.kw));
}

}  // namespace

MapSearchResult find_mappings(const HwConfig& hw, const MappingProblem& p,
                              const std::string& op_name, size_t count,
                              const PolicyFactory& policy) {
  count = std::max<size_t>(1, count);
  MapSearchResult all = search_space(hw, p, op_name, count, policy);
  if (all.mappings.empty()) no_tiling_fits(hw, p, op_name);
  if (!group_packing_applies(p)) return all;
  // Group packing: small groups (depthwise convolutions above all) run
  // several at a time as one block-diagonal problem.
  const Axis<int> packs = group_pack_axis(hw, p);
  for (size_t i = 1; i < packs.size(); ++i) {
    const int pack = packs.values[i];
    MapSearchResult r = search_space(hw, packed_problem(p, pack), op_name, count, policy);
    all.stats += r.stats;
    for (Mapping& m : r.mappings) {
      m.pack = pack;
      all.mappings.push_back(std::move(m));
    }
  }
  // Best first, by (cycles, energy); keep the fastest `count` and the
  // leanest `count` as each space's ranking does.
  std::stable_sort(all.mappings.begin(), all.mappings.end(),
                   [](const Mapping& a, const Mapping& b) {
                     if (a.estimate.cycles != b.estimate.cycles)
                       return a.estimate.cycles < b.estimate.cycles;
                     return a.estimate.energy_pj < b.estimate.energy_pj;
                   });
  if (all.mappings.size() > 2 * count) all.mappings.resize(2 * count);
  return all;
}

Mapping find_mapping(const HwConfig& hw, const MappingProblem& p, const std::string& op_name) {
  return find_mappings(hw, p, op_name, 1).mappings.front();
}

}  // namespace palsim::frontend
