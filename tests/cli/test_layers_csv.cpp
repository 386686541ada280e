// The per-layer CSV of `palsim simulate --csv` (sim/report.h, columns in
// docs/formats.md §5) from a real run: every column documented, the shape of
// known ResNet-18 layers, the mapping as the compiler described it, and
// per-layer figures that sum to the run's totals in its JSON record.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace {

using namespace palsim_test;

// RFC 4180 fields of one line (quoted fields may hold commas and quotes).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t k = 0; k < line.size(); ++k) {
    const char c = line[k];
    if (quoted && c == '"' && k + 1 < line.size() && line[k + 1] == '"') {
      out.back() += '"';
      ++k;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

struct Csv {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
  const std::map<std::string, std::string>& row(const std::string& layer) const {
    for (const auto& r : rows)
      if (r.at("layer") == layer) return r;
    ADD_FAILURE() << "no row for layer " << layer;
    return rows.front();
  }
};

Csv read_csv(const std::string& text) {
  Csv csv;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;  // the provenance header
    const std::vector<std::string> f = csv_fields(line);
    if (csv.header.empty()) {
      csv.header = f;
      continue;
    }
    EXPECT_EQ(f.size(), csv.header.size()) << line;
    std::map<std::string, std::string> row;
    for (size_t k = 0; k < f.size() && k < csv.header.size(); ++k) row[csv.header[k]] = f[k];
    csv.rows.push_back(row);
  }
  return csv;
}

class LayersCsv : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TempDir dir;
    const Result r = palsim("simulate resnet18 --method lsq --abits 4 --wbits 4 --hw " + kSource +
                            "/configs/bitfusion.yaml -q --csv " + dir.path() +
                            "/l.csv --json-file " + dir.path() + "/r.json");
    ASSERT_EQ(r.code, 0) << r.err;
    csv_ = new Csv(read_csv(slurp(dir.path() + "/l.csv")));
    json_ = new nlohmann::json(nlohmann::json::parse(slurp(dir.path() + "/r.json")));
  }
  static void TearDownTestSuite() {
    delete csv_;
    delete json_;
  }
  static Csv* csv_;
  static nlohmann::json* json_;
};
Csv* LayersCsv::csv_ = nullptr;
nlohmann::json* LayersCsv::json_ = nullptr;

TEST_F(LayersCsv, EveryColumnIsDocumented) {
  const std::string doc = slurp(kSource + "/docs/formats.md");
  ASSERT_GT(csv_->header.size(), 60u);
  for (const auto& c : csv_->header)
    EXPECT_NE(doc.find("| `" + c + "` |"), std::string::npos) << "column " << c;
}

TEST_F(LayersCsv, ShapesOfKnownResNet18Layers) {
  ASSERT_EQ(csv_->rows.size(), (*json_)["layers"].size());
  struct Expected {
    const char* layer;
    std::map<std::string, std::string> values;
  };
  const std::vector<Expected> cases = {
      {"layer1.0.conv1",
       {{"kind", "conv"},
        {"C", "64"},
        {"K", "64"},
        {"H_in", "56"},
        {"W_in", "56"},
        {"H_out", "56"},
        {"W_out", "56"},
        {"R", "3"},
        {"S", "3"},
        {"stride_h", "1"},
        {"stride_w", "1"},
        {"pad_h", "1"},
        {"pad_w", "1"},
        {"dilation_h", "1"},
        {"dilation_w", "1"},
        {"groups", "1"},
        {"abits", "4"},
        {"wbits", "4"}}},
      {"layer2.0.conv1",
       {{"C", "64"},
        {"K", "128"},
        {"H_in", "56"},
        {"H_out", "28"},
        {"W_out", "28"},
        {"R", "3"},
        {"stride_h", "2"},
        {"stride_w", "2"},
        {"pad_h", "1"}}},
      {"layer2.0.downsample.0",
       {{"C", "64"},
        {"K", "128"},
        {"H_in", "56"},
        {"H_out", "28"},
        {"R", "1"},
        {"S", "1"},
        {"stride_h", "2"},
        {"pad_h", "0"},
        {"pad_w", "0"}}},
      {"layer4.1.conv2",
       {{"C", "512"}, {"K", "512"}, {"H_in", "7"}, {"W_out", "7"}, {"R", "3"}, {"stride_h", "1"}}},
  };
  for (const auto& c : cases) {
    const auto& row = csv_->row(c.layer);
    for (const auto& [column, value] : c.values)
      EXPECT_EQ(row.at(column), value) << c.layer << " " << column;
  }
}

TEST_F(LayersCsv, MappingColumnsAreTheCompilersMapping) {
  // "tiles N1 H7 W8 M32 C64, order NHWMC, DMA levels in/wt/out 2/1/5, ..."; read
  // with sscanf (std::regex trips GCC 12's -Wmaybe-uninitialized in the
  // sanitizer build).
  size_t checked = 0, onchip = 0;
  for (const auto& l : (*json_)["layers"]) {
    const std::string text = l["mapping"];
    const size_t at = text.find("tiles N");
    if (at == std::string::npos) continue;
    int v[8] = {};
    char order[6] = {};
    if (std::sscanf(text.c_str() + at,
                    "tiles N%d H%d W%d M%d C%d, order %5[NHWMC], DMA levels in/wt/out %d/%d/%d",
                    &v[0], &v[1], &v[2], &v[3], &v[4], order, &v[5], &v[6], &v[7]) != 9)
      continue;
    const std::string described[9] = {
        std::to_string(v[0]), std::to_string(v[1]), std::to_string(v[2]),
        std::to_string(v[3]), std::to_string(v[4]), order,
        std::to_string(v[5]), std::to_string(v[6]), std::to_string(v[7])};
    const auto& row = csv_->row(l["name"]);
    const char* columns[] = {"tile_N",     "tile_H",       "tile_W",       "tile_M",       "tile_C",
                             "loop_order", "dma_level_in", "dma_level_wt", "dma_level_out"};
    for (size_t k = 0; k < 9; ++k) {
      // An input kept on chip (a fused block's second conv) has no LOAD.
      if (std::string(columns[k]) == "dma_level_in" && row.at(columns[k]).empty()) {
        ++onchip;
        continue;
      }
      EXPECT_EQ(row.at(columns[k]), described[k]) << l["name"] << " " << columns[k];
    }
    ++checked;
  }
  EXPECT_GE(checked, 16u);  // every body conv and its projections
  EXPECT_GT(onchip, 0u);
  EXPECT_LT(onchip, checked / 2);
}

TEST_F(LayersCsv, PerLayerFiguresSumToTheRunsTotals) {
  uint64_t cycles = 0;
  double energy = 0;
  std::map<std::string, uint64_t> stalls;
  for (const auto& row : csv_->rows) {
    cycles += std::stoull(row.at("cycles"));
    energy += std::stod(row.at("energy_pj"));
    for (const auto& [cause, v] : (*json_)["array_stall_cycles"].items())
      stalls[cause] += std::stoull(row.at("stall_" + cause));
  }
  EXPECT_EQ(cycles, (*json_)["cycles"].get<uint64_t>());
  EXPECT_NEAR(energy, (*json_)["energy_pj"].get<double>(), 1e-6 * energy);
  for (const auto& [cause, v] : (*json_)["array_stall_cycles"].items())
    EXPECT_EQ(stalls[cause], v.get<uint64_t>()) << cause;
  // DRAM efficiency: the JSON's figure, per layer.
  for (const auto& l : (*json_)["layers"]) {
    const auto& row = csv_->row(l["name"]);
    EXPECT_NEAR(std::stod(row.at("dram_efficiency")), l["counts"]["dram_efficiency"].get<double>(),
                1e-6);
    EXPECT_EQ(row.at("dram_moved_bits"),
              std::to_string(l["counts"]["dram_moved_bits"].get<uint64_t>()));
  }
}

}  // namespace
