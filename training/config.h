#pragma once
// The training configuration file (format palsim-train-1), read through the
// project's schema-checked YAML reader: an unknown key, a wrong type, a missing
// key or an impossible value is an error naming the file, the line and the key.
//
//   format: palsim-train-1
//   network:
//     name: resnet18          # built-in (resnet18, resnet34, plain18, shufflenetv2)
//                             #   or a YAML network file
//     method: palquant        # fp | lsq | ewgs | palquant          (built-in only;
//                             #   shufflenetv2 has no palquant form)
//     B: 2                    # palquant: bits; G: groups (channels widened G x)
//     G: 2
//     channel_shuffle: per_stage  # palquant, optional: none | per_stage | per_block
//     cyclic: true                # palquant, optional: the cyclic shuffle modules
//     permutation: true           # palquant, optional: their group permutation
//     permute_direction: paper    # palquant, optional: paper | reference
//     abits: 4                # lsq / ewgs: activation and weight bits, 2..8
//     wbits: 4
//     input_size: 28          # built-in: square input, channels, classes,
//     input_channels: 1       #   stage-1 width (before widening by G; the
//     classes: 10             #   ResNets and plain18 only), blocks per stage
//     base_width: 16          #   (4 stages; shufflenetv2: units in its 3
//     blocks: [1, 1, 1, 1]    #   stages, e.g. [4, 8, 4]), stem (imagenet |
//     stem: small             #   small: 3x3 stride-1 conv, no max pool)
//     projections: keep       # plain18, optional: keep (default) | drop, what
//                             #   its downsampling blocks do with the 1x1
//                             #   projection shortcut (docs/method.md §3)
//     width: 0.5              # shufflenetv2: 0.5 | 1.0 | 1.5 | 2.0 (torchvision's
//                             #   channel tables)
//     cyclic_groups: 2        # shufflenetv2, optional: a cyclic shuffle module
//                             #   with this many groups before stages 3 and 4
//                             #   (absent: none)
//     fp_layers: int8         # optional: int8 (default; exportable) | fp
//     residual_quantizer: shared  # optional: shared (default) | own, how a
//                             #   tensor read only as a residual is quantized
//                             #   (quant_plan.h ResidualQuant; docs/training.md)
//     int8_scales: tracked    # optional: tracked (default) | learned, the
//                             #   LSQ steps of the 8-bit stem and classifier
//                             #   (quant_plan.h Int8Scales)
//   data:
//     dataset: fashion-mnist  # fashion-mnist | image-folder | a registered name
//     path: /usr/share/datasets/fashion-mnist   # optional for fashion-mnist
//     train_limit: 0          # optional: use the first N images (0: all)
//     test_limit: 0
//   training:
//     epochs: 4
//     batch_size: 128
//     lr_weights: 0.05        # SGD (momentum, weight decay) for weights and BN
//     lr_quantizers: 0.001    # Adam for quantizer parameters (not with fp)
//     momentum: 0.9
//     weight_decay: 0.0001
//     seed: 1
//     threads: 2              # torch intra-op threads: results are bit-exact
//                             #   only for the same thread count
//     ewgs_delta: 0.001       # ewgs only: EWGS gradient scaling factor
//
// Relative paths (a network file, data.path) are resolved against the
// directory of the configuration file. to_yaml() writes the resolved
// configuration (every default filled in, paths absolute); reading it back
// gives the same configuration.
#include <cstdint>
#include <string>
#include <vector>

#include "common/yaml_reader.h"
#include "frontend/builders/registry.h"

namespace palsim::training {

constexpr const char* kTrainConfigFormat = "palsim-train-1";

struct NetworkConfig {
  std::string name;  // built-in name or path of a YAML network file (absolute once resolved)
  bool builtin = true;
  std::string method;        // fp | lsq | ewgs | palquant (built-in networks)
  int abits = 0, wbits = 0;  // lsq / ewgs
  int B = 0, G = 0;          // palquant
  std::string channel_shuffle = "per_stage";
  bool cyclic = true;
  bool permutation = true;
  std::string permute_direction = "paper";
  int input_size = 0, input_channels = 0, classes = 0;
  int base_width = 0;  // ResNets and plain18
  std::vector<int> blocks;
  std::string stem;
  std::string projections;                    // plain18: keep | drop
  double width = 0;                           // shufflenetv2
  int cyclic_groups = 0;                      // shufflenetv2: 0 = no cyclic shuffle modules
  std::string fp_layers = "int8";             // int8 | fp
  std::string residual_quantizer = "shared";  // shared | own
  std::string int8_scales = "tracked";        // tracked | learned
};

struct DataConfig {
  std::string dataset;
  std::string path;         // a directory; empty: the dataset's default
  int64_t train_limit = 0;  // 0: every image
  int64_t test_limit = 0;
};

struct OptimConfig {
  int epochs = 0;
  int batch_size = 0;
  double lr_weights = 0;
  double lr_quantizers = 0;  // unused (0) for fp networks
  double momentum = 0;
  double weight_decay = 0;
  int64_t seed = 0;
  int threads = 0;
  double ewgs_delta = 0;  // 0 unless the network uses EWGS
};

struct TrainConfig {
  std::string file;  // where it was read from ("" for text)
  NetworkConfig network;
  DataConfig data;
  OptimConfig training;
  // Where each key was read (for errors found after loading, e.g. a network
  // whose input does not match the dataset).
  Provenance provenance;

  // The request that builds the network.
  frontend::NetworkRequest network_request() const;
  // The resolved configuration as a palsim-train-1 YAML document.
  std::string to_yaml() const;
  // A FileError at the line of `key` (a YAML path such as "network.G").
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
};

TrainConfig load_train_config(const std::string& path);
// `name` is used in errors; relative paths resolve against `base_dir`.
TrainConfig parse_train_config(const std::string& text, const std::string& name,
                               const std::string& base_dir = ".");

}  // namespace palsim::training
