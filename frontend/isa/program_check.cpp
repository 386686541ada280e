#include "frontend/isa/program_check.h"

#include <fmt/format.h>

#include <array>
#include <vector>

#include "common/error.h"

namespace palsim::isa {

namespace {

class Checker {
 public:
  Checker(const Program& p, const std::string& name) : p_(p), name_(name) {}

  void run() {
    check_metadata();
    if (p_.code.empty())
      throw InputError(fmt::format("{}: the program has no instructions", name_));
    for (size_t pc = 0; pc < p_.code.size(); ++pc) step(pc);
    if (in_layer_) bad(layer_pc_, "LAYER without ENDLAYER");
    if (!loops_.empty()) bad(loops_.back().pc, "LOOP without ENDLOOP");
    if (p_.code.back().opcode != Opcode::kHalt)
      bad(p_.code.size() - 1, "the program does not end with HALT");
  }

 private:
  struct OpenLoop {
    size_t pc;
    uint64_t trips;
    bool inside_layer;  // opened after the current LAYER
  };

  [[noreturn]] void bad(size_t pc, const std::string& why) const {
    throw InputError(
        fmt::format("{}: instruction {} ({}): {}", name_, pc, disassemble(p_.code[pc]), why));
  }
  [[noreturn]] void bad_metadata(const std::string& why) const {
    throw InputError(fmt::format("{}: metadata: {}", name_, why));
  }

  void check_metadata() const {
    const ProgramInfo& i = p_.info;
    if (i.ops.empty()) bad_metadata("no operations");
    if (i.tensors.empty()) bad_metadata("no tensors");
    if (i.batch < 1 || i.batch > kMaxProgramBatch) {
      bad_metadata(fmt::format("batch {} (must be between 1 and {})", i.batch, kMaxProgramBatch));
    }
    const auto tensor_index = [&](int t, const char* what) {
      if (t < 0 || static_cast<size_t>(t) >= i.tensors.size()) {
        bad_metadata(fmt::format("the {} tensor {} is not one of the {} tensors", what, t,
                                 i.tensors.size()));
      }
    };
    tensor_index(i.input_tensor, "input");
    tensor_index(i.output_tensor, "output");
    for (size_t t = 0; t < i.tensors.size(); ++t) {
      const TensorInfo& x = i.tensors[t];
      for (const auto& [v, what] :
           {std::pair<int, const char*>{x.c, "channels"}, {x.h, "height"}, {x.w, "width"}}) {
        if (v < 1 || v > kMaxTensorExtent) {
          bad_metadata(fmt::format("tensor {} ({}): {} {} (must be between 1 and {})", t, x.name,
                                   what, v, kMaxTensorExtent));
        }
      }
      if (x.batch < 1 || x.batch > kMaxProgramBatch) {
        bad_metadata(fmt::format("tensor {} ({}): batch {}", t, x.name, x.batch));
      }
      if (x.bits < 1 || x.bits > 32)
        bad_metadata(fmt::format("tensor {} ({}): {} bits per element", t, x.name, x.bits));
    }
  }

  uint64_t reg(Reg r) const { return regs_[static_cast<size_t>(r)]; }

  // Executions of an instruction at the current depth: the product of the
  // enclosing trips (saturating: only the comparison with the limit matters).
  uint64_t executions() const {
    uint64_t n = 1;
    for (const OpenLoop& l : loops_)
      n = l.trips > kMaxProgramJobs / n ? kMaxProgramJobs + 1 : n * l.trips;
    return n;
  }

  void count_job(size_t pc) {
    if (!in_layer_)
      bad(pc, fmt::format("{} outside a layer", opcode_info(p_.code[pc].opcode).mnemonic));
    jobs_ += executions();
    if (jobs_ > kMaxProgramJobs) {
      bad(pc,
          fmt::format(
              "the loops execute more than {} loads, computes and stores (the limit of a program)",
              kMaxProgramJobs));
    }
  }

  void step(size_t pc) {
    const Instruction& in = p_.code[pc];
    switch (in.opcode) {
      case Opcode::kNop:
        break;
      case Opcode::kLayer:
        if (in_layer_)
          bad(pc, fmt::format("LAYER inside the layer of instruction {} (no ENDLAYER)", layer_pc_));
        if (in.field("kind") >= static_cast<uint64_t>(kLayerKinds)) bad(pc, "unknown layer kind");
        if (in.field("op") >= p_.info.ops.size()) {
          bad(pc, fmt::format("operation {} is not one of the {} in the metadata", in.field("op"),
                              p_.info.ops.size()));
        }
        in_layer_ = true;
        layer_pc_ = pc;
        computes_ = stores_ = 0;
        break;
      case Opcode::kSetReg:
        if (in.field("reg") >= static_cast<uint64_t>(Reg::kCount)) bad(pc, "unknown register");
        regs_[in.field("reg")] = in.field("value");
        break;
      case Opcode::kLoop: {
        if (in.field("dim") > static_cast<uint64_t>(Dim::kC)) bad(pc, "unknown loop dimension");
        const uint64_t trips = in.field("trips");
        if (trips < 1) bad(pc, "a loop needs at least one trip");
        check_trips(pc, static_cast<Dim>(in.field("dim")), trips);
        loops_.push_back({pc, trips, in_layer_});
        break;
      }
      case Opcode::kEndLoop:
        if (loops_.empty()) bad(pc, "ENDLOOP without LOOP");
        if (in_layer_ && !loops_.back().inside_layer) {
          bad(pc, fmt::format(
                      "ENDLOOP closes the loop of instruction {}, opened before this layer's LAYER",
                      loops_.back().pc));
        }
        loops_.pop_back();
        break;
      case Opcode::kLoad:
        if (in.field("operand") > static_cast<uint64_t>(LoadOperand::kResidual))
          bad(pc, "unknown LOAD operand");
        count_job(pc);
        break;
      case Opcode::kCompute:
        count_job(pc);
        ++computes_;
        break;
      case Opcode::kStore:
        if (in.field("operand") != static_cast<uint64_t>(StoreOperand::kOutput))
          bad(pc, "unknown STORE operand");
        count_job(pc);
        ++stores_;
        break;
      case Opcode::kEndLayer:
        if (!in_layer_) bad(pc, "ENDLAYER without LAYER");
        for (const auto& l : loops_) {
          if (l.inside_layer)
            bad(pc, fmt::format("ENDLAYER inside the loop of instruction {}", l.pc));
        }
        if (computes_ == 0)
          bad(pc, fmt::format("the layer of instruction {} has no COMPUTE", layer_pc_));
        if (stores_ == 0)
          bad(pc, fmt::format("the layer of instruction {} has no STORE", layer_pc_));
        in_layer_ = false;
        break;
      case Opcode::kHalt:
        if (pc + 1 != p_.code.size()) bad(pc, "HALT before the last instruction");
        break;
    }
  }

  // A loop inside a layer steps through its dimension in tiles: a tile of 0
  // (which the controller would take as 1) is refused, and so are, over the
  // batch, rows or columns, more trips than ceil(extent / tile): tiles of
  // nothing. (Group and channel extents depend on packing: the controller
  // checks those.)
  void check_trips(size_t pc, Dim d, uint64_t trips) const {
    if (!in_layer_) return;  // a group loop around whole layers
    Reg extent = Reg::kBatch, tile = Reg::kTileN;
    switch (d) {
      case Dim::kG:
        return;
      case Dim::kN:
        break;
      case Dim::kH:
        extent = Reg::kOutH, tile = Reg::kTileH;
        break;
      case Dim::kW:
        extent = Reg::kOutW, tile = Reg::kTileW;
        break;
      case Dim::kM:
        extent = Reg::kOutC, tile = Reg::kTileM;
        break;
      case Dim::kC:
        extent = Reg::kInC, tile = Reg::kTileC;
        break;
    }
    if (reg(extent) < 1) return;  // the controller refuses the extent itself
    if (reg(tile) < 1)
      bad(pc, fmt::format("{} is 0: a tile holds at least one element", reg_name(tile)));
    if (d == Dim::kM || d == Dim::kC) return;
    const uint64_t needed = (reg(extent) + reg(tile) - 1) / reg(tile);
    if (trips > needed) {
      bad(pc, fmt::format("{} trips over {} = {} in tiles of {} = {}: {} are enough", trips,
                          reg_name(extent), reg(extent), reg_name(tile), reg(tile), needed));
    }
  }

  const Program& p_;
  const std::string& name_;
  std::array<uint64_t, static_cast<size_t>(Reg::kCount)> regs_{};
  std::vector<OpenLoop> loops_;
  bool in_layer_ = false;
  size_t layer_pc_ = 0;
  int computes_ = 0, stores_ = 0;
  uint64_t jobs_ = 0;
};

}  // namespace

void check_program(const Program& p, const std::string& name) {
  Checker(p, name).run();
}

}  // namespace palsim::isa
