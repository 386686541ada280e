#include "sim/core/controller.h"

#include <map>

#include "frontend/mapping/tensor_layout.h"
#include "sim/core/layer_decoder.h"
#include "sim/core/output_tile.h"
#include "sim/core/slot_ring.h"

namespace palsim::sim {

using frontend::box_accesses;
using frontend::TensorLayout;

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

uint64_t sum_bits(const std::vector<DramAccess>& a) {
  uint64_t s = 0;
  for (const auto& x : a) s += x.total_bits();
  return s;
}

uint32_t find(const std::map<int64_t, uint32_t>& m, int64_t key) {
  auto it = m.find(key);
  return it == m.end() ? kNoJob : it->second;
}

int slots(const frontend::BufferConfig& b) {
  return b.double_buffered ? 2 : 1;
}

// Walks the program's loop nests and emits the jobs of every LOAD, COMPUTE
// and STORE; the layer geometry comes from the decoder, the output tile's
// protocol from OutputTile.
class Expander {
 public:
  Expander(const frontend::HwConfig& hw, const isa::Program& p)
      : p_(p),
        decoder_(hw, p),
        ibuf_in_(slots(hw.ibuf)),
        ibuf_res_(slots(hw.ibuf)),
        wbuf_(slots(hw.wbuf)),
        obuf_(slots(hw.obuf)) {}

  JobList run() {
    match_loops();
    walk(0, p_.code.size());
    return std::move(out_);
  }

 private:
  [[noreturn]] void bad(size_t pc, const std::string& why) const {
    reject_instruction(p_, pc, why);
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

  // Executes [pc, end). HALT ends the innermost loop body it stands in (the
  // next trip goes on), and the program at the outermost level.
  void walk(size_t pc, size_t end) {
    for (; pc < end; ++pc) {
      const isa::Instruction& in = p_.code[pc];
      if (in.opcode == Opcode::kHalt) return;
      if (in.opcode != Opcode::kLoop) {
        step(in, pc);
        continue;
      }
      const int64_t trips = static_cast<int64_t>(in.field("trips"));
      if (trips < 1) bad(pc, "a loop needs at least one trip");
      const Dim d = static_cast<Dim>(in.field("dim"));
      if (static_cast<int>(d) > 5) bad(pc, "unknown loop dimension");
      for (int64_t i = 0; i < trips; ++i) {
        loops_.enter(d, i, trips);
        walk(pc + 1, end_of_[pc]);
        loops_.leave();
      }
      pc = end_of_[pc];
    }
  }

  // One instruction other than LOOP and HALT.
  void step(const isa::Instruction& in, size_t pc) {
    switch (in.opcode) {
      case Opcode::kNop:
      case Opcode::kLoop:
      case Opcode::kHalt:
        return;
      case Opcode::kLayer:
        if (in.field("kind") >= static_cast<uint64_t>(isa::kLayerKinds))
          bad(pc, "unknown layer kind");
        in_layer_ = true;
        decoder_.begin_layer(static_cast<isa::LayerKind>(in.field("kind")),
                             static_cast<int>(in.field("op")));
        tile_.reset();
        // Operands are loaded again for every layer.
        input_job_ = weight_job_ = residual_job_ = kNoJob;
        return;
      case Opcode::kSetReg:
        decoder_.set(in.field("reg"), static_cast<int64_t>(in.field("value")), pc);
        return;
      case Opcode::kEndLoop:
        bad(pc, "unexpected ENDLOOP");
      case Opcode::kLoad:
        if (!in_layer_) bad(pc, "LOAD outside a layer");
        load(static_cast<isa::LoadOperand>(in.field("operand")), decoder_.geometry(pc), pc);
        return;
      case Opcode::kCompute:
        if (!in_layer_) bad(pc, "COMPUTE outside a layer");
        compute(decoder_.geometry(pc), pc);
        return;
      case Opcode::kStore:
        if (!in_layer_) bad(pc, "STORE outside a layer");
        store(decoder_.geometry(pc), pc);
        return;
      case Opcode::kEndLayer:
        if (tile_.is_open()) bad(pc, "ENDLAYER with an output tile still open (no STORE)");
        in_layer_ = false;
        return;
    }
  }

  uint32_t add(Job j, const LayerGeometry& L) {
    const uint32_t id = static_cast<uint32_t>(out_.jobs.size());
    j.op = L.op;
    j.group = loops_.group();
    std::vector<uint32_t> deps;
    for (uint32_t d : j.deps) {
      if (d != kNoJob) deps.push_back(d);
    }
    j.deps = std::move(deps);
    out_.queue[static_cast<int>(j.engine)].push_back(id);
    out_.jobs.push_back(std::move(j));
    return id;
  }

  // A DMA job of `transfer` between `buffer` and DRAM.
  static Job dma(Engine engine, Transfer transfer, Buffer buffer, int slot,
                 std::vector<DramAccess> accesses) {
    Job j;
    j.engine = engine;
    j.transfer = transfer;
    j.buffer = buffer;
    j.slot = slot;
    j.accesses = std::move(accesses);
    j.bits = sum_bits(j.accesses);
    return j;
  }

  // The last store that wrote the tensor at `base` (the tensor must be
  // complete before a later layer reads it).
  uint32_t tensor_ready(uint64_t base) const {
    return find(last_store_, static_cast<int64_t>(base));
  }

  // The on-chip region is handed from producer to consumer group by group;
  // keys are per (producer op, group).
  int64_t group_key(const LayerGeometry& L) const {
    const int64_t producer = L.has(isa::kFlagOnchipInput) ? L.op - 1 : L.op;
    return producer * 65536 + loops_.group();
  }

  // Spilled partial sums of the uniform quantizer carry their activation
  // sums: one per output position of the tile, in the second half of the
  // op's psum scratch (each output tile keeps its own at its first channel).
  void append_asum_accesses(const LayerGeometry& L, const Box& box, bool write,
                            std::vector<DramAccess>& accesses) const {
    if (!L.has(isa::kFlagActivationSum)) return;
    Box b = box;
    b.c = 1;
    for (const DramAccess& a : box_accesses(L.asum, b, 0, write)) accesses.push_back(a);
  }

  void load(isa::LoadOperand what, const LayerGeometry& L, size_t pc) {
    switch (what) {
      case isa::LoadOperand::kInput:
        return load_input(L, pc);
      case isa::LoadOperand::kWeight:
        return load_weight(L);
      case isa::LoadOperand::kPsum:
        return open_output_tile(L, pc);
      case isa::LoadOperand::kResidual:
        return load_residual(L);
    }
    bad(pc, "unknown LOAD operand");
  }

  void load_input(const LayerGeometry& L, size_t pc) {
    if (L.has(isa::kFlagOnchipInput)) bad(pc, "LOAD input of a layer whose input is on chip");
    const uint32_t space = ibuf_in_.acquire();
    const Box box = L.input_box(loops_);
    Job j = dma(Engine::kLoad, Transfer::kInput, Buffer::kIbuf, ibuf_in_.current(),
                box_accesses(L.in, box, 0, false));
    j.box = box;
    j.deps = {space, tensor_ready(L.in.base_bit)};
    input_job_ = add(std::move(j), L);
  }

  void load_weight(const LayerGeometry& L) {
    const uint32_t space = wbuf_.acquire();
    const WeightRange w = L.weight_range(loops_);
    Job j = dma(Engine::kLoad, Transfer::kWeight, Buffer::kWbuf, wbuf_.current(),
                frontend::weight_accesses(L.w_addr, L.w_bits, L.cin_g, L.kernel_h, L.kernel_w, w.m0,
                                          w.m, w.c0, w.c));
    j.weights = w;
    j.deps = {space};
    weight_job_ = add(std::move(j), L);
  }

  // LOAD psum opens a new output tile in the other OBUF half: the box of the
  // loops enclosing it. Its first compute starts it empty unless earlier
  // partial sums come back from DRAM.
  void open_output_tile(const LayerGeometry& L, size_t pc) {
    if (L.pool()) bad(pc, "LOAD psum in a pool layer");
    if (tile_.is_open()) bad(pc, "LOAD psum while an output tile is open (no STORE closed it)");
    const Box box = L.output_box(loops_);
    tile_.open(obuf_.acquire(), box, !loops_.revisit());
    if (!loops_.revisit()) return;
    std::vector<DramAccess> accesses = box_accesses(L.psum, box, 0, false);
    append_asum_accesses(L, box, false, accesses);
    Job j = dma(Engine::kLoad, Transfer::kPsumLoad, Buffer::kObuf, obuf_.current(),
                std::move(accesses));
    j.box = box;
    j.deps = {tile_.take_space_wait(), last_psum_store_};
    tile_.reloaded_by(add(std::move(j), L));
  }

  void load_residual(const LayerGeometry& L) {
    residual_job_ = kNoJob;
    if (!loops_.outputs_final()) return;
    const uint32_t space = ibuf_res_.acquire();
    const Box box = L.output_box(loops_);
    Job j = dma(Engine::kLoad, Transfer::kResidual, Buffer::kIbuf, ibuf_res_.current(),
                box_accesses(L.res, box, L.out_shuffle, false));
    j.box = box;
    j.deps = {space, tensor_ready(L.res.base_bit)};
    residual_job_ = add(std::move(j), L);
  }

  void compute(const LayerGeometry& L, size_t pc) {
    if (L.pool()) return pool(L, pc);
    if (!tile_.is_open()) bad(pc, "COMPUTE outside an output tile (no LOAD psum opened one)");
    const bool onchip_in = L.has(isa::kFlagOnchipInput);
    if (weight_job_ == kNoJob) bad(pc, "COMPUTE before the layer's LOAD weight");
    if (!onchip_in && input_job_ == kNoJob) bad(pc, "COMPUTE before the layer's LOAD input");
    Job j;
    j.engine = Engine::kArray;
    j.out_box = L.output_box(loops_);
    j.c0 = L.range(Dim::kC, loops_).first;
    j.pack = L.pack;
    j.tile = L.compute_tile(loops_);
    // The activation sum depends on the input pixels only: the output tile
    // keeps one per position, computed with its first output-channel tile.
    j.tile.activation_sum = L.has(isa::kFlagActivationSum) && j.out_box.c0 == tile_.box().c0;
    j.acc_box = tile_.box();
    j.opens_tile = tile_.next_writer_opens();
    j.mode = L.mode;
    j.deps = {onchip_in ? find(region_ready_, group_key(L)) : input_job_, weight_job_,
              tile_.space_wait(), tile_.reload()};
    j.in_slot = onchip_in ? -1 : ibuf_in_.current();
    j.region = onchip_in ? group_key(L) : -1;
    j.w_slot = wbuf_.current();
    j.o_slot = obuf_.current();
    const uint32_t id = add(std::move(j), L);
    if (!onchip_in) ibuf_in_.use(id);
    wbuf_.use(id);
    if (onchip_in) region_free_[group_key(L) + 1] = id;
    tile_.written_by(id);
  }

  // A pool is post-processing only: it reads the input tile from IBUF. Its
  // output tile opens at the first COMPUTE after a STORE (pools have no LOAD
  // psum) and spans every COMPUTE up to the next STORE.
  void pool(const LayerGeometry& L, size_t pc) {
    if (!tile_.is_open()) tile_.open_unboxed(obuf_.acquire());
    Job j;
    j.opens_tile = tile_.next_writer_opens();
    j.engine = Engine::kPpu;
    j.out_box = L.output_box(loops_);
    j.box = L.input_box(loops_);
    j.post.elements = j.out_box.elements();
    j.post.window = int64_t{L.kernel_h} * L.kernel_w;
    j.post.in_bits = L.in_bits;
    j.post.from_obuf = false;
    j.post.out_bits = L.out_bits;
    if (input_job_ == kNoJob) bad(pc, "COMPUTE before the layer's LOAD input");
    j.deps = {input_job_, tile_.space_wait()};
    j.in_slot = ibuf_in_.current();
    j.o_slot = obuf_.current();
    const uint32_t id = add(std::move(j), L);
    ibuf_in_.use(id);
    tile_.written_by(id);
  }

  // The DMA job that writes the final output tile `ob` from the OBUF to DRAM
  // once `dep` (the last compute, or the post-processing) is done.
  void add_output_store(const LayerGeometry& L, const Box& ob, uint32_t dep) {
    Job s = dma(Engine::kStore, Transfer::kOutput, Buffer::kObuf, obuf_.current(),
                box_accesses(L.out, ob, L.out_shuffle, true));
    s.box = ob;
    s.deps = {dep};
    const uint32_t id = add(std::move(s), L);
    obuf_.use(id);
    last_store_[static_cast<int64_t>(L.out.base_bit)] = id;
  }

  void store(const LayerGeometry& L, size_t pc) {
    const Box ob = L.output_box(loops_);
    if (L.pool()) {
      if (!tile_.is_open()) bad(pc, "STORE of a pool tile that no COMPUTE produced");
      const uint32_t last = tile_.close();
      // The output tile is now known: every COMPUTE since it opened wrote part of it.
      for (uint32_t id : tile_.unboxed_writers()) out_.jobs[id].acc_box = ob;
      return add_output_store(L, ob, last);
    }
    if (!tile_.is_open()) bad(pc, "STORE outside an output tile (no LOAD psum opened one)");
    const uint32_t last = tile_.close();
    if (loops_.outputs_final()) return post_process(L, ob, last, pc);
    // Partial sums leave for DRAM and come back on the next visit.
    std::vector<DramAccess> accesses = box_accesses(L.psum, ob, 0, true);
    append_asum_accesses(L, ob, true, accesses);
    Job s = dma(Engine::kStore, Transfer::kPsumStore, Buffer::kObuf, obuf_.current(),
                std::move(accesses));
    s.box = ob;
    s.deps = {last};
    const uint32_t id = add(std::move(s), L);
    obuf_.use(id);
    last_psum_store_ = id;
  }

  // The final outputs of a conv tile: requantized (with the residual added)
  // by the PPU, then stored, or kept in the on-chip region for the next op.
  void post_process(const LayerGeometry& L, const Box& ob, uint32_t last, size_t pc) {
    const bool residual = L.has(isa::kFlagResidual);
    if (residual && residual_job_ == kNoJob) {
      bad(pc, "STORE of a residual layer's final outputs without a LOAD residual");
    }
    const int64_t pixels = static_cast<int64_t>(ob.n) * ob.h * ob.w;
    Job pp;
    pp.engine = Engine::kPpu;
    pp.out_box = ob;
    pp.post.elements = pixels * ob.c;
    pp.post.in_bits = L.accumulator_bits;
    pp.post.residual_bits = L.res_bits;
    pp.post.out_bits = L.out_bits;
    pp.post.activation_sums = L.has(isa::kFlagActivationSum) ? pixels : 0;
    const bool onchip_out = L.has(isa::kFlagOnchipOutput);
    pp.deps = {last, residual_job_};
    pp.post_to_region = onchip_out;
    pp.o_slot = obuf_.current();
    pp.r_slot = residual_job_ != kNoJob ? ibuf_res_.current() : -1;
    pp.region = onchip_out ? group_key(L) : -1;
    if (onchip_out) pp.deps.push_back(find(region_free_, group_key(L)));
    const uint32_t ppu = add(std::move(pp), L);
    if (residual_job_ != kNoJob) ibuf_res_.use(ppu);
    if (onchip_out) {
      region_ready_[group_key(L)] = ppu;
      obuf_.use(ppu);
      return;
    }
    add_output_store(L, ob, ppu);
  }

  const isa::Program& p_;
  std::vector<size_t> end_of_;  // the ENDLOOP of each LOOP
  LayerDecoder decoder_;
  LoopNest loops_;
  bool in_layer_ = false;
  JobList out_;
  SlotRing ibuf_in_, ibuf_res_, wbuf_, obuf_;
  // The layer's operand loads the next compute or post-processing reads.
  uint32_t input_job_ = kNoJob, weight_job_ = kNoJob, residual_job_ = kNoJob;
  OutputTile tile_;
  uint32_t last_psum_store_ = kNoJob;
  std::map<int64_t, uint32_t> last_store_;  // per tensor base address
  std::map<int64_t, uint32_t> region_ready_, region_free_;
};

}  // namespace

JobList expand_program(const frontend::HwConfig& hw, const isa::Program& program) {
  return Expander(hw, program).run();
}

}  // namespace palsim::sim
