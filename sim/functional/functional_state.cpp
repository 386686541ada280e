#include "sim/functional/functional_state.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "frontend/mapping/tensor_layout.h"
#include "kernels/requantize.h"

namespace palsim::sim {

using frontend::physical_channel;

using isa::Reg;

namespace {
bool same_box(const Box& a, const Box& b) {
  return a.n0 == b.n0 && a.n == b.n && a.c0 == b.c0 && a.c == b.c && a.h0 == b.h0 && a.h == b.h &&
         a.w0 == b.w0 && a.w == b.w;
}
bool inside(const Box& in, const Box& out) {
  return in.n0 >= out.n0 && in.n0 + in.n <= out.n0 + out.n && in.c0 >= out.c0 &&
         in.c0 + in.c <= out.c0 + out.c && in.h0 >= out.h0 && in.h0 + in.h <= out.h0 + out.h &&
         in.w0 >= out.w0 && in.w0 + in.w <= out.w0 + out.w;
}

// The channel view registers of a layer's input, output or residual (isa.h).
struct ChannelView {
  int total = 0, offset = 0, stride = 1;
  int stored(int logical) const { return total > 0 ? offset + stride * logical : logical; }
};
ChannelView view_of(const LayerRegisters& L, Reg total, Reg offset, Reg stride) {
  return ChannelView{static_cast<int>(L.get(total)), static_cast<int>(L.get(offset)),
                     static_cast<int>(L.get(stride))};
}
ChannelView in_view(const LayerRegisters& L) {
  return view_of(L, Reg::kInCTotal, Reg::kInCOffset, Reg::kInCStride);
}
ChannelView out_view(const LayerRegisters& L) {
  return view_of(L, Reg::kOutCTotal, Reg::kOutCOffset, Reg::kOutCStride);
}
ChannelView res_view(const LayerRegisters& L) {
  return view_of(L, Reg::kResCTotal, Reg::kResCOffset, Reg::kResCStride);
}
}  // namespace

FunctionalState::FunctionalState(const frontend::HwConfig& hw, const isa::Program& program,
                                 const frontend::IntegerModel& model)
    : hw_(hw), program_(program), model_(model), layers_(decode_layers(program)) {
  const auto& info = program.info;
  for (size_t t = 0; t < info.tensors.size(); ++t) {
    const auto& ti = info.tensors[t];
    if (ti.view_of >= 0) {
      tensors_.emplace_back();  // a view: its values live in its owner
      continue;
    }
    tensors_.emplace_back(ti.batch, ti.c, ti.h, ti.w, 0);
    tensor_by_addr_[static_cast<int64_t>(ti.dram_bit)] = static_cast<int>(t);
  }
  if (info.input_tensor >= 0) {
    if (static_cast<size_t>(info.input_tensor) >= tensors_.size()) {
      throw InputError("detailed simulation: the program's input tensor does not exist");
    }
    const kernels::IntTensor& in = model.input;
    if (info.tensors[static_cast<size_t>(info.input_tensor)].view_of >= 0) {
      throw InputError("detailed simulation: the program's input tensor is a channel view");
    }
    if (!in.same_shape(tensors_[static_cast<size_t>(info.input_tensor)])) {
      throw InputError(
          "detailed simulation: the model's input does not have the shape of the program's input "
          "tensor");
    }
    tensors_[static_cast<size_t>(info.input_tensor)] = in;
  }
  if (model.ops.size() != info.ops.size()) {
    throw InputError(fmt::format("detailed simulation: the model has {} operations, the program {}",
                                 model.ops.size(), info.ops.size()));
  }
  check_layers();
  psum_acc_.resize(info.ops.size());
  psum_asum_.resize(info.ops.size());
  const size_t slots = 2;
  ibuf_in_.resize(slots);
  ibuf_res_.resize(slots);
  wbuf_.resize(slots);
  obuf_.resize(slots);
}

// Every layer's registers against the tensors and weights they name: a
// program that disagrees is rejected before any value moves (not a read or
// write outside a tensor later).
void FunctionalState::check_layers() const {
  const auto& info = program_.info;
  if (layers_.size() != info.ops.size()) {
    throw InputError(fmt::format("detailed simulation: the program has {} layers and {} operations",
                                 layers_.size(), info.ops.size()));
  }
  for (size_t op = 0; op < layers_.size(); ++op) {
    const LayerRegisters& L = layers_[op];
    auto check_tensor = [&](Reg addr, const char* what, int64_t c, int64_t h, int64_t w,
                            const ChannelView& v) {
      auto it = tensor_by_addr_.find(L.get(addr));
      if (it == tensor_by_addr_.end()) {
        throw InputError(fmt::format(
            "detailed simulation: layer {}: its {} register points at no tensor", op, what));
      }
      const kernels::IntTensor& t = tensors_[static_cast<size_t>(it->second)];
      if (v.total > 0) {
        // A view: the tensor at the address has the view's total channels,
        // and the view lies inside it.
        if (v.offset < 0 || v.stride < 1 ||
            v.offset + static_cast<int64_t>(v.stride) * (c - 1) >= v.total) {
          throw InputError(fmt::format(
              "detailed simulation: layer {}: its {} channel view lies outside {} channels", op,
              what, v.total));
        }
        c = v.total;
      }
      if (t.n() != L.get(Reg::kBatch) || t.c() != c || t.h() != h || t.w() != w) {
        throw InputError(fmt::format(
            "detailed simulation: layer {}: its {} registers say {}x{}x{}x{}, the tensor '{}' is "
            "{}x{}x{}x{}",
            op, what, L.get(Reg::kBatch), c, h, w,
            info.tensors[static_cast<size_t>(it->second)].name, t.n(), t.c(), t.h(), t.w()));
      }
    };
    check_tensor(Reg::kInAddr, "input", L.get(Reg::kInC), L.get(Reg::kInH), L.get(Reg::kInW),
                 in_view(L));
    check_tensor(Reg::kOutAddr, "output", L.get(Reg::kOutC), L.get(Reg::kOutH), L.get(Reg::kOutW),
                 out_view(L));
    if (L.get(Reg::kFlags) & isa::kFlagResidual) {
      check_tensor(Reg::kResAddr, "residual", L.get(Reg::kOutC), L.get(Reg::kOutH),
                   L.get(Reg::kOutW), res_view(L));
    }
    if (L.kind == isa::LayerKind::kConv) {
      const kernels::IntTensor& w = model_.ops[op].weights;
      const int64_t groups = std::max<int64_t>(1, L.get(Reg::kGroups));
      if (w.n() != L.get(Reg::kOutC) || w.c() != L.get(Reg::kInC) / groups ||
          w.h() != L.get(Reg::kKernelH) || w.w() != L.get(Reg::kKernelW)) {
        throw InputError(
            fmt::format("detailed simulation: layer {}: the model's weights are {}x{}x{}x{}, the "
                        "registers say {}x{}x{}x{}",
                        op, w.n(), w.c(), w.h(), w.w(), L.get(Reg::kOutC),
                        L.get(Reg::kInC) / groups, L.get(Reg::kKernelH), L.get(Reg::kKernelW)));
      }
    }
  }
}

int FunctionalState::tensor_at(int64_t dram_bit) const {
  auto it = tensor_by_addr_.find(dram_bit);
  if (it == tensor_by_addr_.end())
    throw InternalError(fmt::format("no tensor at DRAM bit {}", dram_bit));
  return it->second;
}

kernels::IntTensor FunctionalState::tensor(int id) const {
  const isa::TensorInfo& ti = program_.info.tensors.at(static_cast<size_t>(id));
  if (ti.view_of < 0) return tensors_[static_cast<size_t>(id)];
  const kernels::IntTensor& owner = tensors_.at(static_cast<size_t>(ti.view_of));
  kernels::IntTensor v(owner.n(), ti.c, owner.h(), owner.w());
  for (int n = 0; n < v.n(); ++n)
    for (int c = 0; c < v.c(); ++c)
      for (int y = 0; y < v.h(); ++y)
        for (int x = 0; x < v.w(); ++x)
          v.at(n, c, y, x) = owner.at(n, ti.view_offset + ti.view_stride * c, y, x);
  return v;
}

void FunctionalState::load(const Job& j) {
  const LayerRegisters& L = layer(j.op);
  const Box& b = j.box;
  switch (j.transfer) {
    case Transfer::kInput: {
      const kernels::IntTensor& t = tensors_[static_cast<size_t>(tensor_at(L.get(Reg::kInAddr)))];
      const ChannelView view = in_view(L);
      ActTile& tile = ibuf_in_.at(static_cast<size_t>(j.slot));
      tile.box = b;
      tile.v.resize(static_cast<size_t>(b.elements()));
      size_t k = 0;
      for (int n = b.n0; n < b.n0 + b.n; ++n)
        for (int c = b.c0; c < b.c0 + b.c; ++c) {
          const int stored = view.stored(c);
          for (int y = b.h0; y < b.h0 + b.h; ++y)
            for (int x = b.w0; x < b.w0 + b.w; ++x) tile.v[k++] = t.at(n, stored, y, x);
        }
      return;
    }
    case Transfer::kResidual: {
      const kernels::IntTensor& t = tensors_[static_cast<size_t>(tensor_at(L.get(Reg::kResAddr)))];
      const int shuffle = static_cast<int>(L.get(Reg::kOutShuffle));
      const int channels = static_cast<int>(L.get(Reg::kOutC));
      const ChannelView view = res_view(L);
      ActTile& tile = ibuf_res_.at(static_cast<size_t>(j.slot));
      tile.box = b;
      tile.v.resize(static_cast<size_t>(b.elements()));
      size_t k = 0;
      for (int n = b.n0; n < b.n0 + b.n; ++n)
        for (int c = b.c0; c < b.c0 + b.c; ++c) {
          const int p = view.stored(physical_channel(c, channels, shuffle));
          for (int y = b.h0; y < b.h0 + b.h; ++y)
            for (int x = b.w0; x < b.w0 + b.w; ++x) tile.v[k++] = t.at(n, p, y, x);
        }
      return;
    }
    case Transfer::kWeight: {
      const kernels::IntTensor& w = model_.ops.at(static_cast<size_t>(j.op)).weights;
      WeightTile& tile = wbuf_.at(static_cast<size_t>(j.slot));
      tile.m0 = j.weights.m0;
      tile.m = j.weights.m;
      tile.c0 = j.weights.c0;
      tile.c = j.weights.c;
      tile.kh = w.h();
      tile.kw = w.w();
      tile.v.resize(static_cast<size_t>(tile.m) * tile.c * tile.kh * tile.kw);
      size_t k = 0;
      for (int m = tile.m0; m < tile.m0 + tile.m; ++m)
        for (int c = tile.c0; c < tile.c0 + tile.c; ++c)
          for (int ky = 0; ky < tile.kh; ++ky)
            for (int kx = 0; kx < tile.kw; ++kx) tile.v[k++] = w.at(m, c, ky, kx);
      return;
    }
    case Transfer::kPsumLoad: {
      AccTile& tile = obuf_.at(static_cast<size_t>(j.slot));
      const auto& acc = psum_acc_.at(static_cast<size_t>(j.op));
      const auto& asum = psum_asum_.at(static_cast<size_t>(j.op));
      if (acc.empty()) throw InternalError("partial sums reloaded before any were spilled");
      const int C = static_cast<int>(L.get(Reg::kOutC)), H = static_cast<int>(L.get(Reg::kOutH)),
                W = static_cast<int>(L.get(Reg::kOutW));
      tile.box = b;
      tile.acc.assign(static_cast<size_t>(b.elements()), 0);
      tile.asum.assign(static_cast<size_t>(b.n) * b.h * b.w, 0);
      tile.result.clear();
      size_t k = 0;
      for (int n = b.n0; n < b.n0 + b.n; ++n)
        for (int c = b.c0; c < b.c0 + b.c; ++c)
          for (int y = b.h0; y < b.h0 + b.h; ++y)
            for (int x = b.w0; x < b.w0 + b.w; ++x)
              tile.acc[k++] = acc[((static_cast<size_t>(n) * C + c) * H + y) * W + x];
      k = 0;
      for (int n = b.n0; n < b.n0 + b.n; ++n)
        for (int y = b.h0; y < b.h0 + b.h; ++y)
          for (int x = b.w0; x < b.w0 + b.w; ++x)
            tile.asum[k++] = asum[((static_cast<size_t>(n) * C + b.c0) * H + y) * W + x];
      return;
    }
    default:
      throw InternalError("load of a store transfer");
  }
}

void FunctionalState::store(const Job& j) {
  const LayerRegisters& L = layer(j.op);
  const AccTile& tile = obuf_.at(static_cast<size_t>(j.slot));
  const Box& b = j.box;
  if (j.transfer == Transfer::kOutput) {
    kernels::IntTensor& t = tensors_[static_cast<size_t>(tensor_at(L.get(Reg::kOutAddr)))];
    const int shuffle = static_cast<int>(L.get(Reg::kOutShuffle));
    const int channels = static_cast<int>(L.get(Reg::kOutC));
    const ChannelView view = out_view(L);
    if (!same_box(tile.box, b) || tile.result.size() != static_cast<size_t>(b.elements())) {
      throw InternalError(
          fmt::format("op {}: store of an output tile the OBUF slot does not hold", j.op));
    }
    size_t k = 0;
    for (int n = b.n0; n < b.n0 + b.n; ++n)
      for (int c = b.c0; c < b.c0 + b.c; ++c) {
        const int p = view.stored(physical_channel(c, channels, shuffle));
        for (int y = b.h0; y < b.h0 + b.h; ++y)
          for (int x = b.w0; x < b.w0 + b.w; ++x) t.at(n, p, y, x) = tile.result[k++];
      }
    return;
  }
  if (j.transfer != Transfer::kPsumStore) throw InternalError("store of a load transfer");
  const int C = static_cast<int>(L.get(Reg::kOutC)), H = static_cast<int>(L.get(Reg::kOutH)),
            W = static_cast<int>(L.get(Reg::kOutW));
  const int N = static_cast<int>(L.get(Reg::kBatch));
  if (!same_box(tile.box, b) || tile.acc.size() != static_cast<size_t>(b.elements())) {
    throw InternalError(
        fmt::format("op {}: partial-sum store of a tile the OBUF slot does not hold", j.op));
  }
  auto& acc = psum_acc_.at(static_cast<size_t>(j.op));
  auto& asum = psum_asum_.at(static_cast<size_t>(j.op));
  if (acc.empty()) {
    acc.assign(static_cast<size_t>(N) * C * H * W, 0);
    asum.assign(static_cast<size_t>(N) * C * H * W, 0);
  }
  size_t k = 0;
  for (int n = b.n0; n < b.n0 + b.n; ++n)
    for (int c = b.c0; c < b.c0 + b.c; ++c)
      for (int y = b.h0; y < b.h0 + b.h; ++y)
        for (int x = b.w0; x < b.w0 + b.w; ++x)
          acc[((static_cast<size_t>(n) * C + c) * H + y) * W + x] = tile.acc[k++];
  k = 0;
  for (int n = b.n0; n < b.n0 + b.n; ++n)
    for (int y = b.h0; y < b.h0 + b.h; ++y)
      for (int x = b.w0; x < b.w0 + b.w; ++x)
        asum[((static_cast<size_t>(n) * C + b.c0) * H + y) * W + x] = tile.asum[k++];
}

void FunctionalState::open_accumulators(const Job& j) {
  AccTile& tile = obuf_.at(static_cast<size_t>(j.o_slot));
  const Box& run = j.acc_box;
  if (!inside(j.out_box, run)) {
    throw InternalError(fmt::format("op {}: a compute tile outside its output tile", j.op));
  }
  if (j.opens_tile) {
    tile.box = run;
    tile.acc.assign(static_cast<size_t>(run.elements()), 0);
    tile.asum.assign(static_cast<size_t>(run.n) * run.h * run.w, 0);
    tile.result.clear();
    return;
  }
  if (!same_box(tile.box, run) || tile.acc.size() != static_cast<size_t>(run.elements())) {
    throw InternalError(
        fmt::format("op {}: accumulating into an OBUF slot that holds another tile", j.op));
  }
}

const ActTile& FunctionalState::input_tile(const Job& j) const {
  if (j.region >= 0) {
    auto it = regions_.find(j.region);
    if (it == regions_.end())
      throw InternalError(fmt::format("op {}: on-chip region not written yet", j.op));
    return it->second;
  }
  return ibuf_in_.at(static_cast<size_t>(j.in_slot));
}

int32_t FunctionalState::activation(const Job& j, int n, int c, int y, int x) const {
  const LayerRegisters& L = layer(j.op);
  if (y < 0 || x < 0 || y >= L.get(Reg::kInH) || x >= L.get(Reg::kInW)) return 0;
  const ActTile* tile = nullptr;
  if (j.region >= 0) {
    auto it = regions_.find(j.region);
    if (it == regions_.end())
      throw InternalError(fmt::format("op {}: on-chip region not written yet", j.op));
    tile = &it->second;
  } else {
    tile = &ibuf_in_.at(static_cast<size_t>(j.in_slot));
  }
  if (!tile->covers(n, c, y, x)) {
    throw InternalError(
        fmt::format("op {}: the IBUF tile does not hold input ({}, {}, {}, {})", j.op, n, c, y, x));
  }
  return tile->at(n, c, y, x);
}

void FunctionalState::post_process(const Job& j) {
  const LayerRegisters& L = layer(j.op);
  const kernels::RequantParams& rq = model_.ops.at(static_cast<size_t>(j.op)).requant;
  const Box& b = j.out_box;
  AccTile& out = obuf_.at(static_cast<size_t>(j.o_slot));
  if (L.kind != isa::LayerKind::kConv) {
    const ActTile& in = ibuf_in_.at(static_cast<size_t>(j.in_slot));
    const int kh = static_cast<int>(L.get(Reg::kKernelH)),
              kw = static_cast<int>(L.get(Reg::kKernelW));
    const int sh = static_cast<int>(L.get(Reg::kStrideH)),
              sw = static_cast<int>(L.get(Reg::kStrideW));
    const int ph = static_cast<int>(L.get(Reg::kPadH)), pw = static_cast<int>(L.get(Reg::kPadW));
    const int H = static_cast<int>(L.get(Reg::kInH)), W = static_cast<int>(L.get(Reg::kInW));
    if (j.opens_tile) {
      out.box = j.acc_box;
      out.acc.clear();
      out.asum.clear();
      out.result.assign(static_cast<size_t>(j.acc_box.elements()), 0);
    }
    if (!same_box(out.box, j.acc_box) ||
        out.result.size() != static_cast<size_t>(out.box.elements()) || !inside(b, out.box)) {
      throw InternalError(
          fmt::format("op {}: pool results for an output tile the OBUF slot does not hold", j.op));
    }
    for (int n = b.n0; n < b.n0 + b.n; ++n)
      for (int c = b.c0; c < b.c0 + b.c; ++c)
        for (int y = b.h0; y < b.h0 + b.h; ++y)
          for (int x = b.w0; x < b.w0 + b.w; ++x) {
            int64_t sum = 0;
            int32_t best = 0;
            bool any = false;
            for (int ky = 0; ky < kh; ++ky)
              for (int kx = 0; kx < kw; ++kx) {
                const int iy = y * sh - ph + ky, ix = x * sw - pw + kx;
                if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
                const int32_t v = in.at(n, c, iy, ix);
                sum += v;
                best = any ? std::max(best, v) : v;
                any = true;
              }
            // A max pool keeps the largest value; a copy (a 1x1 window) the value itself.
            const bool keep = L.kind == isa::LayerKind::kMaxPool || L.kind == isa::LayerKind::kCopy;
            out.result[out.index(n, c, y, x)] =
                keep ? best : kernels::requantize_element(sum, 0, c, rq);
          }
    return;
  }
  const bool uniform = L.get(Reg::kFlags) & isa::kFlagActivationSum;
  const bool residual = L.get(Reg::kFlags) & isa::kFlagResidual;
  const int w_bits = static_cast<int>(L.get(Reg::kWBits));
  const ActTile* res = residual ? &ibuf_res_.at(static_cast<size_t>(j.r_slot)) : nullptr;
  if (!same_box(out.box, b) || out.acc.size() != static_cast<size_t>(b.elements())) {
    throw InternalError(
        fmt::format("op {}: post-processing of an output tile the OBUF slot does not hold", j.op));
  }
  if (res && !inside(b, res->box)) {
    throw InternalError(
        fmt::format("op {}: the residual tile does not cover the output tile", j.op));
  }
  std::vector<int32_t> result(static_cast<size_t>(b.elements()));
  size_t k = 0;
  for (int n = b.n0; n < b.n0 + b.n; ++n)
    for (int c = b.c0; c < b.c0 + b.c; ++c)
      for (int y = b.h0; y < b.h0 + b.h; ++y)
        for (int x = b.w0; x < b.w0 + b.w; ++x) {
          int64_t acc = out.acc[k];
          if (uniform) {
            const size_t pix =
                (static_cast<size_t>(n - b.n0) * b.h + (y - b.h0)) * b.w + (x - b.w0);
            acc = kernels::palquant_correction(acc, out.asum[pix], w_bits);
          }
          const int32_t r = res ? res->at(n, c, y, x) : 0;
          result[k++] = kernels::requantize_element(acc, r, c, rq);
        }
  if (!j.post_to_region) {
    out.result = std::move(result);
    return;
  }
  ActTile& region = regions_[j.region];
  const int cout_g = static_cast<int>(L.get(Reg::kOutC) / L.get(Reg::kGroups));
  const Box whole{0,
                  static_cast<int>(L.get(Reg::kBatch)),
                  j.group * cout_g,
                  cout_g,
                  0,
                  static_cast<int>(L.get(Reg::kOutH)),
                  0,
                  static_cast<int>(L.get(Reg::kOutW))};
  if (region.box.c0 != whole.c0 || region.v.size() != static_cast<size_t>(whole.elements())) {
    region.box = whole;
    region.v.assign(static_cast<size_t>(whole.elements()), 0);
  }
  k = 0;
  for (int n = b.n0; n < b.n0 + b.n; ++n)
    for (int c = b.c0; c < b.c0 + b.c; ++c)
      for (int y = b.h0; y < b.h0 + b.h; ++y)
        for (int x = b.w0; x < b.w0 + b.w; ++x) {
          region.v[((static_cast<size_t>(n) * whole.c + (c - whole.c0)) * whole.h + y) * whole.w +
                   x] = result[k++];
        }
}

}  // namespace palsim::sim
