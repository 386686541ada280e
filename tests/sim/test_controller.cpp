// The controller: malformed instruction streams are rejected with an
// InputError naming the instruction, and hand-assembled programs expand into
// exactly the jobs and dependencies the execution rules prescribe (docs/model.md,
// "Execution"): double-buffer slots alternate, the PPU waits for the array,
// the store for the PPU, and a layer's input load for the last store of the
// tensor it reads.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "sim/core/controller.h"
#include "tests/sim/sim_test_util.h"

namespace palsim::sim::test {
namespace {

// A program from assembly text (one instruction a line; blank lines and
// lines starting with ';' ignored).
isa::Program assemble(const std::string& text) {
  isa::Program p;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == ';') continue;
    p.code.push_back(isa::assemble(line.substr(first)));
  }
  return p;
}

// The registers of a small conv layer: 4 -> 8 channels, 1x1 kernel, 4x4
// outputs, 2-bit operands, one group; input at bit 0, output at bit 4096,
// weights at bit 8192, psum scratch at bit 16384. Tiles: 2 output rows, the
// rest whole.
std::string conv_registers(int op, uint64_t in_addr, uint64_t out_addr, uint64_t w_addr,
                           const std::string& extra = "") {
  std::ostringstream s;
  s << "LAYER kind=conv op=" << op << "\n"
    << "SETR reg=IN_ADDR value=" << in_addr << "\n"
    << "SETR reg=IN_C value=4\nSETR reg=IN_H value=4\nSETR reg=IN_W value=4\n"
    << "SETR reg=IN_BITS value=2\n"
    << "SETR reg=W_ADDR value=" << w_addr << "\n"
    << "SETR reg=W_BITS value=2\nSETR reg=W_SIGNED value=1\n"
    << "SETR reg=OUT_ADDR value=" << out_addr << "\n"
    << "SETR reg=OUT_C value=8\nSETR reg=OUT_H value=4\nSETR reg=OUT_W value=4\n"
    << "SETR reg=OUT_BITS value=2\n"
    << "SETR reg=KERNEL_H value=1\nSETR reg=KERNEL_W value=1\n"
    << "SETR reg=STRIDE_H value=1\nSETR reg=STRIDE_W value=1\n"
    << "SETR reg=PAD_H value=0\nSETR reg=PAD_W value=0\n"
    << "SETR reg=GROUPS value=1\nSETR reg=BATCH value=1\nSETR reg=A_BITS value=2\n"
    << "SETR reg=MODE_FA value=2\nSETR reg=MODE_FW value=2\n"
    << "SETR reg=MODE_LANES value=16\nSETR reg=MODE_OUTPUTS value=1\n"
    << "SETR reg=TILE_N value=1\nSETR reg=TILE_H value=2\nSETR reg=TILE_W value=4\n"
    << "SETR reg=TILE_M value=8\nSETR reg=TILE_C value=4\n"
    << "SETR reg=FLAGS value=0\nSETR reg=OUT_SHUFFLE value=0\nSETR reg=IN_ROTATE value=0\n"
    << "SETR reg=PSUM_ADDR value=16384\n"
    << extra;
  return s.str();
}

// The nest of one conv layer over two row tiles: weights once, then per row
// tile the input, the output tile (psum), the compute and the store.
const char* kTwoRowTiles = R"(
  LOOP dim=G trips=1
    LOAD operand=weight
    LOOP dim=H trips=2
      LOAD operand=input
      LOAD operand=psum
      COMPUTE
      STORE operand=output
    ENDLOOP
  ENDLOOP
  ENDLAYER
)";

frontend::HwConfig bitfusion() {
  return hw_config("bitfusion");
}

std::string expand_error(const std::string& text) {
  try {
    expand_program(bitfusion(), assemble(text));
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError for:\n" << text;
  return "";
}

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}

// --- malformed programs -------------------------------------------------------

TEST(ControllerMalformed, UnbalancedLoops) {
  EXPECT_TRUE(Contains(expand_error("LOOP dim=N trips=2\nHALT\n"), "LOOP without ENDLOOP"));
  EXPECT_TRUE(Contains(expand_error("ENDLOOP\nHALT\n"), "ENDLOOP without LOOP"));
  EXPECT_TRUE(Contains(
      expand_error(conv_registers(0, 0, 4096, 8192) + "LOOP dim=G trips=1\nENDLOOP\nENDLOOP\n"),
      "ENDLOOP without LOOP"));
  // The error names the instruction.
  EXPECT_TRUE(Contains(expand_error("NOP\nLOOP dim=H trips=3\nHALT\n"),
                       "instruction 1 (LOOP dim=H trips=3)"));
}

TEST(ControllerMalformed, WorkOutsideALayer) {
  EXPECT_TRUE(Contains(expand_error("LOAD operand=input\n"), "LOAD outside a layer"));
  EXPECT_TRUE(Contains(expand_error("COMPUTE\n"), "COMPUTE outside a layer"));
  EXPECT_TRUE(Contains(expand_error("STORE operand=output\n"), "STORE outside a layer"));
  // After ENDLAYER the layer is closed.
  EXPECT_TRUE(Contains(
      expand_error(conv_registers(0, 0, 4096, 8192) + kTwoRowTiles + "LOAD operand=weight\nHALT\n"),
      "LOAD outside a layer"));
}

TEST(ControllerMalformed, ZeroTrips) {
  EXPECT_TRUE(Contains(
      expand_error(conv_registers(0, 0, 4096, 8192) + "LOOP dim=G trips=0\nENDLOOP\nENDLAYER\n"),
      "at least one trip"));
}

TEST(ControllerMalformed, UnknownRegisterDimensionOperand) {
  EXPECT_TRUE(Contains(expand_error("SETR reg=200 value=1\n"), "unknown register"));
  EXPECT_TRUE(Contains(expand_error("LOOP dim=9 trips=1\nENDLOOP\n"), "unknown loop dimension"));
  EXPECT_TRUE(Contains(expand_error("LAYER kind=7 op=0\n"), "unknown layer kind"));
  EXPECT_TRUE(Contains(expand_error(conv_registers(0, 0, 4096, 8192) +
                                    "LOOP dim=G trips=1\nLOAD operand=9\n" + "ENDLOOP\nENDLAYER\n"),
                       "unknown LOAD operand"));
}

TEST(ControllerMalformed, RegistersOutOfRange) {
  // Values that would divide by zero or index outside a tensor later.
  const std::string nest = "LOOP dim=G trips=1\nLOAD operand=weight\nENDLOOP\nENDLAYER\n";
  EXPECT_TRUE(
      Contains(expand_error(conv_registers(0, 0, 4096, 8192, "SETR reg=GROUPS value=0\n") + nest),
               "register GROUPS = 0"));
  EXPECT_TRUE(
      Contains(expand_error(conv_registers(0, 0, 4096, 8192, "SETR reg=GROUPS value=3\n") + nest),
               "does not divide"));
  EXPECT_TRUE(
      Contains(expand_error(conv_registers(0, 0, 4096, 8192, "SETR reg=BATCH value=0\n") + nest),
               "register BATCH = 0"));
  EXPECT_TRUE(
      Contains(expand_error(conv_registers(0, 0, 4096, 8192, "SETR reg=MODE_FA value=0\n") + nest),
               "array mode 0x2"));
  EXPECT_TRUE(Contains(
      expand_error(conv_registers(0, 0, 4096, 8192, "SETR reg=MODE_LANES value=0\n") + nest),
      "does not fit the units"));
  // Bit Fusion in 2-bit mode: 16 lanes per Fusion Unit, not 32.
  EXPECT_TRUE(Contains(
      expand_error(conv_registers(0, 0, 4096, 8192, "SETR reg=MODE_LANES value=32\n") + nest),
      "32 lanes x 1 outputs"));
  // 4-bit operands are not configured (fusion_bits: [2]).
  EXPECT_TRUE(Contains(expand_error(conv_registers(0, 0, 4096, 8192,
                                                   "SETR reg=MODE_FA value=4\n"
                                                   "SETR reg=MODE_LANES value=8\n") +
                                    nest),
                       "not one of the configured operand widths"));
  EXPECT_TRUE(Contains(
      expand_error(conv_registers(0, 0, 4096, 8192, "SETR reg=IN_ROTATE value=1\n") + nest),
      "register IN_ROTATE = 1"));
  EXPECT_TRUE(
      Contains(expand_error(conv_registers(0, 0, 4096, 8192, "SETR reg=STRIDE_H value=0\n") + nest),
               "register STRIDE_H = 0"));
  EXPECT_TRUE(
      Contains(expand_error(conv_registers(0, 0, 4096, 8192, "SETR reg=IN_BITS value=31\n") + nest),
               "register IN_BITS = 31"));
}

TEST(ControllerMalformed, OutputTilesOpenAndClose) {
  const std::string regs = conv_registers(0, 0, 4096, 8192);
  EXPECT_TRUE(Contains(expand_error(regs + "LOOP dim=G trips=1\nLOAD operand=input\n"
                                           "LOAD operand=weight\nCOMPUTE\nENDLOOP\nENDLAYER\n"),
                       "COMPUTE outside an output tile"));
  EXPECT_TRUE(Contains(expand_error(regs + "LOOP dim=G trips=1\nSTORE operand=output\n"
                                           "ENDLOOP\nENDLAYER\n"),
                       "STORE outside an output tile"));
  EXPECT_TRUE(Contains(expand_error(regs + "LOOP dim=G trips=1\nLOAD operand=psum\n"
                                           "LOAD operand=psum\nENDLOOP\nENDLAYER\n"),
                       "LOAD psum while an output tile is open"));
  EXPECT_TRUE(Contains(expand_error(regs + "LOOP dim=G trips=1\nLOAD operand=psum\nENDLOOP\n"
                                           "ENDLAYER\n"),
                       "ENDLAYER with an output tile still open"));
  // Operands of the layer itself, not left over from the previous one.
  EXPECT_TRUE(Contains(expand_error(regs + "LOOP dim=G trips=1\nLOAD operand=input\n"
                                           "LOAD operand=psum\nCOMPUTE\nENDLOOP\nENDLAYER\n"),
                       "COMPUTE before the layer's LOAD weight"));
  EXPECT_TRUE(Contains(expand_error(regs + kTwoRowTiles + conv_registers(1, 4096, 12288, 10240) +
                                    "LOOP dim=G trips=1\nLOAD operand=weight\n"
                                    "LOAD operand=psum\nCOMPUTE\nENDLOOP\nENDLAYER\n"),
                       "COMPUTE before the layer's LOAD input"));
  EXPECT_TRUE(Contains(expand_error(conv_registers(0, 0, 4096, 8192,
                                                   "SETR reg=FLAGS value=4\n"
                                                   "SETR reg=RES_ADDR value=0\n"
                                                   "SETR reg=RES_BITS value=2\n") +
                                    kTwoRowTiles),
                       "without a LOAD residual"));
}

TEST(ControllerMalformed, ReachesTheCallerOfSimulateInBothModes) {
  // Through simulate(): the fast mode directly, the detailed mode across the
  // child process that runs SystemC.
  const frontend::HwConfig hw = bitfusion();
  isa::Program p = assemble("LOOP dim=N trips=0\nENDLOOP\nHALT\n");
  p.info.hw_fingerprint = hw.fingerprint();
  for (SimMode mode : {SimMode::kFast, SimMode::kDetailed}) {
    SimOptions o;
    o.mode = mode;
    try {
      simulate(hw, p, o);
      ADD_FAILURE() << "no error in " << to_string(mode) << " mode";
    } catch (const InputError& e) {
      EXPECT_TRUE(Contains(e.what(), "at least one trip")) << to_string(mode);
    }
  }
}

// --- expansion of hand-assembled programs ------------------------------------------

struct Expected {
  Engine engine;
  Transfer transfer;  // DMA jobs only
  int slot;           // DMA: slot; array and PPU: the OBUF slot
  std::vector<uint32_t> deps;
};

void expect_jobs(const JobList& jobs, const std::vector<Expected>& want) {
  ASSERT_EQ(jobs.jobs.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) {
    const Job& j = jobs.jobs[k];
    const Expected& w = want[k];
    EXPECT_EQ(j.engine, w.engine) << "job " << k;
    if (w.engine == Engine::kLoad || w.engine == Engine::kStore) {
      EXPECT_EQ(j.transfer, w.transfer) << "job " << k;
      EXPECT_EQ(j.slot, w.slot) << "job " << k;
    } else {
      EXPECT_EQ(j.o_slot, w.slot) << "job " << k;
    }
    EXPECT_EQ(j.deps, w.deps) << "job " << k;
  }
  // Every engine queue lists its jobs in program order.
  for (int e = 0; e < kEngines; ++e) {
    uint32_t last = 0;
    bool first = true;
    for (uint32_t id : jobs.queue[e]) {
      EXPECT_EQ(jobs.jobs[id].engine, static_cast<Engine>(e));
      if (!first) {
        EXPECT_GT(id, last);
      }
      last = id;
      first = false;
    }
  }
}

TEST(ControllerExpansion, TwoLayersOfTwoRowTiles) {
  // Layer 0 writes the tensor at bit 4096 that layer 1 reads.
  const isa::Program p = assemble(conv_registers(0, 0, 4096, 8192) + kTwoRowTiles +
                                  conv_registers(1, 4096, 12288, 10240) + kTwoRowTiles + "HALT\n");
  const JobList jobs = expand_program(bitfusion(), p);
  const Engine L = Engine::kLoad, S = Engine::kStore, A = Engine::kArray, P = Engine::kPpu;
  const Transfer in = Transfer::kInput, wt = Transfer::kWeight, out = Transfer::kOutput;
  expect_jobs(jobs, {
                        // layer 0
                        {L, wt, 0, {}},          // 0: weights into WBUF half 0
                        {L, in, 0, {}},          // 1: rows 0-1 into IBUF half 0
                        {A, in, 0, {1, 0}},      // 2: compute into OBUF half 0
                        {P, in, 0, {2}},         // 3: requantize after the array
                        {S, out, 0, {3}},        // 4: store after the PPU
                        {L, in, 1, {}},          // 5: rows 2-3 into IBUF half 1
                        {A, in, 1, {5, 0}},      // 6: OBUF half 1
                        {P, in, 1, {6}},         // 7
                        {S, out, 1, {7}},        // 8
                                                 // layer 1
                        {L, wt, 1, {}},          // 9: WBUF half 1 (half 0 still in use)
                        {L, in, 0, {2, 8}},      // 10: IBUF half 0 after its last reader, and
                                                 //     after layer 0's last store
                        {A, in, 0, {10, 9, 4}},  // 11: OBUF half 0 after its store
                        {P, in, 0, {11}},        // 12
                        {S, out, 0, {12}},       // 13
                        {L, in, 1, {6, 8}},      // 14
                        {A, in, 1, {14, 9, 8}},  // 15
                        {P, in, 1, {15}},        // 16
                        {S, out, 1, {16}},       // 17
                    });
  // The boxes: row tiles of the input and output, whole weights.
  EXPECT_EQ(jobs.jobs[1].box.h0, 0);
  EXPECT_EQ(jobs.jobs[1].box.h, 2);
  EXPECT_EQ(jobs.jobs[5].box.h0, 2);
  EXPECT_EQ(jobs.jobs[2].out_box.h0, 0);
  EXPECT_EQ(jobs.jobs[6].out_box.h0, 2);
  EXPECT_EQ(jobs.jobs[6].out_box.c, 8);
  EXPECT_EQ(jobs.jobs[0].weights.m, 8);  // 8 output channels of weights
  EXPECT_EQ(jobs.jobs[0].weights.c, 4);  // of 4 input channels each
  // Bits: a 4x2x4 input tile at 2 bits, 8x4 weights at 2 bits, an 8x2x4 output tile.
  EXPECT_EQ(jobs.jobs[1].bits, 4u * 2 * 4 * 2);
  EXPECT_EQ(jobs.jobs[0].bits, 8u * 4 * 2);
  EXPECT_EQ(jobs.jobs[4].bits, 8u * 2 * 4 * 2);
  // The compute tile: 8 pixels, a reduction of 4, 8 outputs, first contribution.
  EXPECT_EQ(jobs.jobs[2].tile.pixels, 8);
  EXPECT_EQ(jobs.jobs[2].tile.k_elems, 4);
  EXPECT_EQ(jobs.jobs[2].tile.m, 8);
  EXPECT_FALSE(jobs.jobs[2].tile.accumulate);
  EXPECT_TRUE(jobs.jobs[2].opens_tile);
}

TEST(ControllerExpansion, PartialSumsSpillAndReturn) {
  // Two reduction tiles outside the output tile: the first visit spills its
  // partial sums, the second reloads them, accumulates and post-processes.
  const isa::Program p =
      assemble(conv_registers(0, 0, 4096, 8192, "SETR reg=TILE_C value=2\n") + R"(
    LOOP dim=G trips=1
      LOOP dim=C trips=2
        LOAD operand=input
        LOAD operand=weight
        LOAD operand=psum
        COMPUTE
        STORE operand=output
      ENDLOOP
    ENDLOOP
    ENDLAYER
    HALT
  )");
  const JobList jobs = expand_program(bitfusion(), p);
  const Engine L = Engine::kLoad, S = Engine::kStore, A = Engine::kArray, P = Engine::kPpu;
  const Transfer in = Transfer::kInput, wt = Transfer::kWeight, out = Transfer::kOutput;
  expect_jobs(jobs, {
                        {L, in, 0, {}},                     // 0
                        {L, wt, 0, {}},                     // 1
                        {A, in, 0, {0, 1}},                 // 2: OBUF half 0
                        {S, Transfer::kPsumStore, 0, {2}},  // 3: spill, no PPU
                        {L, in, 1, {}},                     // 4
                        {L, wt, 1, {}},                     // 5
                        {L, Transfer::kPsumLoad, 1, {3}},   // 6: after the spill
                        {A, in, 1, {4, 5, 6}},              // 7: accumulates
                        {P, in, 1, {7}},                    // 8
                        {S, out, 1, {8}},                   // 9
                    });
  EXPECT_FALSE(jobs.jobs[2].tile.accumulate);
  EXPECT_TRUE(jobs.jobs[2].opens_tile);
  EXPECT_TRUE(jobs.jobs[7].tile.accumulate);
  EXPECT_FALSE(jobs.jobs[7].opens_tile);
  EXPECT_EQ(jobs.jobs[2].c0, 0);
  EXPECT_EQ(jobs.jobs[7].c0, 2);
  EXPECT_EQ(jobs.jobs[7].tile.k_elems, 2);
  // 32-bit partial sums of the whole 8x4x4 output, out and back.
  EXPECT_EQ(jobs.jobs[3].bits, 8u * 4 * 4 * 32);
  EXPECT_EQ(jobs.jobs[6].bits, 8u * 4 * 4 * 32);
}

TEST(ControllerExpansion, ResidualRidesWithTheFinalVisit) {
  const isa::Program p =
      assemble(conv_registers(0, 0, 4096, 8192,
                              "SETR reg=TILE_C value=2\nSETR reg=FLAGS value=4\n"
                              "SETR reg=RES_ADDR value=20480\nSETR reg=RES_BITS value=2\n") +
               R"(
    LOOP dim=G trips=1
      LOOP dim=C trips=2
        LOAD operand=input
        LOAD operand=weight
        LOAD operand=psum
        LOAD operand=residual
        COMPUTE
        STORE operand=output
      ENDLOOP
    ENDLOOP
    ENDLAYER
    HALT
  )");
  const JobList jobs = expand_program(bitfusion(), p);
  EXPECT_EQ(count_transfers(jobs, Transfer::kResidual), 1u);
  const Job* ppu = nullptr;
  for (const Job& j : jobs.jobs) {
    if (j.engine == Engine::kPpu) ppu = &j;
  }
  ASSERT_NE(ppu, nullptr);
  // The PPU waits for the array and for the residual tile.
  ASSERT_EQ(ppu->deps.size(), 2u);
  EXPECT_EQ(jobs.jobs[ppu->deps[1]].transfer, Transfer::kResidual);
  EXPECT_EQ(ppu->post.residual_bits, 2);
}

TEST(ControllerExpansion, OnChipIntermediateHandsRegionsGroupByGroup) {
  // A compiled PalQuant block with its intermediate on chip: the consumer's
  // computes of group g wait for the producer's last PPU job of group g, and
  // the producer's PPU of group g + 1 waits for the consumer's last compute
  // of group g (the region is handed back).
  const SimCase* onchip = nullptr;
  for (const SimCase& c : sim_cases()) {
    if (c.name == "onchip_intermediate") onchip = &c;
  }
  ASSERT_NE(onchip, nullptr);
  const auto cc = compile_case(*onchip);
  const JobList& jobs = cc->jobs;
  std::map<int, uint32_t> last_producer_ppu, last_consumer_compute;
  size_t consumer_computes = 0;
  for (uint32_t id = 0; id < jobs.jobs.size(); ++id) {
    const Job& j = jobs.jobs[id];
    if (j.op == 0 && j.engine == Engine::kPpu) {
      EXPECT_TRUE(j.post_to_region);
      if (j.group > 0 && last_consumer_compute.count(j.group - 1)) {
        bool waits = false;
        for (uint32_t d : j.deps) waits = waits || d == last_consumer_compute[j.group - 1];
        EXPECT_TRUE(waits) << "producer PPU " << id << " of group " << j.group;
      }
      last_producer_ppu[j.group] = id;
    }
    if (j.op == 1 && j.engine == Engine::kArray) {
      ++consumer_computes;
      EXPECT_GE(j.region, 0);
      ASSERT_TRUE(last_producer_ppu.count(j.group));
      EXPECT_EQ(j.deps.front(), last_producer_ppu[j.group]) << "consumer compute " << id;
      last_consumer_compute[j.group] = id;
    }
    // The intermediate never travels through DRAM.
    if (j.op == 0) {
      EXPECT_NE(j.engine, Engine::kStore);
    }
    if (j.op == 1 && j.engine == Engine::kLoad) {
      EXPECT_NE(j.transfer, Transfer::kInput);
    }
  }
  EXPECT_GT(consumer_computes, 0u);
  EXPECT_EQ(last_producer_ppu.size(), 2u);  // both groups
}

}  // namespace
}  // namespace palsim::sim::test
