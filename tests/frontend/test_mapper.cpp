// The mapping search: chosen mappings fit the buffers and carry their own
// estimate; brute force over the whole mapping space finds nothing better;
// tile sizes are not limited to powers of two; impossible problems are
// reported.
//
// What the search covers (mapper.h): for every array mode, every loop order
// of {P = (N, H, W), M, C}, every DMA level (0..5) of input, weights and
// output, and for each of N, H, W, M, C every distinct tile COUNT k = 1..E,
// represented by the balanced tile size ceil(E / k) (tile_candidates). A tile
// size t outside that set has the same count as the candidate ceil(E / ceil(E
// / t)) <= t, whose tiles are no larger (so it fits wherever t fits) and
// split the extent more evenly; the tests below check both facts, and check by
// brute force over EVERY tile size 1..E, order, mode and level of small
// problems that no mapping with fewer estimated cycles exists. That last check
// is empirical, not a theorem: an uneven split aligned to the array's lanes
// (e.g. 64 + 8 output channels on 32 columns) can need fewer folds than the
// even one, so a larger problem might find a better unbalanced tiling.
#include "frontend/mapping/mapper.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "frontend/arch/hw_config.h"
#include "frontend/mapping/mapping.h"
#include "tests/frontend/shipped_config.h"

namespace palsim::frontend {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}
#define EXPECT_CONTAINS(text, part) EXPECT_TRUE(Contains((text), (part)))

// A convolution (one group) with square kernel, stride and padding; the input
// size follows from the output size.
MappingProblem conv(int cin, int cout, int out_h, int out_w, int k, int s, int bits,
                    int groups = 1) {
  MappingProblem p;
  p.groups = groups;
  p.cin_g = cin;
  p.cout_g = cout;
  p.out_h = out_h;
  p.out_w = out_w;
  p.kh = p.kw = k;
  p.sh = p.sw = s;
  p.ph = p.pw = k / 2;
  p.in_h = (out_h - 1) * s + k - 2 * p.ph;
  p.in_w = (out_w - 1) * s + k - 2 * p.pw;
  p.a_bits = p.w_bits = bits;
  p.in_bits = p.out_bits = bits;
  return p;
}

bool fits(const TileFootprint& f, const TileFootprint& cap) {
  return f.ibuf_bits <= cap.ibuf_bits && f.wbuf_bits <= cap.wbuf_bits &&
         f.obuf_bits <= cap.obuf_bits;
}

// Partial sums leave OBUF: the output's DMA sits inside a C loop of more than one trip.
bool spills(const MappingProblem& p, const Mapping& m) {
  if (p.pool || m.c_t >= p.cin_g) return false;
  for (int i = 0; i < m.level[2]; ++i) {
    if (m.order[static_cast<size_t>(i)] == LoopDim::kC) return true;
  }
  return false;
}

// What the mapper may choose: fits half of each buffer, and an output kept on
// chip never spills partial sums.
bool allowed(const HwConfig& hw, const MappingProblem& p, const Mapping& m,
             const TileFootprint& cap) {
  return fits(tile_footprint(hw, p, m), cap) && !(p.onchip_output && spills(p, m));
}

// Every loop order: the permutations of {P, M, C}, P expanded to N, H, W.
std::vector<std::array<LoopDim, kLoopDims>> all_orders() {
  std::vector<std::array<LoopDim, kLoopDims>> out;
  std::array<int, 3> groups = {0, 1, 2};  // 0: P, 1: M, 2: C
  do {
    std::array<LoopDim, kLoopDims> o{};
    size_t i = 0;
    for (int g : groups) {
      if (g == 0) {
        o[i++] = LoopDim::kN;
        o[i++] = LoopDim::kH;
        o[i++] = LoopDim::kW;
      } else {
        o[i++] = g == 1 ? LoopDim::kM : LoopDim::kC;
      }
    }
    out.push_back(o);
  } while (std::next_permutation(groups.begin(), groups.end()));
  return out;
}

std::vector<int> every_size(int e) {
  std::vector<int> v;
  for (int t = 1; t <= e; ++t) v.push_back(t);
  return v;
}
// Powers of two below the extent, and the extent (what a power-of-two search tries).
std::vector<int> powers_of_two(int e) {
  std::vector<int> v;
  for (int t = 1; t < e; t *= 2) v.push_back(t);
  v.push_back(e);
  return v;
}
bool is_power_of_two(int t) {
  return t > 0 && (t & (t - 1)) == 0;
}

// Calls f(mapping) for every mapping whose tile sizes come from `sizes`, in
// every mode, order and DMA level, that the mapper may choose.
template <typename Sizes, typename F>
void for_each_fitting_mapping(const HwConfig& hw, const MappingProblem& p, Sizes sizes, F f) {
  const TileFootprint cap = tile_capacity(hw, p);
  const std::vector<ArrayMode> modes =
      p.pool ? std::vector<ArrayMode>{ArrayMode{}} : array_modes(hw, p.a_bits, p.w_bits);
  const auto orders = all_orders();
  const std::vector<int> wt_levels = p.pool ? std::vector<int>{5} : every_size(6);
  for (const ArrayMode& mode : modes) {
    for (int n : sizes(loop_extent(p, LoopDim::kN))) {
      for (int h : sizes(loop_extent(p, LoopDim::kH))) {
        for (int w : sizes(loop_extent(p, LoopDim::kW))) {
          for (int mt : sizes(loop_extent(p, LoopDim::kM))) {
            for (int c : sizes(loop_extent(p, LoopDim::kC))) {
              for (const auto& order : orders) {
                for (int li = 0; li <= kLoopDims; ++li) {
                  for (int lw1 : wt_levels) {
                    for (int lo = 0; lo <= kLoopDims; ++lo) {
                      Mapping m;
                      m.mode = mode;
                      m.n_t = n;
                      m.h_t = h;
                      m.w_t = w;
                      m.m_t = mt;
                      m.c_t = c;
                      m.order = order;
                      m.level = {li, p.pool ? lw1 : lw1 - 1, lo};
                      if (allowed(hw, p, m, cap)) f(m);
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

// The checks every chosen mapping must pass.
void check_chosen(const HwConfig& hw, const MappingProblem& p, const Mapping& m) {
  const TileFootprint f = tile_footprint(hw, p, m);
  const TileFootprint cap = tile_capacity(hw, p);
  EXPECT_LE(f.ibuf_bits, cap.ibuf_bits);
  EXPECT_LE(f.wbuf_bits, cap.wbuf_bits);
  EXPECT_LE(f.obuf_bits, cap.obuf_bits);
  // Half of each double-buffered buffer (the IBUF minus any on-chip region).
  EXPECT_EQ(cap.wbuf_bits, hw.wbuf.size_bytes * 8 / 2);
  EXPECT_EQ(cap.obuf_bits, hw.obuf.size_bytes * 8 / 2);
  EXPECT_EQ(cap.ibuf_bits, (hw.ibuf.size_bytes * 8 - p.ibuf_reserved_bits) / 2);
  const MappingEstimate e = estimate_mapping(hw, p, m);
  EXPECT_EQ(m.estimate.cycles, e.cycles);
  EXPECT_EQ(m.estimate.compute_cycles, e.compute_cycles);
  EXPECT_EQ(m.estimate.dram_cycles, e.dram_cycles);
  EXPECT_EQ(m.estimate.dram_bits, e.dram_bits);
  EXPECT_DOUBLE_EQ(m.estimate.energy_pj, e.energy_pj);
  EXPECT_GE(e.cycles, std::max(e.compute_cycles, e.dram_cycles));
  // Tiles from the candidate set, levels in range, an order of the search space.
  for (int d = 0; d < kLoopDims; ++d) {
    const LoopDim dim = static_cast<LoopDim>(d);
    const auto cands = tile_candidates(loop_extent(p, dim));
    EXPECT_TRUE(std::find(cands.begin(), cands.end(), m.tile(dim)) != cands.end())
        << loop_dim_letter(dim) << " tile " << m.tile(dim);
  }
  for (int l : m.level) {
    EXPECT_GE(l, 0);
    EXPECT_LE(l, kLoopDims);
  }
  const auto orders = all_orders();
  EXPECT_TRUE(std::find(orders.begin(), orders.end(), m.order) != orders.end()) << m.order_string();
  if (!p.pool) {
    bool mode_allowed = false;
    for (const ArrayMode& a : array_modes(hw, p.a_bits, p.w_bits)) {
      mode_allowed = mode_allowed || (a.fa == m.mode.fa && a.fw == m.mode.fw &&
                                      a.lanes_per_unit == m.mode.lanes_per_unit &&
                                      a.outputs_per_unit == m.mode.outputs_per_unit);
    }
    EXPECT_TRUE(mode_allowed) << m.mode.describe();
  }
}

TEST(Mapper, TileCandidates) {
  EXPECT_EQ(tile_candidates(56),
            (std::vector<int>{56, 28, 19, 14, 12, 10, 8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(tile_candidates(1), std::vector<int>{1});
  EXPECT_EQ(tile_candidates(7), (std::vector<int>{7, 4, 3, 2, 1}));
  EXPECT_EQ(tile_candidates(13), (std::vector<int>{13, 7, 5, 4, 3, 2, 1}));
}

// The claim "every distinct tile count": for every tile size t, exactly one
// candidate has t's tile count, and it is the smallest size with that count.
TEST(Mapper, TileCandidatesCoverEveryTileCount) {
  for (int e = 1; e <= 600; ++e) {
    const std::vector<int> cands = tile_candidates(e);
    std::set<int64_t> counts;
    for (size_t i = 0; i < cands.size(); ++i) {
      ASSERT_GE(cands[i], 1);
      ASSERT_LE(cands[i], e);
      if (i) {
        ASSERT_LT(cands[i], cands[i - 1]) << "extent " << e;
      }
      ASSERT_TRUE(counts.insert(ceil_div64(e, cands[i])).second)
          << "extent " << e << ": two candidates, one count";
    }
    for (int t = 1; t <= e; ++t) {
      const int64_t count = ceil_div64(e, t);
      ASSERT_TRUE(counts.count(count)) << "extent " << e << ": count of tile " << t << " missing";
      const int cand = static_cast<int>(ceil_div64(e, count));
      ASSERT_TRUE(std::find(cands.begin(), cands.end(), cand) != cands.end());
      ASSERT_LE(cand, t);
      ASSERT_EQ(ceil_div64(e, cand), count);
      if (cand > 1) {
        ASSERT_GT(ceil_div64(e, cand - 1), count) << "not the smallest tile of its count";
      }
    }
    ASSERT_EQ(cands.front(), e);
    ASSERT_EQ(cands.back(), 1);
  }
}

TEST(Mapper, InputSpan) {
  // 3x3 stride 1 pad 1 over 8 rows: rows 0..3 of the output read rows 0..4.
  EXPECT_EQ(input_span(0, 4, 1, 3, 1, 8), 5);
  EXPECT_EQ(input_span(4, 4, 1, 3, 1, 8), 5);  // rows 3..7 (the bottom padding is not read)
  EXPECT_EQ(input_span(0, 8, 1, 3, 1, 8), 8);
  EXPECT_EQ(input_span(0, 3, 2, 7, 3, 224), 8);  // stem: output row 2 reads rows 1..7
  EXPECT_EQ(input_span(0, 4, 2, 1, 0, 8), 7);    // 1x1 stride 2: rows 0..6
  EXPECT_EQ(input_span(2, 0, 1, 3, 1, 8), 0);
}

struct NamedProblem {
  std::string name;
  MappingProblem p;
};

std::vector<NamedProblem> problem_set() {
  std::vector<NamedProblem> v;
  v.push_back({"3x3 s1 56x56 64->64", conv(64, 64, 56, 56, 3, 1, 2)});
  v.push_back({"3x3 s2 56->28 64->128", conv(64, 128, 28, 28, 3, 2, 2)});
  {
    MappingProblem p = conv(64, 128, 28, 28, 1, 2, 2);  // downsample
    p.in_h = p.in_w = 56;
    v.push_back({"1x1 s2 56->28 64->128", p});
  }
  v.push_back({"1x1 s1 14x14 256->256 4-bit", conv(256, 256, 14, 14, 1, 1, 4)});
  {
    MappingProblem p = conv(512, 1000, 1, 1, 1, 1, 8);  // classifier as int8
    p.out_bits = 8;
    v.push_back({"fc 512->1000 8-bit", p});
  }
  v.push_back({"grouped G=2 28x28 64->64 per group", conv(64, 64, 28, 28, 3, 1, 2, 2)});
  v.push_back({"grouped G=4 7x7 128->128 per group", conv(128, 128, 7, 7, 3, 1, 2, 4)});
  {
    MappingProblem p = conv(3, 64, 112, 112, 7, 2, 8);  // stem
    p.in_h = p.in_w = 224;
    v.push_back({"stem 7x7 s2 224->112 3->64 8-bit", p});
  }
  v.push_back({"13x13 56->56", conv(56, 56, 13, 13, 3, 1, 2)});
  v.push_back({"13x13 56->56 6-bit", conv(56, 56, 13, 13, 3, 1, 6)});
  {
    MappingProblem p = conv(256, 256, 14, 14, 3, 1, 2);  // EWGS block end: residual, activation sum
    p.res_bits = 2;
    p.uniform = true;
    v.push_back({"14x14 256->256 residual uniform", p});
  }
  {
    MappingProblem p = conv(128, 128, 28, 28, 3, 1, 2, 2);  // fused pair, both ends
    p.onchip_output = true;
    p.ibuf_reserved_bits = 28 * 28 * 128 * 2;
    v.push_back({"on-chip producer", p});
    p.onchip_output = false;
    p.onchip_input = true;
    v.push_back({"on-chip consumer", p});
  }
  {
    MappingProblem p = conv(64, 64, 56, 56, 3, 2, 2);  // max pool 3x3 s2 112 -> 56
    p.pool = true;
    p.in_h = p.in_w = 112;
    v.push_back({"maxpool 3x3 s2", p});
  }
  {
    MappingProblem p = conv(64, 64, 14, 14, 3, 1, 2);
    p.batch = 4;
    v.push_back({"batch 4", p});
  }
  return v;
}

TEST(Mapper, ChosenMappingFitsAndCarriesItsEstimate) {
  for (const char* hw_name : {"bitfusion", "bpvec"}) {
    const HwConfig hw = config(hw_name);
    for (const NamedProblem& np : problem_set()) {
      SCOPED_TRACE(std::string(hw_name) + ": " + np.name);
      const Mapping m = find_mapping(hw, np.p, np.name);
      check_chosen(hw, np.p, m);
      // Partial sums never leave OBUF for an on-chip output.
      if (np.p.onchip_output) {
        EXPECT_FALSE(spills(np.p, m)) << m.describe();
      }
    }
  }
}

TEST(Mapper, FusedModesAreUsedWhenTheyHelp) {
  // 8-bit operands on Bit Fusion with the 8-bit mode allowed: one pass in an
  // 8x8 mode beats 16 bit-decomposed passes of the 2-bit mode.
  const HwConfig fused = config("bitfusion", {"array.fusion_bits=[2,4,8]"});
  const HwConfig plain = config("bitfusion");
  const MappingProblem p = conv(256, 256, 14, 14, 3, 1, 8);
  const Mapping a = find_mapping(fused, p, "fused");
  const Mapping b = find_mapping(plain, p, "plain");
  check_chosen(fused, p, a);
  EXPECT_LE(a.estimate.cycles, b.estimate.cycles);
  EXPECT_EQ(b.mode.fa, 2);
}

struct SmallProblem {
  std::string name;
  std::string hw;
  std::vector<std::string> overrides;
  MappingProblem p;
};

// Deliberately small problems (the brute force is exponential in nothing but
// slow in everything); smaller still without optimization.
std::vector<SmallProblem> small_problems() {
  std::vector<SmallProblem> v;
#ifdef NDEBUG
  const bool full = true;
#else
  const bool full = false;
#endif
  // Compute bound, small OBUF: the DMA levels decide (a greedy level choice
  // by least traffic misses the best mapping here).
  v.push_back({"conv 8-bit",
               "bitfusion",
               {"buffers.obuf.size_bytes=1024"},
               full ? conv(8, 24, 5, 5, 3, 1, 8) : conv(4, 12, 3, 3, 3, 1, 8)});
  {
    // Residual and activation sums share a small IBUF with the input; the
    // output stays on chip (no partial-sum spills); five BPVeC groupings.
    MappingProblem p = full ? conv(6, 12, 3, 4, 3, 1, 4) : conv(4, 8, 2, 3, 3, 1, 4);
    p.res_bits = 4;
    p.uniform = true;
    p.onchip_output = true;
    v.push_back({"conv residual uniform on-chip output",
                 "bpvec",
                 {"buffers.ibuf.size_bytes=256", "buffers.obuf.size_bytes=1024"},
                 p});
  }
  {
    MappingProblem p = conv(full ? 12 : 6, full ? 12 : 6, 4, 4, 3, 2, 2);
    p.pool = true;
    p.batch = 2;
    p.in_h = p.in_w = 9;
    p.ph = p.pw = 0;
    v.push_back({"pool batch 2", "bitfusion", {"buffers.obuf.size_bytes=128"}, p});
  }
  return v;
}

TEST(Mapper, BruteForceFindsNothingBetter) {
  for (const SmallProblem& sp : small_problems()) {
    SCOPED_TRACE(sp.name);
    const HwConfig hw = config(sp.hw, sp.overrides);
    const MappingProblem& p = sp.p;
    const Mapping chosen = find_mapping(hw, p, sp.name);
    check_chosen(hw, p, chosen);
    const TileFootprint cap = tile_capacity(hw, p);
    int64_t fitting = 0, better = 0, not_monotone = 0;
    Mapping best_found;
    best_found.estimate.cycles = std::numeric_limits<int64_t>::max();
    double best_energy_same_cycles = std::numeric_limits<double>::infinity();
    for_each_fitting_mapping(hw, p, every_size, [&](const Mapping& m) {
      ++fitting;
      // The candidate with the same tile counts fits too.
      Mapping rounded = m;
      rounded.n_t = static_cast<int>(ceil_div64(p.batch, ceil_div64(p.batch, m.n_t)));
      rounded.h_t = static_cast<int>(ceil_div64(p.out_h, ceil_div64(p.out_h, m.h_t)));
      rounded.w_t = static_cast<int>(ceil_div64(p.out_w, ceil_div64(p.out_w, m.w_t)));
      rounded.m_t = static_cast<int>(ceil_div64(p.cout_g, ceil_div64(p.cout_g, m.m_t)));
      const int ce = loop_extent(p, LoopDim::kC);
      rounded.c_t = static_cast<int>(ceil_div64(ce, ceil_div64(ce, m.c_t)));
      if (!fits(tile_footprint(hw, p, rounded), cap)) ++not_monotone;
      const MappingEstimate e = estimate_mapping(hw, p, m);
      if (e.cycles < chosen.estimate.cycles) ++better;
      if (e.cycles < best_found.estimate.cycles) {
        best_found = m;
        best_found.estimate = e;
      }
      if (e.cycles == chosen.estimate.cycles && m.n_t == rounded.n_t && m.h_t == rounded.h_t &&
          m.w_t == rounded.w_t && m.m_t == rounded.m_t && m.c_t == rounded.c_t) {
        best_energy_same_cycles = std::min(best_energy_same_cycles, e.energy_pj);
      }
    });
    EXPECT_GT(fitting, 1000);
    EXPECT_EQ(better, 0) << "the mapper chose " << chosen.describe() << " ("
                         << chosen.estimate.cycles << " cycles); " << best_found.describe()
                         << " takes " << best_found.estimate.cycles;
    EXPECT_EQ(not_monotone, 0);
    // Ties in cycles go to the lower energy (among the searched tile sizes).
    EXPECT_GE(best_energy_same_cycles, chosen.estimate.energy_pj * (1 - 1e-9));
  }
}

// The DMA levels of the chosen tiling and order: no other combination of
// levels is better (a direct check of the level search on realistic layers).
TEST(Mapper, NoOtherDmaLevelsBeatTheChosenOnes) {
  for (const char* hw_name : {"bitfusion", "bpvec"}) {
    const HwConfig hw = config(hw_name);
    for (const NamedProblem& np : problem_set()) {
      SCOPED_TRACE(std::string(hw_name) + ": " + np.name);
      const Mapping chosen = find_mapping(hw, np.p, np.name);
      const TileFootprint cap = tile_capacity(hw, np.p);
      for (const auto& order : all_orders()) {
        Mapping m = chosen;
        m.order = order;
        for (int li = 0; li <= kLoopDims; ++li) {
          for (int lw = 0; lw <= kLoopDims; ++lw) {
            for (int lo = 0; lo <= kLoopDims; ++lo) {
              m.level = {li, np.p.pool ? chosen.level[1] : lw, lo};
              if (!allowed(hw, np.p, m, cap)) continue;
              const MappingEstimate e = estimate_mapping(hw, np.p, m);
              ASSERT_GE(e.cycles, chosen.estimate.cycles) << m.describe();
            }
          }
        }
      }
    }
  }
}

TEST(Mapper, NonPowerOfTwoTilesWhenBetter) {
  // 13x13 maps and 56 channels: the best balanced tiling (13 rows, 28 output
  // channels, ...) beats every power-of-two tiling (with the full extent
  // allowed) in every order, mode and level.
  const HwConfig hw = config("bitfusion");
  const MappingProblem p = conv(56, 56, 13, 13, 3, 1, 2);
  const Mapping chosen = find_mapping(hw, p, "odd");
  check_chosen(hw, p, chosen);
  bool non_power = false;
  for (int d = 0; d < kLoopDims; ++d) {
    const int t = chosen.tile(static_cast<LoopDim>(d));
    non_power = non_power || (!is_power_of_two(t) && t < loop_extent(p, static_cast<LoopDim>(d)));
  }
  EXPECT_TRUE(non_power) << chosen.describe();
  int64_t best_pow2 = std::numeric_limits<int64_t>::max();
  for_each_fitting_mapping(hw, p, powers_of_two, [&](const Mapping& m) {
    best_pow2 = std::min(best_pow2, estimate_mapping(hw, p, m).cycles);
  });
  EXPECT_LT(chosen.estimate.cycles, best_pow2) << chosen.describe();
}

TEST(Mapper, NothingFitsIsAnInputErrorNamingOpAndBuffers) {
  // A 7x7 8-bit kernel needs 392 weight bits; a 64-byte WBUF holds 256 per half.
  const HwConfig hw = config("bitfusion", {"buffers.wbuf.size_bytes=64"});
  MappingProblem p = conv(3, 64, 112, 112, 7, 2, 8);
  p.in_h = p.in_w = 224;
  try {
    find_mapping(hw, p, "stem.conv1");
    ADD_FAILURE() << "a mapping was found";
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "stem.conv1");
    EXPECT_CONTAINS(e.what(), "IBUF 32768 B");
    EXPECT_CONTAINS(e.what(), "WBUF 64 B");
    EXPECT_CONTAINS(e.what(), "OBUF 16384 B");
    EXPECT_CONTAINS(e.what(), hw.name);
  }
  // The same kernel fits a 128-byte WBUF (512 bits per half).
  const HwConfig bigger = config("bitfusion", {"buffers.wbuf.size_bytes=128"});
  check_chosen(bigger, p, find_mapping(bigger, p, "stem.conv1"));

  // An on-chip region that takes the whole IBUF leaves no room for anything.
  const HwConfig full = config("bitfusion");
  MappingProblem q = conv(64, 64, 8, 8, 3, 1, 2);
  q.ibuf_reserved_bits = full.ibuf.size_bytes * 8;
  q.res_bits = 2;
  try {
    find_mapping(full, q, "layer2.0.conv2");
    ADD_FAILURE() << "a mapping was found";
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "layer2.0.conv2");
    EXPECT_CONTAINS(e.what(), "32768 B of IBUF held on chip");
  }
  // The smallest OBUF (64 bytes) still holds 8 accumulators per half: enough
  // for a tile of one output position and up to 8 channels.
  const HwConfig tiny_obuf = config("bitfusion", {"buffers.obuf.size_bytes=64"});
  const MappingProblem r = conv(64, 64, 8, 8, 3, 1, 2);
  const Mapping m = find_mapping(tiny_obuf, r, "x");
  check_chosen(tiny_obuf, r, m);
  EXPECT_LE(static_cast<int64_t>(m.h_t) * m.w_t * m.m_t, 8) << m.describe();
}

TEST(Mapper, ProblemKeyNamesEveryField) {
  const MappingProblem base = conv(16, 32, 8, 8, 3, 1, 2);
  std::vector<MappingProblem> variants(28, base);
  int i = 0;
  variants[i++].pool = true;
  variants[i++].groups = 2;
  variants[i++].batch = 2;
  variants[i++].cin_g = 17;
  variants[i++].cout_g = 33;
  variants[i++].in_h = 9;
  variants[i++].in_w = 9;
  variants[i++].out_h = 7;
  variants[i++].out_w = 7;
  variants[i++].kh = 1;
  variants[i++].kw = 1;
  variants[i++].sh = 2;
  variants[i++].sw = 2;
  variants[i++].ph = 0;
  variants[i++].pw = 0;
  variants[i++].a_bits = 4;
  variants[i++].w_bits = 4;
  variants[i++].in_bits = 4;
  variants[i++].out_bits = 4;
  variants[i++].res_bits = 2;
  variants[i++].uniform = true;
  variants[i++].onchip_input = true;
  variants[i++].onchip_output = true;
  variants[i++].ibuf_reserved_bits = 8;
  variants[i++].in_rotate = 1;
  variants[i++].pack = 2;
  variants[i++].dh = 2;
  variants[i++].dw = 2;
  ASSERT_EQ(i, 28);
  std::set<std::string> keys = {base.key()};
  for (const MappingProblem& v : variants) EXPECT_TRUE(keys.insert(v.key()).second) << v.key();
}

// The mapper ranks candidates by the energy the statistics report: under the
// public simulator's per-MAC SRAM accounting an estimate charges every chunk
// product an IBUF read and an OBUF partial-sum read and write (the old mapper
// had its own copy of the formula and ignored the accounting).
TEST(Mapper, EstimateChargesTheConfiguredSramAccounting) {
  const HwConfig array = config("bitfusion");
  const HwConfig per_mac = config("bitfusion", {"energy.sram_accounting=per_mac"});
  const MappingProblem p = conv(64, 64, 14, 14, 3, 1, 8);
  const Mapping m = find_mapping(array, p, "conv");
  const double e_array = estimate_mapping(array, p, m).energy_pj;
  const double e_per_mac = estimate_mapping(per_mac, p, m).energy_pj;
  // 8-bit operands: 16 chunk products per MAC, each with a 32-bit partial
  // sum read and written in OBUF (0.033 + 0.073 pJ/bit).
  const double macs = 64.0 * 64 * 14 * 14 * 9;
  EXPECT_GT(e_per_mac - e_array, macs * 16 * 32 * (0.033 + 0.073) * 0.99);
  EXPECT_EQ(estimate_mapping(array, p, m).cycles, estimate_mapping(per_mac, p, m).cycles);
}

}  // namespace
}  // namespace palsim::frontend
