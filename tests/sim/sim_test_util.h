#pragma once
// Helpers shared by the simulator tests: small networks built layer by layer,
// hardware configurations with overrides, compiling, running the fast and the
// detailed mode, and comparing their statistics field by field.
//
// The catalogue of cases (sim_cases()) is shared by the BitExact suite (the
// detailed mode reproduces the kernels' reference bit for bit) and the
// Agreement suite (fast and detailed report the same cycles, counts, energies
// and DRAM statistics). A process runs each case's detailed simulation once
// and keeps the result, so the two suites do not pay twice in one test run.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "frontend/arch/hw_config.h"
#include "frontend/builders/method.h"
#include "frontend/builders/registry.h"
#include "frontend/ir/network.h"
#include "frontend/isa/isa.h"
#include "frontend/isa/program.h"
#include "frontend/lowering/compile.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/lowering/int_model.h"
#include "sim/core/controller.h"
#include "sim/core/job.h"
#include "sim/core/stats.h"
#include "sim/simulator.h"

namespace palsim::sim::test {

// --- configurations ---------------------------------------------------------

inline std::string source_path(const std::string& relative) {
  return std::string(PALSIM_SOURCE_DIR) + "/" + relative;
}

// configs/<name>.yaml with `key=value` overrides applied in order.
inline frontend::HwConfig hw_config(const std::string& name,
                                    const std::vector<std::string>& overrides = {}) {
  frontend::HwConfig hw = frontend::load_hw_config(source_path("configs/" + name + ".yaml"));
  for (const std::string& o : overrides) frontend::apply_hw_override(hw, o);
  return hw;
}

// --- networks -----------------------------------------------------------------

inline frontend::QuantSpec lsq(int a_bits, int w_bits) {
  return frontend::QuantSpec{frontend::Quantizer::kLsq, w_bits, a_bits, 0};
}
inline frontend::QuantSpec uniform(int a_bits, int w_bits) {
  return frontend::QuantSpec{frontend::Quantizer::kUniform, w_bits, a_bits, 0};
}

// Builds a network layer by layer; every method returns the new layer's index
// and names it after its kind and position ("conv3", "relu4", ...).
class NetBuilder {
 public:
  NetBuilder(const std::string& name, frontend::Shape input) : net_(name) {
    input_ = net_.add("input", frontend::InputAttrs{input}, {});
  }
  int input() const { return input_; }

  int conv(int in, int out_channels, int kernel, int stride, int pad, int groups,
           frontend::QuantSpec q) {
    return dilated_conv(in, out_channels, kernel, stride, pad, 1, groups, q);
  }
  // A conv whose taps are `dilation` input positions apart.
  int dilated_conv(int in, int out_channels, int kernel, int stride, int pad, int dilation,
                   int groups, frontend::QuantSpec q) {
    frontend::ConvAttrs a;
    a.out_channels = out_channels;
    a.kernel_h = a.kernel_w = kernel;
    a.stride_h = a.stride_w = stride;
    a.pad_h = a.pad_w = pad;
    a.dilation_h = a.dilation_w = dilation;
    a.groups = groups;
    a.quant = q;
    return add("conv", a, {in});
  }
  int bn(int in) { return add("bn", frontend::BatchNormAttrs{}, {in}); }
  int relu6(int in) { return add("clip", frontend::ClipAttrs{0, 6}, {in}); }
  int relu(int in) { return add("relu", frontend::ReluAttrs{}, {in}); }
  int sum(int a, int b) { return add("add", frontend::AddAttrs{}, {a, b}); }
  int shuffle(int in, int groups) {
    return add("shuffle", frontend::ChannelShuffleAttrs{groups}, {in});
  }
  int permute(int in, int groups, int direction) {
    return add("permute", frontend::CyclicPermuteAttrs{groups, direction}, {in});
  }
  int maxpool(int in, int k, int s, int p) {
    return add("maxpool", frontend::MaxPoolAttrs{k, s, p}, {in});
  }
  int avgpool(int in, int k, int s, int p) {
    return add("avgpool", frontend::AvgPoolAttrs{k, s, p}, {in});
  }
  int global_avgpool(int in) { return add("gap", frontend::GlobalAvgPoolAttrs{}, {in}); }
  int flatten(int in) { return add("flatten", frontend::FlattenAttrs{}, {in}); }
  int split(int in, int offset, int channels) {
    return add("split", frontend::SplitAttrs{offset, channels}, {in});
  }
  int concat(std::vector<int> inputs) {
    return add("concat", frontend::ConcatAttrs{}, std::move(inputs));
  }
  int fc(int in, int out_features, frontend::QuantSpec q) {
    frontend::FcAttrs a;
    a.out_features = out_features;
    a.bias = true;
    a.quant = q;
    return add("fc", a, {in});
  }
  // conv + bn (+ relu): the usual body layer.
  int conv_bn(int in, int out, int k, int s, int p, int groups, frontend::QuantSpec q,
              bool with_relu) {
    const int y = bn(conv(in, out, k, s, p, groups, q));
    return with_relu ? relu(y) : y;
  }

  frontend::Network build() {
    net_.infer_shapes();
    return net_;
  }

 private:
  int add(const std::string& kind, frontend::LayerAttrs attrs, std::vector<int> inputs) {
    return net_.add(fmt::format("{}{}", kind, net_.size()), std::move(attrs), std::move(inputs));
  }
  frontend::Network net_;
  int input_ = 0;
};

// --- compiling and running ----------------------------------------------------

// Rewrites the value of register `reg` in layer `op` of a compiled program
// (the controller executes whatever the program says: this forces array modes
// or tiles the mapper would not choose).
inline void set_layer_register(isa::Program& p, int op, isa::Reg reg, uint64_t value) {
  int current = -1;
  bool done = false;
  for (auto& in : p.code) {
    if (in.opcode == isa::Opcode::kLayer) current = static_cast<int>(in.field("op"));
    if (in.opcode == isa::Opcode::kSetReg && current == op &&
        in.field("reg") == static_cast<uint64_t>(reg)) {
      in = isa::set_reg(reg, value);
      done = true;
    }
  }
  ASSERT_TRUE(done) << "op " << op << " sets no register " << isa::reg_name(reg);
}

// The LOOP instructions of layer `op` over dimension `dim` (pointers into p.code).
inline std::vector<isa::Instruction*> layer_loops(isa::Program& p, int op, isa::Dim dim) {
  std::vector<isa::Instruction*> out;
  int current = -1;
  for (auto& in : p.code) {
    if (in.opcode == isa::Opcode::kLayer) current = static_cast<int>(in.field("op"));
    if (in.opcode == isa::Opcode::kEndLayer) current = -1;
    if (in.opcode == isa::Opcode::kLoop && current == op &&
        in.field("dim") == static_cast<uint64_t>(dim)) {
      out.push_back(&in);
    }
  }
  return out;
}

// Replaces the loop nest of layer `op` (everything between its SETRs and its
// ENDLAYER) by the given assembly lines and sets its tile registers: a
// hand-written mapping that does not depend on the mapper's choice. The
// layer must have its own group loop (not an on-chip pair).
struct Tiles {
  int n = 1, h = 1, w = 1, m = 1, c = 1;
};
inline void replace_nest(isa::Program& p, int op, const Tiles& t,
                         const std::vector<std::string>& nest) {
  size_t layer = p.code.size();
  for (size_t i = 0; i < p.code.size(); ++i) {
    if (p.code[i].opcode == isa::Opcode::kLayer && static_cast<int>(p.code[i].field("op")) == op) {
      layer = i;
    }
  }
  ASSERT_LT(layer, p.code.size()) << "no layer " << op;
  size_t begin = layer + 1;
  while (p.code[begin].opcode == isa::Opcode::kSetReg) ++begin;
  size_t end = begin;
  while (p.code[end].opcode != isa::Opcode::kEndLayer) ++end;
  std::vector<isa::Instruction> code(p.code.begin(), p.code.begin() + static_cast<long>(begin));
  for (const std::string& line : nest) code.push_back(isa::assemble(line));
  code.insert(code.end(), p.code.begin() + static_cast<long>(end), p.code.end());
  p.code = std::move(code);
  set_layer_register(p, op, isa::Reg::kTileN, static_cast<uint64_t>(t.n));
  set_layer_register(p, op, isa::Reg::kTileH, static_cast<uint64_t>(t.h));
  set_layer_register(p, op, isa::Reg::kTileW, static_cast<uint64_t>(t.w));
  set_layer_register(p, op, isa::Reg::kTileM, static_cast<uint64_t>(t.m));
  set_layer_register(p, op, isa::Reg::kTileC, static_cast<uint64_t>(t.c));
}

// The register values of every layer of a program.
inline int64_t layer_register(const isa::Program& p, int op, isa::Reg reg) {
  return decode_layers(p).at(static_cast<size_t>(op)).get(reg);
}

struct SimCase {
  std::string name;  // gtest parameter name: letters, digits, underscores
  std::string hw = "bitfusion";
  std::vector<std::string> overrides;
  std::function<frontend::Network()> network;
  int batch = 1;
  bool onchip = true;
  bool exact = false;
  uint64_t seed = 1;
  // Optional edit of the compiled program (forced modes).
  std::function<void(isa::Program&)> edit;
  // Optional check that the compiled case exercises what its name says
  // (a psum case has psum transfers, a fused-mode case runs a fused mode, ...).
  std::function<void(const frontend::Compiled&, const JobList&)> check;
};

// A compiled case: its hardware, plan and program, and the job list the
// controller expands it into.
struct CompiledCase {
  frontend::HwConfig hw;
  frontend::Compiled compiled;
  JobList jobs;
  frontend::IntegerModel model;
};

inline std::shared_ptr<const CompiledCase> compile_case(const SimCase& c) {
  auto out = std::make_shared<CompiledCase>();
  out->hw = hw_config(c.hw, c.overrides);
  frontend::LoweringOptions lo;
  lo.batch = c.batch;
  lo.onchip_intermediates = c.onchip;
  out->compiled = frontend::compile_network(out->hw, c.network(), lo);
  if (c.edit) c.edit(out->compiled.program);
  out->jobs = expand_program(out->hw, out->compiled.program);
  out->model = frontend::synthetic_model(out->compiled.plan.graph, c.seed);
  return out;
}

inline RunStats run_mode(const CompiledCase& cc, SimMode mode, bool exact) {
  SimOptions o;
  o.mode = mode;
  o.graph = &cc.compiled.plan.graph;
  o.model = &cc.model;
  o.exact_arithmetic = exact;
  return simulate(cc.hw, cc.compiled.program, o);
}

// Results of a case, computed once per process.
struct CaseResults {
  std::shared_ptr<const CompiledCase> compiled;
  RunStats fast, detailed;
};

inline const CaseResults& case_results(const SimCase& c) {
  static std::map<std::string, CaseResults> cache;
  auto it = cache.find(c.name);
  if (it != cache.end()) return it->second;
  CaseResults r;
  r.compiled = compile_case(c);
  r.fast = run_mode(*r.compiled, SimMode::kFast, false);
  r.detailed = run_mode(*r.compiled, SimMode::kDetailed, c.exact);
  return cache.emplace(c.name, std::move(r)).first->second;
}

// --- job-list queries -----------------------------------------------------------

inline size_t count_transfers(const JobList& jobs, Transfer t) {
  size_t n = 0;
  for (const Job& j : jobs.jobs) {
    if ((j.engine == Engine::kLoad || j.engine == Engine::kStore) && j.transfer == t) ++n;
  }
  return n;
}

// The array modes of a program's conv layers.
inline std::vector<frontend::ArrayMode> array_modes_used(const JobList& jobs) {
  std::vector<frontend::ArrayMode> modes;
  for (const Job& j : jobs.jobs) {
    if (j.engine == Engine::kArray) modes.push_back(j.mode);
  }
  return modes;
}

// --- comparing statistics ---------------------------------------------------------

// Differing fields of two Counts ("" when equal).
inline std::string counts_diff(const Counts& a, const Counts& b) {
  std::string s;
  auto field = [&](const char* name, uint64_t x, uint64_t y) {
    if (x != y) s += fmt::format(" {}: {} vs {};", name, x, y);
  };
  field("dram_read_bits", a.dram_read_bits, b.dram_read_bits);
  field("dram_write_bits", a.dram_write_bits, b.dram_write_bits);
  field("dram_transfers", a.dram_transfers, b.dram_transfers);
  field("ibuf_read_bits", a.ibuf_read_bits, b.ibuf_read_bits);
  field("ibuf_write_bits", a.ibuf_write_bits, b.ibuf_write_bits);
  field("wbuf_read_bits", a.wbuf_read_bits, b.wbuf_read_bits);
  field("wbuf_write_bits", a.wbuf_write_bits, b.wbuf_write_bits);
  field("obuf_read_bits", a.obuf_read_bits, b.obuf_read_bits);
  field("obuf_write_bits", a.obuf_write_bits, b.obuf_write_bits);
  field("unit_busy_cycles", a.unit_busy_cycles, b.unit_busy_cycles);
  field("asu_busy_cycles", a.asu_busy_cycles, b.asu_busy_cycles);
  field("ppu_elements", a.ppu_elements, b.ppu_elements);
  field("chunk_products", a.chunk_products, b.chunk_products);
  field("chunk_product_input_bits", a.chunk_product_input_bits, b.chunk_product_input_bits);
  field("folds", a.folds, b.folds);
  for (int e = 0; e < kEngines; ++e) {
    field(engine_name(static_cast<Engine>(e)), a.engine_busy[static_cast<size_t>(e)],
          b.engine_busy[static_cast<size_t>(e)]);
  }
  return s;
}

// Energies are the same function of the same counts and cycles: equal to the
// last bit, so compared with ==.
inline void expect_same_energy(const Energy& a, const Energy& b, const std::string& where) {
  for (const auto& c : frontend::energy_components())
    EXPECT_EQ(a[c.id], b[c.id]) << where << " " << c.key;
  EXPECT_EQ(a.total(), b.total()) << where;
}

inline void expect_same_dram(const DramStats& a, const DramStats& b) {
  EXPECT_EQ(a.read_bits, b.read_bits);
  EXPECT_EQ(a.write_bits, b.write_bits);
  EXPECT_EQ(a.transfers, b.transfers);
  EXPECT_EQ(a.busy_cycles, b.busy_cycles);
  EXPECT_EQ(a.bursts, b.bursts);
  EXPECT_EQ(a.burst_bytes, b.burst_bytes);
  EXPECT_EQ(a.activates, b.activates);
  EXPECT_EQ(a.precharges, b.precharges);
  EXPECT_EQ(a.row_hits, b.row_hits);
  EXPECT_EQ(a.row_misses, b.row_misses);
  EXPECT_EQ(a.row_conflicts, b.row_conflicts);
  EXPECT_EQ(a.refreshes, b.refreshes);
  EXPECT_EQ(a.current_energy_pj, b.current_energy_pj);
}

// Everything the two modes report must be identical.
inline void expect_same_stats(const RunStats& fast, const RunStats& detailed) {
  EXPECT_EQ(fast.mode, SimMode::kFast);
  EXPECT_EQ(detailed.mode, SimMode::kDetailed);
  EXPECT_EQ(fast.cycles, detailed.cycles);
  EXPECT_EQ(fast.jobs, detailed.jobs);
  EXPECT_TRUE(fast.counts == detailed.counts) << counts_diff(fast.counts, detailed.counts);
  expect_same_energy(fast.energy, detailed.energy, "total");
  EXPECT_EQ(fast.stalls, detailed.stalls);
  EXPECT_EQ(fast.utilization, detailed.utilization);
  EXPECT_EQ(fast.memory_model, detailed.memory_model);
  expect_same_dram(fast.dram, detailed.dram);
  ASSERT_EQ(fast.layers.size(), detailed.layers.size());
  for (size_t i = 0; i < fast.layers.size(); ++i) {
    const LayerStats& f = fast.layers[i];
    const LayerStats& d = detailed.layers[i];
    const std::string where = fmt::format("layer {} ({})", i, f.name);
    EXPECT_EQ(f.name, d.name) << where;
    EXPECT_EQ(f.cycles, d.cycles) << where;
    EXPECT_EQ(f.first_start, d.first_start) << where;
    EXPECT_EQ(f.last_done, d.last_done) << where;
    EXPECT_TRUE(f.counts == d.counts) << where << ":" << counts_diff(f.counts, d.counts);
    expect_same_energy(f.energy, d.energy, where);
    EXPECT_EQ(f.stalls, d.stalls) << where;
    EXPECT_EQ(f.utilization, d.utilization) << where;
  }
  // The SystemC buffer modules saw every bit the statistics count, and the
  // array stepped exactly the unit-cycles it reports busy.
  EXPECT_EQ(detailed.buffer_bits[0][0], detailed.counts.ibuf_read_bits);
  EXPECT_EQ(detailed.buffer_bits[0][1], detailed.counts.ibuf_write_bits);
  EXPECT_EQ(detailed.buffer_bits[1][0], detailed.counts.wbuf_read_bits);
  EXPECT_EQ(detailed.buffer_bits[1][1], detailed.counts.wbuf_write_bits);
  EXPECT_EQ(detailed.buffer_bits[2][0], detailed.counts.obuf_read_bits);
  EXPECT_EQ(detailed.buffer_bits[2][1], detailed.counts.obuf_write_bits);
  EXPECT_EQ(detailed.unit_cycles, detailed.counts.unit_busy_cycles);
}

// --- the catalogue of cases -------------------------------------------------------
//
// Small shapes (8x8 to 16x16 inputs, 4 to 64 channels) so that every detailed
// run takes a small fraction of a second, also under the sanitizers.

inline frontend::Network single_conv(frontend::Shape in, int out, int k, int s, int p, int groups,
                                     frontend::QuantSpec q) {
  NetBuilder b("single_conv", in);
  b.conv_bn(b.input(), out, k, s, p, groups, q, true);
  return b.build();
}

// A PalQuant-style block: two group convs, the channel shuffle at the end,
// the residual addition and the ReLU after it.
inline frontend::Network palquant_block(frontend::Shape in, int groups, frontend::QuantSpec q) {
  NetBuilder b("palquant_block", in);
  int y = b.conv_bn(b.input(), in.c, 3, 1, 1, groups, q, true);
  y = b.conv_bn(y, in.c, 3, 1, 1, groups, q, false);
  y = b.shuffle(y, groups);
  b.relu(b.sum(y, b.input()));
  return b.build();
}

inline frontend::Network resnet18_narrow(const std::string& method, int G,
                                         bool permutation = true) {
  frontend::NetworkRequest r;
  r.network = "resnet18";
  r.method.method = frontend::parse_method(method);
  if (r.method.method == frontend::Method::kPalQuant) {
    r.method.B = 2;
    r.method.G = G;
    r.method.cyclic_permutation = permutation;
  } else {
    r.method.a_bits = r.method.w_bits = 4;
  }
  r.method_given = true;
  r.input_size = 32;
  r.base_width = 8;
  r.blocks = std::vector<int>{1, 1, 1, 1};
  r.stem = "small";
  return frontend::resolve_network(r);
}

// ShuffleNet v2 0.5x at 8x8 with the small stem, units [1, 2, 1]: downsampling
// and basic units (split views, concat places, the identity-half copy,
// depthwise convs down to 1x1 maps), cyclic shuffle modules with 2 groups.
inline frontend::Network shufflenet_tiny(const std::string& method) {
  frontend::NetworkRequest r;
  r.network = "shufflenetv2";
  r.method.method = frontend::parse_method(method);
  r.method_given = true;
  r.width = 0.5;
  r.input_size = 8;
  r.stem = "small";
  r.blocks = std::vector<int>{1, 2, 1};
  r.cyclic_groups = 2;
  return frontend::resolve_network(r);
}

inline frontend::Network plain18_narrow(const std::string& projections) {
  frontend::NetworkRequest r;
  r.network = "plain18";
  r.method.method = frontend::Method::kLsq;
  r.method_given = true;
  r.input_size = 16;
  r.base_width = 8;
  r.blocks = std::vector<int>{1, 1, 1, 1};
  r.stem = "small";
  r.projections = projections;
  return frontend::resolve_network(r);
}

// The program has copy layers (data movement through the PPU).
inline void expect_copies(const frontend::Compiled& c, const JobList&) {
  int copies = 0;
  for (const auto& op : c.plan.graph.ops) copies += op.kind == frontend::HwOpKind::kCopy;
  EXPECT_GT(copies, 0) << "no copy op";
}

// Checks used by several cases.
inline void expect_psum_traffic(const frontend::Compiled&, const JobList& jobs) {
  EXPECT_GT(count_transfers(jobs, Transfer::kPsumStore), 0u) << "no partial sums spilled";
  EXPECT_GT(count_transfers(jobs, Transfer::kPsumLoad), 0u) << "no partial sums reloaded";
}
inline void expect_fused_mode(const frontend::Compiled&, const JobList& jobs) {
  bool fused = false;
  for (const auto& m : array_modes_used(jobs)) fused = fused || m.fa > 2 || m.fw > 2;
  EXPECT_TRUE(fused) << "no layer runs a fused (4- or 8-bit) mode";
}

// Forces every conv of the program into the given array mode.
inline std::function<void(isa::Program&)> force_mode(int fa, int fw, int lanes, int outputs) {
  return [=](isa::Program& p) {
    const auto layers = decode_layers(p);
    for (size_t op = 0; op < layers.size(); ++op) {
      if (layers[op].kind != isa::LayerKind::kConv) continue;
      set_layer_register(p, static_cast<int>(op), isa::Reg::kModeFa, static_cast<uint64_t>(fa));
      set_layer_register(p, static_cast<int>(op), isa::Reg::kModeFw, static_cast<uint64_t>(fw));
      set_layer_register(p, static_cast<int>(op), isa::Reg::kModeLanes,
                         static_cast<uint64_t>(lanes));
      set_layer_register(p, static_cast<int>(op), isa::Reg::kModeOutputs,
                         static_cast<uint64_t>(outputs));
    }
  };
}
inline std::function<void(const frontend::Compiled&, const JobList&)> expect_mode(int fa, int fw,
                                                                                  int lanes,
                                                                                  int outputs) {
  return [=](const frontend::Compiled&, const JobList& jobs) {
    const auto modes = array_modes_used(jobs);
    ASSERT_FALSE(modes.empty());
    for (const auto& m : modes) {
      EXPECT_EQ(m.fa, fa);
      EXPECT_EQ(m.fw, fw);
      EXPECT_EQ(m.lanes_per_unit, lanes);
      EXPECT_EQ(m.outputs_per_unit, outputs);
    }
  };
}

inline const std::vector<SimCase>& sim_cases() {
  using frontend::Shape;
  static const std::vector<SimCase> cases = [] {
    std::vector<SimCase> v;
    auto add = [&](SimCase c) { v.push_back(std::move(c)); };
    auto net_case = [](const std::string& name, std::function<frontend::Network()> network) {
      SimCase c;
      c.name = name;
      c.network = std::move(network);
      return c;
    };
    auto conv_case = [&](const std::string& name, Shape in, int out, int k, int s, int p, int g,
                         frontend::QuantSpec q) {
      SimCase c;
      c.name = name;
      c.network = [=] { return single_conv(in, out, k, s, p, g, q); };
      add(c);
    };
    // Convolution shapes.
    conv_case("conv3x3_s1_pad1", {8, 12, 12}, 16, 3, 1, 1, 1, lsq(4, 4));
    conv_case("conv3x3_s2_pad1", {8, 16, 16}, 16, 3, 2, 1, 1, lsq(4, 4));
    conv_case("conv1x1", {16, 8, 8}, 32, 1, 1, 0, 1, lsq(4, 4));
    conv_case("conv7x7_s2_pad3", {4, 16, 16}, 8, 7, 2, 3, 1, lsq(4, 4));
    conv_case("group_conv_g2", {16, 10, 10}, 16, 3, 1, 1, 2, lsq(4, 4));
    conv_case("group_conv_g4", {16, 10, 10}, 32, 3, 1, 1, 4, lsq(4, 4));
    conv_case("depthwise", {8, 10, 10}, 8, 3, 1, 1, 8, lsq(4, 4));
    // Dilated (atrous) convolutions: the taps are spread over the input, so the
    // input tiles need halos of the dilated extent.
    add(net_case("dilated_conv3x3_d2", [] {
      NetBuilder b("dilated", {8, 12, 12});
      b.dilated_conv(b.input(), 16, 3, 1, 2, 2, 1, lsq(4, 4));
      return b.build();
    }));
    add(net_case("dilated_depthwise_d3_s2_relu6", [] {
      NetBuilder b("dilated_dw", {8, 14, 14});
      const int y = b.relu6(b.bn(b.dilated_conv(b.input(), 8, 3, 2, 3, 3, 8, lsq(4, 4))));
      b.dilated_conv(y, 16, 3, 1, 1, 2, 1, lsq(4, 4));
      return b.build();
    }));
    // Bit-decomposed LSQ widths, odd ones included, and mixed widths.
    for (int bits = 2; bits <= 8; ++bits) {
      conv_case(fmt::format("lsq_a{}w{}", bits, bits), {8, 8, 8}, 8, 3, 1, 1, 1, lsq(bits, bits));
    }
    conv_case("lsq_a2w8", {8, 8, 8}, 8, 3, 1, 1, 1, lsq(2, 8));
    conv_case("lsq_a8w3", {8, 8, 8}, 8, 3, 1, 1, 1, lsq(8, 3));
    conv_case("lsq_a5w7", {8, 8, 8}, 8, 3, 1, 1, 1, lsq(5, 7));
    // The uniform quantizer (EWGS / PalQuant) with the activation-sum correction.
    conv_case("uniform_a2w2", {8, 8, 8}, 16, 3, 1, 1, 1, uniform(2, 2));
    conv_case("uniform_a4w4", {8, 8, 8}, 16, 3, 1, 1, 1, uniform(4, 4));
    conv_case("uniform_a3w5", {8, 8, 8}, 16, 3, 1, 1, 1, uniform(3, 5));
    conv_case("uniform_a8w7_g2", {8, 8, 8}, 16, 3, 1, 1, 2, uniform(8, 7));
    // FC: global average pool, flatten, a quantized body FC; and an FC over a map.
    add(net_case("fc_after_global_avgpool", [] {
      NetBuilder b("fc", {16, 6, 6});
      const int y = b.conv_bn(b.input(), 16, 3, 1, 1, 1, lsq(4, 4), true);
      b.fc(b.flatten(b.global_avgpool(y)), 10, lsq(4, 4));
      return b.build();
    }));
    // An output tile spanning two output-channel tiles, with two reduction
    // tiles outside them inside the tile (hand-edited loop nest of the FC
    // below): the activation sums must be summed once per reduction tile.
    {
      SimCase c;
      c.name = "output_tile_spans_channel_tiles_uniform";
      c.network = [] {
        NetBuilder b("fc_map_uniform", {8, 4, 4});
        b.fc(b.flatten(b.input()), 12, uniform(4, 4));
        return b.build();
      };
      c.edit = [](isa::Program& p) {
        replace_nest(
            p, 0, Tiles{1, 1, 1, 6, 4},
            {"LOOP dim=G trips=1", "LOOP dim=N trips=1", "LOOP dim=H trips=1", "LOOP dim=W trips=1",
             "LOAD operand=input", "LOAD operand=psum", "LOOP dim=C trips=2", "LOOP dim=M trips=2",
             "LOAD operand=weight", "COMPUTE", "ENDLOOP", "ENDLOOP", "STORE operand=output",
             "ENDLOOP", "ENDLOOP", "ENDLOOP", "ENDLOOP"});
      };
      c.check = [](const frontend::Compiled&, const JobList& jobs) {
        std::vector<const Job*> computes;
        for (const Job& j : jobs.jobs) {
          if (j.engine == Engine::kArray) computes.push_back(&j);
        }
        ASSERT_EQ(computes.size(), 4u);
        for (const Job* j : computes) EXPECT_EQ(j->acc_box.c, 12);  // one output tile
        EXPECT_EQ(count_transfers(jobs, Transfer::kPsumStore), 0u);
      };
      add(c);
    }
    // Output tiles spanning several compute tiles in hand-written nests: a
    // conv tile over two row tiles, a max pool tile over two channel tiles.
    {
      SimCase c;
      c.name = "output_tile_spans_row_tiles";
      c.network = [] { return single_conv({8, 8, 8}, 16, 3, 1, 1, 1, lsq(4, 4)); };
      c.edit = [](isa::Program& p) {
        replace_nest(
            p, 0, Tiles{1, 4, 8, 16, 8},
            {"LOOP dim=G trips=1", "LOOP dim=N trips=1", "LOAD operand=weight", "LOAD operand=psum",
             "LOOP dim=H trips=2", "LOOP dim=W trips=1", "LOOP dim=M trips=1", "LOOP dim=C trips=1",
             "LOAD operand=input", "COMPUTE", "ENDLOOP", "ENDLOOP", "ENDLOOP", "ENDLOOP",
             "STORE operand=output", "ENDLOOP", "ENDLOOP"});
      };
      add(c);
      c.name = "pool_tile_spans_channel_tiles";
      c.network = [] {
        NetBuilder b("maxpool_nest", {8, 12, 12});
        const int y = b.conv_bn(b.input(), 8, 3, 1, 1, 1, lsq(4, 4), true);
        b.conv_bn(b.maxpool(y, 3, 2, 1), 16, 1, 1, 0, 1, lsq(4, 4), true);
        return b.build();
      };
      c.edit = [](isa::Program& p) {
        replace_nest(
            p, 1, Tiles{1, 6, 6, 4, 1},
            {"LOOP dim=G trips=1", "LOOP dim=N trips=1", "LOOP dim=H trips=1", "LOOP dim=W trips=1",
             "LOOP dim=M trips=2", "LOOP dim=C trips=1", "LOAD operand=input", "COMPUTE", "ENDLOOP",
             "ENDLOOP", "STORE operand=output", "ENDLOOP", "ENDLOOP", "ENDLOOP", "ENDLOOP"});
      };
      add(c);
    }
    add(net_case("fc_over_map", [] {
      NetBuilder b("fc_map", {8, 4, 4});
      b.fc(b.flatten(b.input()), 12, lsq(4, 4));
      return b.build();
    }));
    // Pools between convs.
    add(net_case("maxpool_3x3_s2_pad1", [] {
      NetBuilder b("maxpool", {8, 12, 12});
      int y = b.conv_bn(b.input(), 8, 3, 1, 1, 1, lsq(4, 4), true);
      y = b.maxpool(y, 3, 2, 1);
      b.conv_bn(y, 16, 1, 1, 0, 1, lsq(4, 4), true);
      return b.build();
    }));
    add(net_case("avgpool_2x2_s2", [] {
      NetBuilder b("avgpool", {8, 12, 12});
      int y = b.conv_bn(b.input(), 8, 3, 1, 1, 1, lsq(4, 4), true);
      y = b.avgpool(y, 2, 2, 0);
      b.conv_bn(y, 16, 1, 1, 0, 1, lsq(4, 4), true);
      return b.build();
    }));
    add(net_case("avgpool_3x3_s1_pad1", [] {
      NetBuilder b("avgpool_pad", {8, 10, 10});
      int y = b.conv_bn(b.input(), 8, 3, 1, 1, 1, lsq(4, 4), true);
      b.avgpool(y, 3, 1, 1);
      return b.build();
    }));
    add(net_case("global_avgpool", [] {
      NetBuilder b("gap", {16, 8, 8});
      b.global_avgpool(b.conv_bn(b.input(), 16, 3, 1, 1, 1, lsq(4, 4), true));
      return b.build();
    }));
    // Residual additions, the cyclic shuffle module, channel shuffles, permutations.
    add(net_case("residual_relu_after", [] {
      NetBuilder b("residual", {16, 8, 8});
      int y = b.conv_bn(b.input(), 16, 3, 1, 1, 1, lsq(4, 4), true);
      y = b.conv_bn(y, 16, 3, 1, 1, 1, lsq(4, 4), false);
      b.relu(b.sum(y, b.input()));
      return b.build();
    }));
    add(net_case("cyclic_module_relu_before", [] {
      NetBuilder b("cyclic_module", {16, 8, 8});
      int y = b.permute(b.input(), 4, +1);
      y = b.conv_bn(y, 16, 1, 1, 0, 4, uniform(2, 2), true);
      b.sum(y, b.input());
      return b.build();
    }));
    add(net_case("shuffle_before_residual", [] {
      NetBuilder b("shuffle_residual", {16, 8, 8});
      int y = b.conv_bn(b.input(), 16, 3, 1, 1, 2, lsq(4, 4), false);
      y = b.shuffle(y, 2);
      b.relu(b.sum(y, b.input()));
      return b.build();
    }));
    for (int dir : {+1, -1}) {
      add(net_case(dir > 0 ? "permute_paper_direction" : "permute_reference_direction", [dir] {
        NetBuilder b("permute", {16, 8, 8});
        int y = b.conv_bn(b.input(), 16, 1, 1, 0, 4, lsq(4, 4), true);
        y = b.permute(y, 4, dir);
        b.conv_bn(y, 16, 3, 1, 1, 4, lsq(4, 4), true);
        return b.build();
      }));
    }
    // Block intermediates on chip, and the same block without.
    for (bool onchip : {true, false}) {
      SimCase c;
      c.name = onchip ? "onchip_intermediate" : "onchip_off";
      c.network = [] { return palquant_block({16, 8, 8}, 2, uniform(2, 2)); };
      c.onchip = onchip;
      c.check = [onchip](const frontend::Compiled& cc, const JobList& jobs) {
        EXPECT_EQ(cc.plan.fused_pairs, onchip ? 1 : 0);
        bool region = false;
        for (const Job& j : jobs.jobs) region = region || j.region >= 0;
        EXPECT_EQ(region, onchip);
      };
      add(c);
    }
    // Partial sums spilled to DRAM: a small OBUF and WBUF and a long reduction.
    {
      const std::vector<std::string> small = {"buffers.obuf.size_bytes=256",
                                              "buffers.wbuf.size_bytes=2048",
                                              "buffers.ibuf.size_bytes=512"};
      SimCase c;
      c.overrides = small;
      c.check = expect_psum_traffic;
      c.name = "psum_spill_lsq";
      c.network = [] { return single_conv({64, 4, 4}, 32, 3, 1, 1, 1, lsq(4, 4)); };
      add(c);
      c.name = "psum_spill_uniform";
      c.network = [] { return single_conv({64, 4, 4}, 32, 3, 1, 1, 1, uniform(4, 4)); };
      add(c);
      c.name = "psum_spill_residual";
      c.overrides = {"buffers.obuf.size_bytes=128", "buffers.wbuf.size_bytes=2048",
                     "buffers.ibuf.size_bytes=2048"};
      c.network = [] {
        NetBuilder b("psum_residual", {128, 4, 4});
        const int y = b.conv_bn(b.input(), 128, 3, 1, 1, 1, lsq(4, 4), false);
        b.relu(b.sum(y, b.input()));
        return b.build();
      };
      add(c);
      // Three reduction tiles outside five output-channel tiles: spilled
      // activation sums must stay apart per output tile.
      c.name = "psum_spill_uniform_c_outer";
      c.overrides = {"buffers.obuf.size_bytes=256", "buffers.wbuf.size_bytes=2048",
                     "buffers.ibuf.size_bytes=512"};
      c.network = [] { return single_conv({96, 4, 4}, 32, 3, 1, 1, 1, uniform(4, 4)); };
      add(c);
      // The same spills in a hand-written nest (independent of the mapper's
      // choice): three reduction tiles outside two output-channel tiles, the
      // partial sums leaving OBUF after every compute.
      c.name = "psum_spill_uniform_hand_nest";
      c.overrides = {};
      c.network = [] { return single_conv({48, 4, 4}, 32, 3, 1, 1, 1, uniform(4, 4)); };
      c.edit = [](isa::Program& p) {
        replace_nest(
            p, 0, Tiles{1, 2, 4, 16, 16},
            {"LOOP dim=G trips=1", "LOOP dim=C trips=3", "LOAD operand=input", "LOOP dim=M trips=2",
             "LOAD operand=weight", "LOOP dim=N trips=1", "LOOP dim=H trips=2",
             "LOOP dim=W trips=1", "LOAD operand=psum", "COMPUTE", "STORE operand=output",
             "ENDLOOP", "ENDLOOP", "ENDLOOP", "ENDLOOP", "ENDLOOP", "ENDLOOP"});
      };
      c.check = [](const frontend::Compiled& cc, const JobList& jobs) {
        expect_psum_traffic(cc, jobs);
        // 3 C tiles x 2 M tiles x 2 H tiles: the first two C tiles spill.
        EXPECT_EQ(count_transfers(jobs, Transfer::kPsumStore), 8u);
        EXPECT_EQ(count_transfers(jobs, Transfer::kPsumLoad), 8u);
      };
      add(c);
      c.edit = nullptr;
      c.check = expect_psum_traffic;
      c.name = "psum_spill_uniform_tiny_buffers";
      c.overrides = {"buffers.obuf.size_bytes=256", "buffers.wbuf.size_bytes=512",
                     "buffers.ibuf.size_bytes=512"};
      c.network = [] { return single_conv({32, 8, 8}, 32, 3, 1, 1, 1, uniform(4, 4)); };
      add(c);
    }
    // Bit Fusion's fused modes.
    {
      SimCase c;
      c.overrides = {"array.fusion_bits=[2,4,8]"};
      c.name = "bitfusion_fused_a8w8";
      c.network = [] { return single_conv({16, 8, 8}, 16, 3, 1, 1, 1, lsq(8, 8)); };
      c.check = expect_fused_mode;
      add(c);
      c.name = "bitfusion_fused_a4w4";
      c.network = [] { return single_conv({16, 8, 8}, 16, 3, 1, 1, 1, lsq(4, 4)); };
      add(c);
      c.name = "bitfusion_fused_a8w2";
      c.network = [] { return single_conv({16, 8, 8}, 16, 3, 1, 1, 1, lsq(8, 2)); };
      add(c);
      // Every fused mode, forced.
      for (int fa : {2, 4, 8}) {
        for (int fw : {2, 4, 8}) {
          c.name = fmt::format("bitfusion_forced_{}x{}", fa, fw);
          c.network = [] { return single_conv({8, 8, 8}, 8, 3, 1, 1, 1, lsq(7, 5)); };
          const int lanes = 16 / ((fa / 2) * (fw / 2));
          c.edit = force_mode(fa, fw, lanes, 1);
          c.check = expect_mode(fa, fw, lanes, 1);
          add(c);
        }
      }
    }
    // BPVeC: 2-bit mode, the uniform quantizer (EWGS), NBVE groupings.
    {
      SimCase c;
      c.hw = "bpvec";
      c.name = "bpvec_lsq_a4w4";
      c.network = [] { return single_conv({16, 10, 10}, 16, 3, 1, 1, 1, lsq(4, 4)); };
      add(c);
      c.name = "bpvec_ewgs_a4w4";
      c.network = [] { return single_conv({16, 10, 10}, 16, 3, 1, 1, 1, uniform(4, 4)); };
      add(c);
      c.name = "bpvec_palquant_block";
      c.network = [] { return palquant_block({16, 8, 8}, 2, uniform(2, 2)); };
      add(c);
      // The aggregator sums k NBVEs per dot product: 16k lanes, 16/k outputs.
      for (int k = 1; k <= 16; k *= 2) {
        c.name = fmt::format("bpvec_nbve_group_{}x{}", 16 * k, 16 / k);
        c.network = [] { return single_conv({16, 8, 8}, 32, 3, 1, 1, 1, uniform(3, 3)); };
        c.edit = force_mode(2, 2, 16 * k, 16 / k);
        c.check = expect_mode(2, 2, 16 * k, 16 / k);
        add(c);
      }
      c.edit = nullptr;
      c.check = expect_fused_mode;
      c.overrides = {"array.fusion_bits=[2,4,8]"};
      c.name = "bpvec_fused_a8w8";
      c.network = [] { return single_conv({16, 8, 8}, 16, 3, 1, 1, 1, lsq(8, 8)); };
      add(c);
      c.check = nullptr;
      c.name = "bpvec_forced_4x8";
      c.network = [] { return single_conv({8, 8, 8}, 8, 3, 1, 1, 1, lsq(7, 5)); };
      c.edit = force_mode(4, 8, 16, 2);
      c.check = expect_mode(4, 8, 16, 2);
      add(c);
    }
    // Units computing through the kernels' BitBrick / Fusion Unit and NBVE functions.
    {
      SimCase c;
      c.exact = true;
      c.name = "exact_bitfusion";
      c.network = [] { return single_conv({8, 8, 8}, 16, 3, 1, 1, 1, lsq(5, 3)); };
      add(c);
      c.name = "exact_bitfusion_uniform";
      c.network = [] { return single_conv({8, 8, 8}, 16, 3, 1, 1, 2, uniform(4, 4)); };
      add(c);
      c.overrides = {"array.fusion_bits=[2,4,8]"};
      c.name = "exact_bitfusion_fused";
      c.network = [] { return single_conv({8, 8, 8}, 8, 3, 1, 1, 1, lsq(7, 5)); };
      c.edit = force_mode(4, 8, 2, 1);
      c.check = expect_mode(4, 8, 2, 1);
      add(c);
      c.edit = nullptr;
      c.check = nullptr;
      c.overrides = {};
      c.hw = "bpvec";
      c.name = "exact_bpvec";
      c.network = [] { return single_conv({8, 8, 8}, 16, 3, 1, 1, 1, lsq(5, 3)); };
      add(c);
      c.name = "exact_bpvec_uniform";
      c.network = [] { return single_conv({8, 8, 8}, 16, 3, 1, 1, 2, uniform(4, 4)); };
      add(c);
      c.overrides = {"array.fusion_bits=[2,4,8]"};
      c.name = "exact_bpvec_fused";
      c.network = [] { return single_conv({8, 8, 8}, 8, 3, 1, 1, 1, lsq(7, 5)); };
      c.edit = force_mode(4, 8, 16, 2);
      c.check = expect_mode(4, 8, 16, 2);
      add(c);
    }
    // Batch 2 and the DDR4 memory model.
    {
      SimCase c;
      c.name = "batch2";
      c.batch = 2;
      c.network = [] {
        NetBuilder b("batch2", {8, 8, 8});
        int y = b.conv_bn(b.input(), 16, 3, 1, 1, 1, lsq(4, 4), true);
        y = b.conv_bn(y, 16, 3, 2, 1, 2, uniform(4, 4), true);
        b.global_avgpool(y);
        return b.build();
      };
      add(c);
      c.name = "batch2_palquant_block";
      c.network = [] { return palquant_block({16, 8, 8}, 2, uniform(2, 2)); };
      add(c);
      c.batch = 1;
      c.name = "ddr4";
      c.overrides = {"offchip.model=ddr4"};
      c.network = [] { return palquant_block({16, 8, 8}, 2, uniform(2, 2)); };
      add(c);
      c.name = "ddr4_psum_spill";
      c.overrides = {"offchip.model=ddr4", "buffers.obuf.size_bytes=256",
                     "buffers.wbuf.size_bytes=2048"};
      c.network = [] { return single_conv({64, 4, 4}, 32, 3, 1, 1, 1, uniform(4, 4)); };
      c.check = expect_psum_traffic;
      add(c);
    }
    // Whole small networks.
    for (const char* hw : {"bitfusion", "bpvec"}) {
      SimCase c;
      c.hw = hw;
      c.name = fmt::format("resnet18_narrow_lsq_a4w4_{}", hw);
      c.network = [] { return resnet18_narrow("lsq", 1); };
      add(c);
      c.name = fmt::format("resnet18_narrow_palquant_g2_{}", hw);
      c.network = [] { return resnet18_narrow("palquant", 2); };
      add(c);
    }
    // Cyclic shuffle modules without their permutation read their input twice
    // (as the conv's input and as the residual): it must not stay on chip
    // (found by palsim validate --sim-images on a trained ablation model).
    {
      SimCase c;
      c.name = "resnet18_narrow_palquant_g2_no_permutation";
      c.network = [] { return resnet18_narrow("palquant", 2, false); };
      add(c);
    }
    // Split, concatenation, channel views and copies (issue 9).
    for (const char* hw : {"bitfusion", "bpvec"}) {
      SimCase c;
      c.hw = hw;
      c.name = fmt::format("shufflenet_tiny_lsq_{}", hw);
      c.network = [] { return shufflenet_tiny("lsq"); };
      c.check = expect_copies;
      add(c);
    }
    {
      SimCase c;
      c.name = "shufflenet_tiny_ewgs";
      c.network = [] { return shufflenet_tiny("ewgs"); };
      c.check = expect_copies;
      add(c);
      c.name = "concat_nested_copies_standalone_shuffle";
      c.network = [] {
        NetBuilder b("concat", {8, 6, 6});
        const int r1 = b.relu(b.conv(b.input(), 8, 3, 1, 1, 1, lsq(4, 4)));
        const int c2 = b.conv(r1, 4, 1, 1, 0, 1, lsq(4, 4));
        const int inner = b.concat({r1, c2});
        const int outer = b.concat({b.input(), inner});
        const int half = b.split(b.shuffle(b.maxpool(outer, 2, 2, 0), 4), 4, 16);
        b.conv_bn(half, 8, 3, 1, 1, 8, uniform(4, 4), true);
        return b.build();
      };
      add(c);
      c.check = nullptr;
      c.name = "plain18_narrow_keep";
      c.network = [] { return plain18_narrow("keep"); };
      add(c);
    }
    return v;
  }();
  return cases;
}

inline void PrintTo(const SimCase& c, std::ostream* os) {
  *os << c.name;
}

inline std::string case_name(const ::testing::TestParamInfo<SimCase>& info) {
  return info.param.name;
}

}  // namespace palsim::sim::test
