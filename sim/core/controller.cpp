#include "sim/core/controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "frontend/mapping/tensor_layout.h"
#include "frontend/util/error.h"

namespace palsim::sim {

using frontend::box_accesses;
using frontend::TensorLayout;
using frontend::weight_accesses;

const char* engine_name(Engine e) {
  switch (e) {
    case Engine::kLoad:
      return "dma-load";
    case Engine::kStore:
      return "dma-store";
    case Engine::kArray:
      return "array";
    case Engine::kPpu:
      return "ppu";
  }
  return "?";
}

const char* transfer_name(Transfer t) {
  switch (t) {
    case Transfer::kInput:
      return "input";
    case Transfer::kWeight:
      return "weight";
    case Transfer::kPsumLoad:
      return "psum-load";
    case Transfer::kResidual:
      return "residual";
    case Transfer::kOutput:
      return "output";
    case Transfer::kPsumStore:
      return "psum-store";
  }
  return "?";
}

namespace {

using isa::Dim;
using isa::Opcode;
using isa::Reg;
constexpr uint32_t kNone = 0xffffffffu;

// A double-buffered buffer as a ring of slots; each remembers the job after
// which its current contents may be overwritten.
class SlotRing {
 public:
  explicit SlotRing(int slots = 2) : last_(static_cast<size_t>(slots), kNone) {}
  // Returns the job the new occupant must wait for (kNone: free).
  uint32_t acquire() {
    current_ = next_;
    next_ = (next_ + 1) % last_.size();
    const uint32_t wait = last_[current_];
    last_[current_] = kNone;
    return wait;
  }
  int current() const { return static_cast<int>(current_); }
  // `job` uses (or frees) the current occupant's slot.
  void use(uint32_t job) {
    if (last_[current_] == kNone || job > last_[current_]) last_[current_] = job;
  }

 private:
  std::vector<uint32_t> last_;
  size_t current_ = 0, next_ = 0;
};

struct LoopState {
  Dim dim;
  int64_t index;
  int64_t trips;
};

class Expander {
 public:
  Expander(const frontend::HwConfig& hw, const isa::Program& p)
      : hw_(hw),
        p_(p),
        ibuf_in_(hw.ibuf.double_buffered ? 2 : 1),
        ibuf_res_(hw.ibuf.double_buffered ? 2 : 1),
        wbuf_(hw.wbuf.double_buffered ? 2 : 1),
        obuf_(hw.obuf.double_buffered ? 2 : 1) {}

  JobList run() {
    match_loops();
    exec(0, p_.code.size());
    return std::move(out_);
  }

 private:
  [[noreturn]] void bad(size_t pc, const std::string& why) const {
    throw InputError(
        fmt::format("program instruction {} ({}): {}", pc, isa::disassemble(p_.code[pc]), why));
  }

  void match_loops() {
    end_of_.assign(p_.code.size(), 0);
    std::vector<size_t> stack;
    for (size_t pc = 0; pc < p_.code.size(); ++pc) {
      const Opcode op = p_.code[pc].opcode;
      if (op == Opcode::kLoop) stack.push_back(pc);
      if (op == Opcode::kEndLoop) {
        if (stack.empty()) bad(pc, "ENDLOOP without LOOP");
        end_of_[stack.back()] = pc;
        stack.pop_back();
      }
    }
    if (!stack.empty()) bad(stack.back(), "LOOP without ENDLOOP");
  }

  int64_t reg(Reg r) const { return regs_[static_cast<size_t>(r)]; }

  void exec(size_t pc, size_t end) {
    while (pc < end) {
      const isa::Instruction& in = p_.code[pc];
      switch (in.opcode) {
        case Opcode::kNop:
          break;
        case Opcode::kLayer:
          if (in.field("kind") >= static_cast<uint64_t>(isa::kLayerKinds))
            bad(pc, "unknown layer kind");
          in_layer_ = true;
          checked_ = false;
          kind_ = static_cast<isa::LayerKind>(in.field("kind"));
          op_ = static_cast<int>(in.field("op"));
          run_open_ = false;
          pool_run_.clear();
          // Channel views, layouts and dilation apply to one layer (isa.h).
          for (const auto& [r, v] : isa::layer_reset_registers()) regs_[static_cast<size_t>(r)] = v;
          // Operands are loaded again for every layer.
          input_job_ = weight_job_ = residual_job_ = kNone;
          break;
        case Opcode::kSetReg: {
          const uint64_t r = in.field("reg");
          if (r >= regs_.size()) bad(pc, "unknown register");
          regs_[r] = static_cast<int64_t>(in.field("value"));
          checked_ = false;
          break;
        }
        case Opcode::kLoop: {
          const int64_t trips = static_cast<int64_t>(in.field("trips"));
          if (trips < 1) bad(pc, "a loop needs at least one trip");
          const Dim d = static_cast<Dim>(in.field("dim"));
          if (static_cast<int>(d) > 5) bad(pc, "unknown loop dimension");
          for (int64_t i = 0; i < trips; ++i) {
            loops_.push_back({d, i, trips});
            exec(pc + 1, end_of_[pc]);
            loops_.pop_back();
          }
          pc = end_of_[pc];
          break;
        }
        case Opcode::kEndLoop:
          bad(pc, "unexpected ENDLOOP");
        case Opcode::kLoad:
          if (!in_layer_) bad(pc, "LOAD outside a layer");
          check_registers(pc);
          load(static_cast<isa::LoadOperand>(in.field("operand")), pc);
          break;
        case Opcode::kCompute:
          if (!in_layer_) bad(pc, "COMPUTE outside a layer");
          check_registers(pc);
          compute(pc);
          break;
        case Opcode::kStore:
          if (!in_layer_) bad(pc, "STORE outside a layer");
          check_registers(pc);
          store(pc);
          break;
        case Opcode::kEndLayer:
          if (run_open_ || !pool_run_.empty())
            bad(pc, "ENDLAYER with an output tile still open (no STORE)");
          in_layer_ = false;
          break;
        case Opcode::kHalt:
          return;
      }
      ++pc;
    }
  }

  // The layer registers a LOAD, COMPUTE or STORE relies on, checked once
  // after they were last set: a value out of range is a malformed program
  // (not a division by zero or an access outside a tensor later).
  void check_registers(size_t pc) {
    if (checked_) return;
    auto need = [&](Reg r, int64_t lo, int64_t hi) {
      const int64_t v = reg(r);
      if (v < lo || v > hi) {
        bad(pc, fmt::format("register {} = {} outside {}..{}", isa::reg_name(r), v, lo, hi));
      }
    };
    constexpr int64_t kMaxExtent = int64_t{1} << 24;
    for (Reg r : {Reg::kInC, Reg::kInH, Reg::kInW, Reg::kOutC, Reg::kOutH, Reg::kOutW, Reg::kBatch,
                  Reg::kKernelH, Reg::kKernelW, Reg::kStrideH, Reg::kStrideW, Reg::kGroups}) {
      need(r, 1, kMaxExtent);
    }
    need(Reg::kPadH, 0, kMaxExtent);
    need(Reg::kPadW, 0, kMaxExtent);
    need(Reg::kDilationH, 1, kMaxExtent);
    need(Reg::kDilationW, 1, kMaxExtent);
    if (pool() && (reg(Reg::kDilationH) != 1 || reg(Reg::kDilationW) != 1))
      bad(pc, "a pool or copy is not dilated");
    need(Reg::kInBits, 1, 30);
    need(Reg::kOutBits, 1, 30);
    if (flags() & isa::kFlagResidual) need(Reg::kResBits, 1, 30);
    if (reg(Reg::kInC) % reg(Reg::kGroups) != 0 || reg(Reg::kOutC) % reg(Reg::kGroups) != 0) {
      bad(pc, fmt::format("GROUPS = {} does not divide IN_C = {} and OUT_C = {}", reg(Reg::kGroups),
                          reg(Reg::kInC), reg(Reg::kOutC)));
    }
    need(Reg::kInRotate, 0, reg(Reg::kGroups) - 1);
    if (reg(Reg::kGroupPack) == 0)
      regs_[static_cast<size_t>(Reg::kGroupPack)] = 1;  // programs without packing
    need(Reg::kGroupPack, 1, reg(Reg::kGroups));
    if (reg(Reg::kGroups) % reg(Reg::kGroupPack) != 0) {
      bad(pc, fmt::format("GROUP_PACK = {} does not divide GROUPS = {}", reg(Reg::kGroupPack),
                          reg(Reg::kGroups)));
    }
    if (reg(Reg::kGroupPack) > 1 && reg(Reg::kInRotate) != 0)
      bad(pc, "packed groups cannot read a rotated input");
    // A channel view must lie inside the tensor it is a view of.
    auto need_view = [&](Reg total, Reg offset, Reg stride, Reg channels) {
      if (reg(total) == 0) return;
      need(total, 1, kMaxExtent);
      need(offset, 0, kMaxExtent);
      need(stride, 1, kMaxExtent);
      const int64_t last = reg(offset) + reg(stride) * (reg(channels) - 1);
      if (last >= reg(total)) {
        bad(pc,
            fmt::format(
                "channel view {} + {} x c of {} channels reaches channel {} of a {}-channel tensor",
                reg(offset), reg(stride), reg(channels), last, reg(total)));
      }
    };
    need_view(Reg::kInCTotal, Reg::kInCOffset, Reg::kInCStride, Reg::kInC);
    need_view(Reg::kOutCTotal, Reg::kOutCOffset, Reg::kOutCStride, Reg::kOutC);
    if (flags() & isa::kFlagResidual)
      need_view(Reg::kResCTotal, Reg::kResCOffset, Reg::kResCStride, Reg::kOutC);
    // A layout's block divides the channels of the tensor it stores.
    auto need_block = [&](Reg block, int64_t stored) {
      need(block, 0, stored);
      if (!frontend::valid_block(static_cast<int>(reg(block)), static_cast<int>(stored))) {
        bad(pc, fmt::format("{} = {} does not divide the {} stored channels", isa::reg_name(block),
                            reg(block), stored));
      }
    };
    auto stored = [&](Reg total, Reg channels) {
      return reg(total) > 0 ? reg(total) : reg(channels);
    };
    need_block(Reg::kInBlock, stored(Reg::kInCTotal, Reg::kInC));
    need_block(Reg::kOutBlock, stored(Reg::kOutCTotal, Reg::kOutC));
    need_block(Reg::kInGroupMajor, stored(Reg::kInCTotal, Reg::kInC));
    need_block(Reg::kOutGroupMajor, stored(Reg::kOutCTotal, Reg::kOutC));
    if (flags() & isa::kFlagResidual) {
      need_block(Reg::kResBlock, stored(Reg::kResCTotal, Reg::kOutC));
      need_block(Reg::kResGroupMajor, stored(Reg::kResCTotal, Reg::kOutC));
    }
    need_block(Reg::kPsumBlock, reg(Reg::kOutC));
    const int64_t shuffle = reg(Reg::kOutShuffle);
    if (shuffle > 1 && reg(Reg::kOutC) % shuffle != 0) {
      bad(pc, fmt::format("OUT_SHUFFLE = {} does not divide OUT_C = {}", shuffle, reg(Reg::kOutC)));
    }
    if (pool()) {
      if (reg(Reg::kGroups) != 1 || reg(Reg::kInC) != reg(Reg::kOutC))
        bad(pc, "a pool keeps its channels, in one group");
    } else {
      need(Reg::kABits, 1, 16);
      need(Reg::kWBits, 1, 16);
      // The array mode must be one the configured units can take.
      const int fa = static_cast<int>(reg(Reg::kModeFa)), fw = static_cast<int>(reg(Reg::kModeFw));
      const auto& bits = hw_.array.fusion_bits;
      if (std::find(bits.begin(), bits.end(), fa) == bits.end() ||
          std::find(bits.begin(), bits.end(), fw) == bits.end()) {
        bad(pc, fmt::format("array mode {}x{} bits is not one of the configured operand widths", fa,
                            fw));
      }
      const int64_t pairs = static_cast<int64_t>(fa / 2) * (fw / 2);
      const int64_t lanes = reg(Reg::kModeLanes), outputs = reg(Reg::kModeOutputs);
      const bool ok =
          hw_.kind == frontend::AcceleratorKind::kBitFusion
              ? outputs == 1 && lanes * pairs == hw_.array.bitbricks_per_unit
              : lanes >= 1 && outputs >= 1 && lanes % hw_.array.nbve_length == 0 &&
                    lanes / hw_.array.nbve_length * outputs * pairs == hw_.array.nbves_per_unit;
      if (!ok) {
        bad(pc,
            fmt::format(
                "array mode of {} lanes x {} outputs per unit at {}x{} bits does not fit the units",
                lanes, outputs, fa, fw));
      }
    }
    checked_ = true;
  }

  // --- geometry of the current layer --------------------------------------
  int groups() const { return static_cast<int>(reg(Reg::kGroups)); }
  int group() const {
    for (const auto& l : loops_) {
      if (l.dim == Dim::kG) return static_cast<int>(l.index);
    }
    return 0;
  }
  bool pool() const { return kind_ != isa::LayerKind::kConv; }
  int cout_g() const { return static_cast<int>(reg(Reg::kOutC) / groups()); }
  int cin_g() const { return static_cast<int>(reg(Reg::kInC) / groups()); }
  // Groups run together as one block-diagonal problem; the G loop walks
  // group tiles of pack() groups.
  int pack() const { return std::max<int>(1, static_cast<int>(reg(Reg::kGroupPack))); }
  uint32_t flags() const { return static_cast<uint32_t>(reg(Reg::kFlags)); }

  // Range of dimension d at the current point: the current tile when its loop
  // encloses us, the whole extent otherwise.
  std::pair<int, int> range(Dim d) const {
    int64_t extent = 1, tile = 1;
    switch (d) {
      case Dim::kN:
        extent = reg(Reg::kBatch);
        tile = reg(Reg::kTileN);
        break;
      case Dim::kH:
        extent = reg(Reg::kOutH);
        tile = reg(Reg::kTileH);
        break;
      case Dim::kW:
        extent = reg(Reg::kOutW);
        tile = reg(Reg::kTileW);
        break;
      case Dim::kM:
        extent = static_cast<int64_t>(cout_g()) * pack();
        tile = reg(Reg::kTileM);
        break;
      case Dim::kC:
        extent = pool() ? 1 : static_cast<int64_t>(cin_g()) * pack();
        tile = reg(Reg::kTileC);
        break;
      case Dim::kG:
        extent = groups() / pack();
        tile = 1;
        break;
    }
    tile = std::max<int64_t>(1, std::min(tile, extent));
    for (const auto& l : loops_) {
      if (l.dim == d) {
        const int64_t lo = l.index * tile;
        return {static_cast<int>(lo), static_cast<int>(std::min(tile, extent - lo))};
      }
    }
    return {0, static_cast<int>(extent)};
  }

  // Whether every enclosing C loop is at its last trip (the outputs are final)
  // and whether any is past its first (partial sums exist in DRAM).
  bool outputs_final() const {
    for (const auto& l : loops_) {
      if (l.dim == Dim::kC && l.index + 1 < l.trips) return false;
    }
    return true;
  }
  bool revisit() const {
    for (const auto& l : loops_) {
      if (l.dim == Dim::kC && l.index > 0) return true;
    }
    return false;
  }

  Box output_box() const {
    Box b;
    std::tie(b.n0, b.n) = range(Dim::kN);
    std::tie(b.h0, b.h) = range(Dim::kH);
    std::tie(b.w0, b.w) = range(Dim::kW);
    auto [m0, m] = range(Dim::kM);
    b.c0 = group() * cout_g() * pack() + m0;
    b.c = m;
    return b;
  }

  Box input_box() const {
    Box b;
    std::tie(b.n0, b.n) = range(Dim::kN);
    auto [h0, h] = range(Dim::kH);
    auto [w0, w] = range(Dim::kW);
    auto span = [](int o0, int n, int64_t s, int64_t k, int64_t pad, int64_t in, int& lo_out,
                   int& n_out) {
      const int64_t lo = std::max<int64_t>(0, o0 * s - pad);
      const int64_t hi = std::min<int64_t>(in - 1, (o0 + n - 1) * s - pad + k - 1);
      lo_out = static_cast<int>(lo);
      n_out = static_cast<int>(std::max<int64_t>(0, hi - lo + 1));
    };
    // A dilated kernel reads over its whole extent.
    const int64_t extent_h = (reg(Reg::kKernelH) - 1) * reg(Reg::kDilationH) + 1;
    const int64_t extent_w = (reg(Reg::kKernelW) - 1) * reg(Reg::kDilationW) + 1;
    span(h0, h, reg(Reg::kStrideH), extent_h, reg(Reg::kPadH), reg(Reg::kInH), b.h0, b.h);
    span(w0, w, reg(Reg::kStrideW), extent_w, reg(Reg::kPadW), reg(Reg::kInW), b.w0, b.w);
    if (pool()) {
      auto [m0, m] = range(Dim::kM);
      b.c0 = m0;
      b.c = m;
    } else {
      auto [c0, c] = range(Dim::kC);
      const int G = groups();
      const int src = static_cast<int>(((group() - reg(Reg::kInRotate)) % G + G) % G);
      b.c0 = (pack() > 1 ? group() * pack() : src) * cin_g() + c0;
      b.c = c;
    }
    return b;
  }

  TensorLayout layout(Reg addr, Reg bits, Reg c, Reg h, Reg w, Reg total, Reg offset, Reg stride,
                      Reg block, Reg group_major) const {
    TensorLayout t{static_cast<uint64_t>(reg(addr)), static_cast<int>(reg(bits)),
                   static_cast<int>(reg(c)),         static_cast<int>(reg(h)),
                   static_cast<int>(reg(w)),         static_cast<int>(reg(total)),
                   static_cast<int>(reg(offset)),    static_cast<int>(reg(stride))};
    t.block = static_cast<int>(reg(block));
    t.group_major = static_cast<int>(reg(group_major));
    return t;
  }
  TensorLayout in_layout() const {
    return layout(Reg::kInAddr, Reg::kInBits, Reg::kInC, Reg::kInH, Reg::kInW, Reg::kInCTotal,
                  Reg::kInCOffset, Reg::kInCStride, Reg::kInBlock, Reg::kInGroupMajor);
  }
  TensorLayout out_layout() const {
    return layout(Reg::kOutAddr, Reg::kOutBits, Reg::kOutC, Reg::kOutH, Reg::kOutW, Reg::kOutCTotal,
                  Reg::kOutCOffset, Reg::kOutCStride, Reg::kOutBlock, Reg::kOutGroupMajor);
  }
  // The residual has the output's logical shape, at its own address, width and view.
  TensorLayout res_layout() const {
    return layout(Reg::kResAddr, Reg::kResBits, Reg::kOutC, Reg::kOutH, Reg::kOutW, Reg::kResCTotal,
                  Reg::kResCOffset, Reg::kResCStride, Reg::kResBlock, Reg::kResGroupMajor);
  }
  // The op's partial-sum scratch: accumulators of its whole output.
  TensorLayout psum_layout() const {
    TensorLayout t{static_cast<uint64_t>(reg(Reg::kPsumAddr)), hw_.accumulator_bits,
                   static_cast<int>(reg(Reg::kOutC)), static_cast<int>(reg(Reg::kOutH)),
                   static_cast<int>(reg(Reg::kOutW))};
    t.block = static_cast<int>(reg(Reg::kPsumBlock));
    return t;
  }

  // Spilled partial sums of the uniform quantizer carry their activation
  // sums: one per output position of the tile, stored in the second half of
  // the op's psum scratch (laid out like the accumulators, at the tile's first
  // channel: each output tile keeps its own).
  void append_asum_accesses(const Box& box, bool write, std::vector<DramAccess>& accesses) const {
    if (!(flags() & isa::kFlagActivationSum)) return;
    const int C = static_cast<int>(reg(Reg::kOutC)), H = static_cast<int>(reg(Reg::kOutH)),
              W = static_cast<int>(reg(Reg::kOutW));
    const uint64_t acc_bits =
        static_cast<uint64_t>(reg(Reg::kBatch)) * C * H * W * hw_.accumulator_bits;
    TensorLayout asum{static_cast<uint64_t>(reg(Reg::kPsumAddr)) + acc_bits, hw_.accumulator_bits,
                      C, H, W};
    Box b = box;
    b.c = 1;
    for (const DramAccess& a : box_accesses(asum, b, 0, write)) accesses.push_back(a);
  }

  // --- jobs --------------------------------------------------------------
  uint32_t add(Job j) {
    const uint32_t id = static_cast<uint32_t>(out_.jobs.size());
    j.op = op_;
    j.group = group();
    std::vector<uint32_t> deps;
    for (uint32_t d : j.deps) {
      if (d != kNone) deps.push_back(d);
    }
    j.deps = std::move(deps);
    out_.queue[static_cast<int>(j.engine)].push_back(id);
    out_.jobs.push_back(std::move(j));
    return id;
  }

  static uint64_t sum_bits(const std::vector<DramAccess>& a) {
    uint64_t s = 0;
    for (const auto& x : a) s += x.total_bits();
    return s;
  }

  static uint32_t find(const std::map<int64_t, uint32_t>& m, int64_t key) {
    auto it = m.find(key);
    return it == m.end() ? kNone : it->second;
  }

  // The last store that wrote the tensor at `base` (the tensor must be
  // complete before a later layer reads it).
  uint32_t tensor_ready(int64_t base) const {
    auto it = last_store_.find(base);
    return it == last_store_.end() ? kNone : it->second;
  }

  void load(isa::LoadOperand what, size_t pc) {
    Job j;
    j.engine = Engine::kLoad;
    switch (what) {
      case isa::LoadOperand::kInput: {
        if (flags() & isa::kFlagOnchipInput)
          bad(pc, "LOAD input of a layer whose input is on chip");
        j.transfer = Transfer::kInput;
        j.buffer = Buffer::kIbuf;
        j.box = input_box();
        j.accesses = box_accesses(in_layout(), j.box, 0, false);
        j.deps = {ibuf_in_.acquire(), tensor_ready(reg(Reg::kInAddr))};
        j.slot = ibuf_in_.current();
        j.bits = sum_bits(j.accesses);
        input_job_ = add(std::move(j));
        return;
      }
      case isa::LoadOperand::kWeight: {
        j.transfer = Transfer::kWeight;
        j.buffer = Buffer::kWbuf;
        auto [m0, m] = range(Dim::kM);
        auto [c0, c] = range(Dim::kC);
        if (pack() > 1) {
          // A packed tile loads each of its groups' own weights (the zeros of
          // the block-diagonal problem are not stored).
          c0 = 0;
          c = cin_g();
        }
        const int m_abs = group() * cout_g() * pack() + m0;
        j.box = Box{0, 1, m_abs, m, c0, c, 0, 1};
        j.accesses = weight_accesses(static_cast<uint64_t>(reg(Reg::kWAddr)),
                                     static_cast<int>(reg(Reg::kWBits)), cin_g(),
                                     static_cast<int>(reg(Reg::kKernelH)),
                                     static_cast<int>(reg(Reg::kKernelW)), m_abs, m, c0, c);
        j.deps = {wbuf_.acquire()};
        j.slot = wbuf_.current();
        j.bits = sum_bits(j.accesses);
        weight_job_ = add(std::move(j));
        return;
      }
      case isa::LoadOperand::kPsum: {
        // Opens a new output tile in the other OBUF half: the box of the
        // loops enclosing this instruction. Its first compute starts it
        // empty unless earlier partial sums come back from DRAM.
        if (pool()) bad(pc, "LOAD psum in a pool layer");
        if (run_open_) bad(pc, "LOAD psum while an output tile is open (no STORE closed it)");
        run_open_dep_ = obuf_.acquire();
        run_open_ = true;
        run_box_ = output_box();
        run_fresh_ = !revisit();
        run_reload_ = kNone;
        if (!revisit()) return;
        j.transfer = Transfer::kPsumLoad;
        j.buffer = Buffer::kObuf;
        j.box = output_box();
        j.accesses = box_accesses(psum_layout(), j.box, 0, false);
        append_asum_accesses(j.box, false, j.accesses);
        j.deps = {run_open_dep_, last_psum_store_};
        j.slot = obuf_.current();
        j.bits = sum_bits(j.accesses);
        run_reload_ = add(std::move(j));
        run_open_dep_ = kNone;
        return;
      }
      case isa::LoadOperand::kResidual: {
        residual_job_ = kNone;
        if (!outputs_final()) return;
        j.transfer = Transfer::kResidual;
        j.buffer = Buffer::kIbuf;
        j.box = output_box();
        j.accesses =
            box_accesses(res_layout(), j.box, static_cast<int>(reg(Reg::kOutShuffle)), false);
        j.deps = {ibuf_res_.acquire(), tensor_ready(reg(Reg::kResAddr))};
        j.slot = ibuf_res_.current();
        j.bits = sum_bits(j.accesses);
        residual_job_ = add(std::move(j));
        return;
      }
    }
    bad(pc, "unknown LOAD operand");
  }

  void compute(size_t pc) {
    const Box ob = output_box();
    const int64_t pixels = static_cast<int64_t>(ob.n) * ob.h * ob.w;
    if (pool()) {
      // A pool is post-processing only: it reads the input tile from IBUF.
      // Its output tile opens at the first COMPUTE after a STORE (pools have
      // no LOAD psum) and spans every COMPUTE up to the next STORE.
      const bool opens = pool_run_.empty();
      if (opens) run_open_dep_ = obuf_.acquire();
      Job j;
      j.opens_tile = opens;
      j.engine = Engine::kPpu;
      j.out_box = ob;
      j.box = input_box();
      j.post.elements = pixels * ob.c;
      j.post.window = reg(Reg::kKernelH) * reg(Reg::kKernelW);
      j.post.in_bits = static_cast<int>(reg(Reg::kInBits));
      j.post.from_obuf = false;
      j.post.out_bits = static_cast<int>(reg(Reg::kOutBits));
      if (input_job_ == kNone) bad(pc, "COMPUTE before the layer's LOAD input");
      j.deps = {input_job_, run_open_dep_};
      j.in_slot = ibuf_in_.current();
      j.o_slot = obuf_.current();
      const uint32_t id = add(std::move(j));
      ibuf_in_.use(id);
      run_open_dep_ = kNone;
      run_last_ = id;
      pool_run_.push_back(id);
      return;
    }
    if (!run_open_) bad(pc, "COMPUTE outside an output tile (no LOAD psum opened one)");
    const bool onchip_in = flags() & isa::kFlagOnchipInput;
    if (weight_job_ == kNone) bad(pc, "COMPUTE before the layer's LOAD weight");
    if (!onchip_in && input_job_ == kNone) bad(pc, "COMPUTE before the layer's LOAD input");
    Job j;
    j.engine = Engine::kArray;
    auto [c0, c] = range(Dim::kC);
    j.out_box = ob;
    j.c0 = c0;
    j.pack = pack();
    j.tile.pixels = pixels;
    j.tile.k_elems = static_cast<int64_t>(c) * reg(Reg::kKernelH) * reg(Reg::kKernelW);
    j.tile.m = ob.c;
    // Partial sums of these outputs exist (in OBUF, or reloaded from DRAM)
    // exactly when this is not the first reduction tile.
    j.tile.accumulate = revisit();
    // The activation sum depends on the input pixels only: the output tile
    // keeps one per position, computed with its first output-channel tile.
    j.tile.activation_sum = (flags() & isa::kFlagActivationSum) != 0 && ob.c0 == run_box_.c0;
    j.acc_box = run_box_;
    j.opens_tile = run_fresh_;
    run_fresh_ = false;
    frontend::ArrayMode& m = j.mode;
    m.fa = static_cast<int>(reg(Reg::kModeFa));
    m.fw = static_cast<int>(reg(Reg::kModeFw));
    m.a_chunks = static_cast<int>((reg(Reg::kABits) + m.fa - 1) / m.fa);
    m.w_chunks = static_cast<int>((reg(Reg::kWBits) + m.fw - 1) / m.fw);
    m.lanes_per_unit = static_cast<int>(reg(Reg::kModeLanes));
    m.outputs_per_unit = static_cast<int>(reg(Reg::kModeOutputs));
    m.unit_rows = hw_.array.rows;
    m.unit_cols = hw_.array.cols;
    j.deps = {onchip_in ? find(region_ready_, group_key()) : input_job_, weight_job_, run_open_dep_,
              run_reload_};
    j.in_slot = onchip_in ? -1 : ibuf_in_.current();
    j.region = onchip_in ? group_key() : -1;
    j.w_slot = wbuf_.current();
    j.o_slot = obuf_.current();
    const uint32_t id = add(std::move(j));
    if (!onchip_in) ibuf_in_.use(id);
    wbuf_.use(id);
    if (onchip_in) region_free_[group_key() + 1] = id;
    run_open_dep_ = kNone;
    run_last_ = id;
  }

  // The on-chip region is handed from producer to consumer group by group;
  // keys are per (producer op, group).
  int64_t group_key() const {
    const int64_t producer = (flags() & isa::kFlagOnchipInput) ? op_ - 1 : op_;
    return producer * 65536 + group();
  }

  // The DMA job that writes the final output tile `ob` from the OBUF to DRAM
  // once `dep` (the last compute, or the post-processing) is done.
  void add_output_store(const Box& ob, const TensorLayout& out, int shuffle, uint32_t dep) {
    Job s;
    s.engine = Engine::kStore;
    s.transfer = Transfer::kOutput;
    s.buffer = Buffer::kObuf;
    s.box = ob;
    s.accesses = box_accesses(out, ob, shuffle, true);
    s.bits = sum_bits(s.accesses);
    s.deps = {dep};
    s.slot = obuf_.current();
    const uint32_t id = add(std::move(s));
    obuf_.use(id);
    last_store_[reg(Reg::kOutAddr)] = id;
  }

  void store(size_t pc) {
    const Box ob = output_box();
    const TensorLayout out = out_layout();
    const int shuffle = static_cast<int>(reg(Reg::kOutShuffle));
    if (pool()) {
      if (pool_run_.empty()) bad(pc, "STORE of a pool tile that no COMPUTE produced");
      // The output tile is now known: every COMPUTE since it opened wrote part of it.
      for (uint32_t id : pool_run_) out_.jobs[id].acc_box = ob;
      pool_run_.clear();
      add_output_store(ob, out, shuffle, run_last_);
      return;
    }
    if (!run_open_) bad(pc, "STORE outside an output tile (no LOAD psum opened one)");
    run_open_ = false;
    const int64_t pixels = static_cast<int64_t>(ob.n) * ob.h * ob.w;
    if (outputs_final()) {
      if ((flags() & isa::kFlagResidual) && residual_job_ == kNone) {
        bad(pc, "STORE of a residual layer's final outputs without a LOAD residual");
      }
      Job pp;
      pp.engine = Engine::kPpu;
      pp.out_box = ob;
      pp.post.elements = pixels * ob.c;
      pp.post.in_bits = hw_.accumulator_bits;
      pp.post.residual_bits =
          (flags() & isa::kFlagResidual) ? static_cast<int>(reg(Reg::kResBits)) : 0;
      pp.post.out_bits = static_cast<int>(reg(Reg::kOutBits));
      pp.post.activation_sums = (flags() & isa::kFlagActivationSum) ? pixels : 0;
      const bool onchip_out = flags() & isa::kFlagOnchipOutput;
      pp.deps = {run_last_, residual_job_};
      pp.post_to_region = onchip_out;
      pp.o_slot = obuf_.current();
      pp.r_slot = residual_job_ != kNone ? ibuf_res_.current() : -1;
      pp.region = onchip_out ? group_key() : -1;
      if (onchip_out) pp.deps.push_back(find(region_free_, group_key()));
      const uint32_t ppu = add(std::move(pp));
      if (residual_job_ != kNone) ibuf_res_.use(ppu);
      if (onchip_out) {
        region_ready_[group_key()] = ppu;
        obuf_.use(ppu);
        return;
      }
      add_output_store(ob, out, shuffle, ppu);
      return;
    }
    // Partial sums leave for DRAM and come back on the next visit.
    Job s;
    s.engine = Engine::kStore;
    s.transfer = Transfer::kPsumStore;
    s.buffer = Buffer::kObuf;
    s.box = ob;
    s.accesses = box_accesses(psum_layout(), ob, 0, true);
    append_asum_accesses(ob, true, s.accesses);
    s.bits = sum_bits(s.accesses);
    s.deps = {run_last_};
    s.slot = obuf_.current();
    const uint32_t id = add(std::move(s));
    obuf_.use(id);
    last_psum_store_ = id;
  }

  const frontend::HwConfig& hw_;
  const isa::Program& p_;
  std::vector<size_t> end_of_;
  std::vector<int64_t> regs_ = std::vector<int64_t>(static_cast<size_t>(Reg::kCount), 0);
  std::vector<LoopState> loops_;
  bool in_layer_ = false;
  bool checked_ = false;  // the layer registers were checked since last set
  isa::LayerKind kind_ = isa::LayerKind::kConv;
  int op_ = 0;
  JobList out_;
  SlotRing ibuf_in_, ibuf_res_, wbuf_, obuf_;
  uint32_t input_job_ = kNone, weight_job_ = kNone, residual_job_ = kNone;
  uint32_t run_open_dep_ = kNone, run_reload_ = kNone, run_last_ = kNone, last_psum_store_ = kNone;
  // The conv output tile opened by the last LOAD psum (until its STORE).
  bool run_open_ = false, run_fresh_ = false;
  Box run_box_;
  // The pool jobs of the open pool output tile.
  std::vector<uint32_t> pool_run_;
  std::map<int64_t, uint32_t> last_store_;
  std::map<int64_t, uint32_t> region_ready_, region_free_;
};

}  // namespace

JobList expand_program(const frontend::HwConfig& hw, const isa::Program& program) {
  return Expander(hw, program).run();
}

std::vector<LayerRegisters> decode_layers(const isa::Program& program) {
  std::vector<LayerRegisters> out;
  LayerRegisters cur;
  int op = -1;
  for (const auto& in : program.code) {
    if (in.opcode == Opcode::kLayer) {
      op = static_cast<int>(in.field("op"));
      cur = LayerRegisters{};
      for (const auto& [r, v] : isa::layer_reset_registers()) cur.r[static_cast<int>(r)] = v;
      cur.kind = static_cast<isa::LayerKind>(in.field("kind"));
    } else if (in.opcode == Opcode::kSetReg && op >= 0) {
      cur.r[in.field("reg")] = static_cast<int64_t>(in.field("value"));
    } else if (in.opcode == Opcode::kEndLayer && op >= 0) {
      if (static_cast<int>(out.size()) <= op) out.resize(static_cast<size_t>(op) + 1);
      out[static_cast<size_t>(op)] = cur;
      op = -1;
    }
  }
  return out;
}

}  // namespace palsim::sim
