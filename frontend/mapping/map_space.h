#pragma once
// The map space of one hardware operation, as Timeloop describes one: named
// axes, each an enumerable list of values, and the space their product.
//   array mode      every mode the array runs for the operands (array_model.h owns it)
//   tile N/H/W/M/C  every distinct tile count of the dimension, as its balanced
//                   tile size ceil(E / count) (a packed tile covers whole groups:
//                   M and C untiled)
//   loop order      the orders of {P = (N, H, W), M, C} the code generator emits
//   DMA level       of each operand: how many tile loops enclose its DMA (0..5)
//   group packing   groups run together as one block-diagonal problem (a space
//                   of its own per pack: the problem changes with it)
//   tensor layout   of each activation tensor (layout_candidates, mapping_cost.h):
//                   priced inside the evaluator, which keeps the cheapest, and
//                   chosen for good by the planner (layout_plan.h)
// A point of the space is a Mapping. Whether a mapping is a point (its
// structure) is asked of the space; whether it fits the buffers is the
// evaluator's question (map_evaluator.h).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/mapping/mapping.h"

namespace palsim::frontend {

// Why a point of the space is not a candidate. The search counts each
// (MapSearchStats); a mapping given by hand is refused naming one.
enum class RejectReason : uint8_t {
  kIbufCapacity = 0,  // the input (and residual) tile exceeds its half of IBUF
  kWbufCapacity,      // the weight tile exceeds its half of WBUF
  kObufCapacity,      // the accumulator tile exceeds its half of OBUF
  kOnchipSpill,       // an on-chip output would spill partial sums to DRAM
  kWorkBound,         // pruned: its compute bound is slower than the candidates kept
  kDominated,         // pruned: another DMA level has no more traffic and no larger tile
  kArrayMode,         // not a mode the array runs for these operand widths
  kTile,              // a tile size outside 1..extent, or a packed tile not whole groups
  kLoopOrder,         // not one of the loop orders
  kDmaLevel,          // a DMA level outside 0..5 (pools: weights have none)
  kGroupPack,         // a pack that does not divide the groups or cannot apply
};
constexpr int kRejectReasons = 11;
// Snake-case name ("ibuf_capacity"), as reports print it.
const char* reject_reason_name(RejectReason r);

struct Rejection {
  RejectReason reason;
  std::string detail;  // the rule broken, with the values
  std::string key;     // the mapping's part at fault, as a mapping file names it ("tiles.H")
};

// Points visited by a search and what became of them: every visited point is
// evaluated or rejected for one reason (the first that applies, in the
// order of the operands: input, weight, output).
struct MapSearchStats {
  int64_t visited = 0;
  int64_t evaluated = 0;
  std::array<int64_t, kRejectReasons> rejected{};
  int64_t& operator[](RejectReason r) { return rejected[static_cast<size_t>(r)]; }
  int64_t operator[](RejectReason r) const { return rejected[static_cast<size_t>(r)]; }
  int64_t rejected_total() const;
  MapSearchStats& operator+=(const MapSearchStats& o);
  std::string describe() const;  // "visited 1234, evaluated 56, rejected: ibuf_capacity 7, ..."
};

// One named axis: its values in the order the search visits them.
template <typename T>
struct Axis {
  std::string name;
  std::vector<T> values;
  size_t size() const { return values.size(); }
};

struct MapSpace {
  MappingProblem problem;  // packed when problem.pack > 1
  Axis<ArrayMode> mode;
  std::array<Axis<int>, kLoopDims> tile;  // indexed by LoopDim
  Axis<LoopOrder> order;
  std::array<Axis<int>, 3> level;  // indexed by Operand, innermost (5) first

  // Points in the space (the product of the axes' sizes).
  int64_t size() const;
  // Points sharing one tiling (mode and tile sizes): orders x levels.
  int64_t points_per_tiling() const;
  // Whether `m` is a point of this space's structure; tile sizes may be any
  // in 1..extent (the search visits the balanced ones; another tile size
  // runs as well, with a remainder tile).
  std::optional<Rejection> check(const Mapping& m) const;
  // The mode of the axis with m's unit widths and lanes (what names a mode).
  std::optional<ArrayMode> mode_like(const ArrayMode& m) const;
};

// The space of `p` (at its pack). Throws InputError naming `op_name` when no
// array mode handles the operands.
MapSpace make_map_space(const HwConfig& hw, const MappingProblem& p, const std::string& op_name);

// Whether group packing can apply to `p` at all (several groups, weights,
// no per-group correction, no rotation, no on-chip region).
bool group_packing_applies(const MappingProblem& p);
// The group packing axis of an unpacked problem: 1 first, then every pack
// that divides the groups and still fits the array's reduction lanes (beyond
// them packing only adds folds). Only 1 when packing does not apply.
Axis<int> group_pack_axis(const HwConfig& hw, const MappingProblem& p);
// Why `pack` is not on that axis (nothing when it is).
std::optional<Rejection> check_group_pack(const HwConfig& hw, const MappingProblem& p, int pack);
// `p` with `pack` groups run as one block-diagonal problem (packed extents).
MappingProblem packed_problem(const MappingProblem& p, int pack);

}  // namespace palsim::frontend
