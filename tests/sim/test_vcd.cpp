// The detailed mode's VCD trace (--trace): per-engine busy signals and layer
// markers, declared in the header and changing as the engines work.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "frontend/ir/network_yaml.h"
#include "sim/compile.h"
#include "sim_test_util.h"
#include "tests/common/test_util.h"

namespace palsim::sim::test {
namespace {

struct Vcd {
  std::string header;                     // everything before $enddefinitions
  std::map<std::string, std::string> id;  // signal name -> identifier code
  std::map<std::string, int> width;       // signal name -> bits
  // Per identifier, the values it takes (binary vectors as signed integers).
  std::map<std::string, std::vector<int64_t>> values;
};

int64_t vector_value(const std::string& bits) {
  uint64_t v = 0;
  for (char c : bits) v = v << 1 | (c == '1' ? 1u : 0u);
  // 32-bit two's complement: all ones is -1.
  return bits.size() == 32 ? static_cast<int32_t>(static_cast<uint32_t>(v))
                           : static_cast<int64_t>(v);
}

Vcd parse_vcd(const std::string& path) {
  std::ifstream in(path);
  Vcd v;
  std::string line;
  bool body = false;
  while (std::getline(in, line)) {
    if (!body) {
      v.header += line + "\n";
      std::istringstream w(line);
      std::string tok;
      w >> tok;
      if (tok == "$var") {
        std::string type, code, name;
        int bits = 0;
        w >> type >> bits >> code >> name;
        v.id[name] = code;
        v.width[name] = bits;
      }
      if (tok == "$enddefinitions") body = true;
      continue;
    }
    if (line.empty() || line[0] == '#' || line[0] == '$') continue;
    if (line[0] == 'b') {
      const size_t sp = line.find(' ');
      v.values[line.substr(sp + 1)].push_back(vector_value(line.substr(1, sp - 1)));
    } else if (line[0] == '0' || line[0] == '1') {
      v.values[line.substr(1)].push_back(line[0] - '0');
    }
  }
  return v;
}

TEST(Vcd, DeclaresPerEngineBusyAndLayerSignalsThatFollowTheJobs) {
  const frontend::HwConfig hw = hw_config("bitfusion");
  const frontend::Network net =
      frontend::load_network_yaml(source_path("workloads/examples/tiny.yaml"));
  const frontend::Compiled c = sim::compile(hw, net, frontend::LoweringOptions{});
  palsim_test::TempDir dir;
  SimOptions o;
  o.mode = SimMode::kDetailed;
  o.vcd_trace = dir.path() + "/run.vcd";
  simulate(hw, c.program, o);
  const Vcd v = parse_vcd(o.vcd_trace);
  const int ops = static_cast<int>(c.program.info.ops.size());
  ASSERT_GE(ops, 2);
  for (const char* busy :
       {"dma_busy", "dma_load_busy", "dma_store_busy", "array_busy", "ppu_busy"}) {
    ASSERT_TRUE(v.id.count(busy)) << busy;
    EXPECT_EQ(v.width.at(busy), 1);
    const auto& vals = v.values.at(v.id.at(busy));
    EXPECT_TRUE(std::count(vals.begin(), vals.end(), 1) > 0) << busy << " never busy";
  }
  // Each engine's layer signal shows exactly the layers it has jobs of
  // (tiny's first conv keeps its output on chip: no store of layer 0), and
  // -1 while idle.
  const JobList jobs = expand_program(hw, c.program);
  const std::pair<const char*, Engine> engines[] = {{"dma_load_layer", Engine::kLoad},
                                                    {"dma_store_layer", Engine::kStore},
                                                    {"array_layer", Engine::kArray},
                                                    {"ppu_layer", Engine::kPpu}};
  for (const auto& [layer, engine] : engines) {
    ASSERT_TRUE(v.id.count(layer)) << layer;
    EXPECT_EQ(v.width.at(layer), 32);
    std::set<int64_t> expected = {-1};
    for (const Job& j : jobs.jobs)
      if (j.engine == engine) expected.insert(j.op);
    const auto& vals = v.values.at(v.id.at(layer));
    EXPECT_EQ(std::set<int64_t>(vals.begin(), vals.end()), expected) << layer;
    EXPECT_GT(vals.size(), expected.size()) << layer;  // it changes as jobs come and go
  }
  // The layer names, for reading the indices.
  for (int k = 0; k < ops; ++k) {
    EXPECT_NE(v.header.find("layer " + std::to_string(k) + ": " + c.program.info.ops[k].name),
              std::string::npos);
  }
}

}  // namespace
}  // namespace palsim::sim::test
