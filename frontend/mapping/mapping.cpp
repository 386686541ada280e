#include "frontend/mapping/mapping.h"

#include <fmt/format.h>

#include <algorithm>

namespace palsim::frontend {

char loop_dim_letter(LoopDim d) {
  return "NHWMC"[static_cast<int>(d)];
}

int64_t ceil_div64(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

std::vector<int> tile_candidates(int extent) {
  std::vector<int> out;
  for (int k = 1; k <= extent; ++k) {
    const int t = static_cast<int>(ceil_div64(extent, k));
    if (out.empty() || out.back() != t) out.push_back(t);
  }
  return out;
}

int64_t input_span(int64_t o0, int64_t n, int stride, int kernel, int pad, int in_extent) {
  if (n <= 0) return 0;
  const int64_t lo = std::max<int64_t>(0, o0 * stride - pad);
  const int64_t hi = std::min<int64_t>(in_extent - 1, (o0 + n - 1) * stride - pad + kernel - 1);
  return hi >= lo ? hi - lo + 1 : 0;
}

// The key names every field (mapping caches are keyed by it; a field left
// out would return a stale mapping). A new field changes the size: add it to
// the key and to Mapper.ProblemKeyNamesEveryField, then update the size here.
static_assert(sizeof(MappingProblem) == 112,
              "a MappingProblem field was added or removed: update key()");

std::string MappingProblem::key() const {
  return fmt::format(
      "{}|pk{}r{}|g{}|n{}|c{}>{}|{}x{}>{}x{}|k{}x{}|s{}x{}|p{}x{}|d{}x{}|a{}w{}|i{}o{}r{}|u{}|oi{}"
      "oo{}|rv{"
      "}",
      pool, pack, in_rotate, groups, batch, cin_g, cout_g, in_h, in_w, out_h, out_w, kh, kw, sh, sw,
      ph, pw, dh, dw, a_bits, w_bits, in_bits, out_bits, res_bits, uniform, onchip_input,
      onchip_output, ibuf_reserved_bits);
}

int Mapping::tile(LoopDim d) const {
  switch (d) {
    case LoopDim::kN:
      return n_t;
    case LoopDim::kH:
      return h_t;
    case LoopDim::kW:
      return w_t;
    case LoopDim::kM:
      return m_t;
    case LoopDim::kC:
      return c_t;
  }
  return 1;
}

std::string Mapping::order_string() const {
  std::string s;
  for (LoopDim d : order) s += loop_dim_letter(d);
  return s;
}

std::string Mapping::describe() const {
  return fmt::format("{}tiles N{} H{} W{} M{} C{}, order {}, DMA levels in/wt/out {}/{}/{}, {}",
                     pack > 1 ? fmt::format("{} groups packed, ", pack) : "", n_t, h_t, w_t, m_t,
                     c_t, order_string(), level[0], level[1], level[2], mode.describe());
}

}  // namespace palsim::frontend
