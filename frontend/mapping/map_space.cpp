#include "frontend/mapping/map_space.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace palsim::frontend {

namespace {

constexpr std::array<LoopOrder, 6> kOrders = {{
    {LoopDim::kN, LoopDim::kH, LoopDim::kW, LoopDim::kM, LoopDim::kC},
    {LoopDim::kN, LoopDim::kH, LoopDim::kW, LoopDim::kC, LoopDim::kM},
    {LoopDim::kM, LoopDim::kN, LoopDim::kH, LoopDim::kW, LoopDim::kC},
    {LoopDim::kM, LoopDim::kC, LoopDim::kN, LoopDim::kH, LoopDim::kW},
    {LoopDim::kC, LoopDim::kN, LoopDim::kH, LoopDim::kW, LoopDim::kM},
    {LoopDim::kC, LoopDim::kM, LoopDim::kN, LoopDim::kH, LoopDim::kW},
}};

constexpr std::array<const char*, kRejectReasons> kReasonNames = {
    "ibuf_capacity", "wbuf_capacity", "obuf_capacity", "onchip_spill", "work_bound", "dominated",
    "array_mode",    "tile",          "loop_order",    "dma_level",    "group_pack",
};

const char* const kOperandNames[3] = {"input", "weight", "output"};

int64_t max_k_lanes(const HwConfig& hw, const MappingProblem& p) {
  int64_t lanes = 1;
  for (const ArrayMode& m : array_modes(hw, p.a_bits, p.w_bits))
    lanes = std::max<int64_t>(lanes, m.k_lanes());
  return lanes;
}

}  // namespace

bool group_packing_applies(const MappingProblem& p) {
  // Not for layers with the activation-sum correction (one sum per group) or
  // a rotated input, nor for ops sharing the IBUF with an on-chip region.
  return p.groups > 1 && p.pack == 1 && !p.pool && !p.uniform && p.in_rotate == 0 &&
         !p.onchip_input && !p.onchip_output;
}

const char* reject_reason_name(RejectReason r) {
  return kReasonNames[static_cast<size_t>(r)];
}

int64_t MapSearchStats::rejected_total() const {
  int64_t n = 0;
  for (int64_t r : rejected) n += r;
  return n;
}

MapSearchStats& MapSearchStats::operator+=(const MapSearchStats& o) {
  visited += o.visited;
  evaluated += o.evaluated;
  for (size_t i = 0; i < rejected.size(); ++i) rejected[i] += o.rejected[i];
  return *this;
}

std::string MapSearchStats::describe() const {
  std::string s =
      fmt::format("visited {}, evaluated {}, rejected {}", visited, evaluated, rejected_total());
  std::string parts;
  for (size_t i = 0; i < rejected.size(); ++i) {
    if (rejected[i] == 0) continue;
    parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", kReasonNames[i], rejected[i]);
  }
  return parts.empty() ? s : s + " (" + parts + ")";
}

int64_t MapSpace::points_per_tiling() const {
  return static_cast<int64_t>(order.size() * level[0].size() * level[1].size() * level[2].size());
}

int64_t MapSpace::size() const {
  int64_t n = static_cast<int64_t>(mode.size());
  for (const auto& t : tile) n *= static_cast<int64_t>(t.size());
  return n * points_per_tiling();
}

std::optional<ArrayMode> MapSpace::mode_like(const ArrayMode& m) const {
  for (const ArrayMode& a : mode.values)
    if (a.fa == m.fa && a.fw == m.fw && a.lanes_per_unit == m.lanes_per_unit) return a;
  return std::nullopt;
}

std::optional<Rejection> MapSpace::check(const Mapping& m) const {
  const MappingProblem& p = problem;
  if (!mode_like(m.mode)) {
    std::string modes;
    for (const ArrayMode& a : mode.values)
      modes += fmt::format("{}{{fa {}, fw {}, lanes {}}}", modes.empty() ? "" : ", ", a.fa, a.fw,
                           a.lanes_per_unit);
    return Rejection{
        RejectReason::kArrayMode,
        fmt::format("mode fa {}, fw {}, lanes {} is not one the array runs for "
                    "{}-bit x {}-bit operands (it runs: {})",
                    m.mode.fa, m.mode.fw, m.mode.lanes_per_unit, p.a_bits, p.w_bits, modes),
        "mode"};
  }
  for (int i = 0; i < kLoopDims; ++i) {
    const LoopDim d = static_cast<LoopDim>(i);
    const int e = loop_extent(p, d), t = m.tile(d);
    const char letter = loop_dim_letter(d);
    if (t < 1 || t > e)
      return Rejection{
          RejectReason::kTile,
          fmt::format("tile {} = {} is outside 1..{} (the extent of {})", letter, t, e, letter),
          std::string("tiles.") + letter};
    const bool whole =
        (p.pack > 1 && (d == LoopDim::kM || d == LoopDim::kC)) || (p.pool && d == LoopDim::kC);
    if (whole && t != e)
      return Rejection{RejectReason::kTile,
                       fmt::format("tile {} = {} must be {}: {}", letter, t, e,
                                   p.pool ? "a pool has no reduction over channels"
                                          : "a packed tile covers whole groups"),
                       std::string("tiles.") + letter};
  }
  if (std::find(order.values.begin(), order.values.end(), m.order) == order.values.end()) {
    std::string orders;
    for (const LoopOrder& o : order.values) {
      Mapping x;
      x.order = o;
      orders += (orders.empty() ? "" : ", ") + x.order_string();
    }
    return Rejection{RejectReason::kLoopOrder,
                     fmt::format("order {} is not one of {}", m.order_string(), orders), "order"};
  }
  for (size_t x = 0; x < 3; ++x) {
    const auto& axis = level[x].values;
    if (std::find(axis.begin(), axis.end(), m.level[x]) == axis.end())
      return Rejection{RejectReason::kDmaLevel,
                       fmt::format("{} level {} is not one of {}", kOperandNames[x], m.level[x],
                                   fmt::join(axis, ", ")),
                       std::string("levels.") + kOperandNames[x]};
  }
  return std::nullopt;
}

MapSpace make_map_space(const HwConfig& hw, const MappingProblem& p, const std::string& op_name) {
  MapSpace s;
  s.problem = p;
  s.mode.name = "array mode";
  if (p.pool) {
    s.mode.values.push_back(ArrayMode{});
  } else {
    s.mode.values = array_modes(hw, p.a_bits, p.w_bits);
    if (s.mode.values.empty()) {
      throw InputError(
          fmt::format("operation '{}': no array mode of '{}' handles {}-bit x {}-bit operands",
                      op_name, hw.name, p.a_bits, p.w_bits));
    }
  }
  for (int i = 0; i < kLoopDims; ++i) {
    const LoopDim d = static_cast<LoopDim>(i);
    Axis<int>& a = s.tile[static_cast<size_t>(i)];
    a.name = std::string("tile ") + loop_dim_letter(d);
    const bool whole =
        (p.pack > 1 && (d == LoopDim::kM || d == LoopDim::kC)) || (p.pool && d == LoopDim::kC);
    a.values = whole ? std::vector<int>{loop_extent(p, d)} : tile_candidates(loop_extent(p, d));
  }
  s.order.name = "loop order";
  s.order.values.assign(kOrders.begin(), kOrders.end());
  for (size_t x = 0; x < 3; ++x) {
    Axis<int>& a = s.level[x];
    a.name = std::string("DMA level ") + kOperandNames[x];
    // A pool has no weights: their level stays where a Mapping puts it.
    if (p.pool && static_cast<Operand>(x) == Operand::kWeight) {
      a.values = {Mapping{}.level[x]};
      continue;
    }
    // Innermost first: ties keep the smallest tile.
    for (int level = kLoopDims; level >= 0; --level) a.values.push_back(level);
  }
  return s;
}

Axis<int> group_pack_axis(const HwConfig& hw, const MappingProblem& p) {
  Axis<int> a{"group packing", {1}};
  if (!group_packing_applies(p)) return a;
  const int64_t lanes = max_k_lanes(hw, p);
  for (int pack = 2; pack <= p.groups; ++pack) {
    if (p.groups % pack != 0) continue;
    if (static_cast<int64_t>(pack / 2) * p.cin_g * p.kh * p.kw > lanes) break;
    a.values.push_back(pack);
  }
  return a;
}

std::optional<Rejection> check_group_pack(const HwConfig& hw, const MappingProblem& p, int pack) {
  if (pack == 1) return std::nullopt;
  const Axis<int> axis = group_pack_axis(hw, p);
  if (std::find(axis.values.begin(), axis.values.end(), pack) != axis.values.end())
    return std::nullopt;
  std::string why;
  if (!group_packing_applies(p)) {
    why = p.groups == 1 ? "the operation has one group"
          : p.pool      ? "a pool has no weights to pack"
          : p.uniform   ? "its activation-sum correction is per group"
          : p.in_rotate ? "its input is group-rotated"
                        : "its tensor is kept on chip";
  } else if (p.groups % pack != 0) {
    why = fmt::format("it does not divide the {} groups", p.groups);
  } else {
    why = fmt::format("{} packed groups exceed the array's {} reduction lanes", pack,
                      max_k_lanes(hw, p));
  }
  return Rejection{RejectReason::kGroupPack,
                   fmt::format("pack {} is not possible: {} (possible: {})", pack, why,
                               fmt::join(axis.values, ", ")),
                   "pack"};
}

MappingProblem packed_problem(const MappingProblem& p, int pack) {
  MappingProblem q = p;
  if (pack <= 1) return q;
  q.pack = pack;
  q.groups = p.groups / pack;
  q.cin_g = p.cin_g * pack;
  q.cout_g = p.cout_g * pack;
  return q;
}

}  // namespace palsim::frontend
