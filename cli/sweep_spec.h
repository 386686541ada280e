#pragma once
// A sweep: lists of networks, methods, accelerator configurations, hardware
// overrides and lowering options whose cartesian product (minus `exclude`,
// plus `include`) is the set of points to simulate.
//
//   format: palsim-sweep-1
//   name: bg-resnet18
//   networks: [resnet18, {name: resnet18, input_size: 32, base_width: 16, blocks: [1, 1, 1, 1],
//   stem: small},
//              {name: plain18, projections: drop}, {name: shufflenetv2, width: 0.5, cyclic_groups:
//              2}]
//   methods:
//     - {method: lsq, bits: [4, 6, 8]}          # abits = wbits = bits
//     - {method: palquant, B: [2, 3, 4], G: [1, 2, 3, 4]}
//   hardware: [../bitfusion.yaml, ../bpvec.yaml] # relative to the sweep file
//   overrides: {buffers.obuf.size_bytes: [8192, 16384]}
//   options: {fp_layers: [exclude], batch: [1], onchip: [true, false]}
//   mode: fast
//   exclude: [{method: palquant, G: 1}]
//   include: [{network: resnet34, method: palquant, B: 2, G: 2, hardware: ../bitfusion.yaml}]
//   models: [../runs/b2g2/model.palsim, {file: ../runs/lsq4/model.palsim, label: lsq4}]
//
// `models` lists trained integer models (`palsim export` files, relative to
// the sweep file); each is crossed with hardware x overrides x onchip only
// (not with networks and methods: the model is its own network and method),
// always with fp_layers int8 and batch 1 (its ends are 8-bit layers). Their
// points record the model's test accuracy beside cycles and energy, so
// `palsim plot` draws accuracy against energy. With `models`, `networks` and
// `methods` may be left out.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "frontend/arch/hw_config.h"
#include "frontend/builders/method.h"
#include "frontend/builders/registry.h"
#include "frontend/lowering/hw_graph.h"
#include "sim/core/sim_mode.h"

namespace palsim::cli {

struct NetworkShape {
  std::optional<int> input_size, input_channels, classes, base_width;
  std::optional<std::string> stem;
  std::optional<std::vector<int>> blocks;
  std::optional<std::string> projections;  // plain18
  std::optional<double> width;             // shufflenetv2
  std::optional<int> cyclic_groups;        // shufflenetv2
};

using OverrideSet = std::vector<std::pair<std::string, std::string>>;
// The empty set, shared (a point without overrides allocates nothing).
const std::shared_ptr<const OverrideSet>& no_overrides();

struct SweepPoint {
  std::string network;
  NetworkShape shape;  // builder options of a built-in network
  frontend::MethodOptions method;
  std::string hardware;  // configuration file (resolved path)
  // key=value, in spec order; shared by the points of one combination (a
  // sweep of 100,000 points holds a few hundred sets, not 100,000 copies).
  std::shared_ptr<const OverrideSet> overrides = no_overrides();
  frontend::LoweringOptions lowering;
  sim::SimMode mode = sim::SimMode::kFast;
  // A trained model point: the integer model file (resolved path) and its
  // label; `network` is the model's network name and `method` is unused.
  std::string model;
  std::string model_label;

  // A network built in the form `method` (a built-in or a float ONNX model);
  // otherwise a network file with its own quantization (YAML, QDQ or QONNX:
  // `method` is unused) or a trained model.
  bool builtin_network() const;
  // What builds the point's network (built-in name or file, form, shape).
  frontend::NetworkRequest request() const;
  // The point's parameters as the user wrote them (flat JSON object): only
  // what shapes the point (no method for a network file or a model).
  nlohmann::json params() const;
};

struct SweepSpec {
  std::string name;
  std::string file;
  std::vector<SweepPoint> points;
};

// Parses and expands a sweep file; errors name the file, line and key.
SweepSpec load_sweep(const std::string& path);

// Where a sweep's results go unless told: NAME.db beside the sweep file.
std::string default_sweep_db(const SweepSpec& spec);

// FNV-1a 64 of a file's bytes, in hex (model and network files of points).
std::string model_file_hash(const std::string& path);

// The key of a point: a hash of its full resolved configuration (the
// hardware's every value after overrides, the network and method, the
// lowering options) and the simulator version.
std::string point_key(const SweepPoint& p, const frontend::HwConfig& resolved_hw);

}  // namespace palsim::cli
