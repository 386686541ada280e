#pragma once
// The integer model file that `palsim export` writes and `validate`,
// `evaluate` (and any tool, without libtorch) read: a trained network as the
// accelerator runs it — the network, every hardware op's integer parameters
// (frontend::IntegerModel), the input encoding, the affine map from the final
// FC's accumulators to float logits — and the trained fake-quantized model's
// predictions on the test set, computed with torch at export time, so that
// `validate` can compare without torch.
//
// Container: the array file of training/array_file.h ("PALSIMAR", named
// arrays, FNV-1a 64 checksum over everything; truncation and corruption are
// detected there). Entries, format version 1 (<op> is HwOp::name):
//
//   meta/format            text  "palsim-integer-model"
//   meta/version           int64 1 (a reader refuses any other version)
//   meta/network           text  the network, palsim-network-1 YAML. The
//                          hardware graph is frontend::build_hw_graph(network,
//                          {fp_layers = int8, batch = 1}); every array below
//                          is checked against it.
//   meta/config            text  the training configuration (palsim-train-1;
//                          says where the test set is)
//   meta/source            text  the run directory it was exported from
//   input/scale            f64   the input tensor holds the 8-bit pixel levels
//                          q; the network reads q * scale (1/255)
//   op/<op>/weights        int64 [O, I/groups, kh, kw] weight levels (convs and
//                          FCs only): LSQ signed q_w, uniform unsigned q_w
//   op/<op>/scale          int64 [C]  kernels::RequantParams, per output channel
//   op/<op>/offset         int64 [C]  of the conv (before the shuffle); pools
//   op/<op>/frac_bits      int64      the same (max pools and copies: none of
//   op/<op>/flags          int64      these but out_min/out_max); flags: 1 ReLU before the
//   op/<op>/residual_scale int64      residual, 2 has a residual, 4 ReLU after
//   op/<op>/residual_offset int64
//   op/<op>/out_min, op/<op>/out_max int64
//                          Copy ops (kCopy: networks with concatenations,
//                          e.g. ShuffleNet v2) carry what a max pool does;
//                          the entries of every other network are unchanged,
//                          so such files are still version 1.
//   logits/scale, logits/offset  f64 [classes]: logit_c = scale_c * acc_c +
//                          offset_c, acc the final FC's accumulators (the
//                          conv of its input levels with its signed weights).
//                          The FC's 8-bit output tensor (what the accelerator
//                          writes) holds the logits requantized over
//                          [min, max] of the reference logits.
//   reference/* (optional) the trained fake-quantized model on the first
//     reference/images test images of dataset reference/dataset:
//     reference/logits f32 [images, classes], reference/labels int64 [images],
//     reference/image_hashes int64 [images] (FNV-1a 64 of each image's pixels:
//     other data is detected), reference/levels_equal int64 [images] (1: every tensor level of
//     the integer path equals the trained path's, 0: some differ, -1: not
//     checked), reference/level_check int64 [4] (images checked, levels
//     compared, levels that differ, images with a differing level).
//     Optional (files written before these entries hold a float32 reference):
//     reference/arithmetic text "float64" or "float32": how reference/logits
//     were computed (training/trained_model.h, Arithmetic);
//     reference/float32_logits f32 [images, classes]: with a float64
//     reference, the training path's own (single-precision) logits, so that
//     validate can say how often the two trained evaluations disagree.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fnv1a.h"
#include "frontend/ir/network.h"
#include "frontend/lowering/hw_graph.h"
#include "frontend/lowering/int_model.h"

namespace palsim::training {

constexpr const char* kIntegerModelFormat = "palsim-integer-model";
constexpr int64_t kIntegerModelVersion = 1;

struct LevelCheck {
  int64_t images = 0;      // images whose every tensor was compared
  int64_t levels = 0;      // tensor elements compared
  int64_t mismatches = 0;  // elements whose levels differ
  int64_t images_differing = 0;
};

struct ReferencePredictions {
  std::string dataset;  // the dataset's name (e.g. fashion-mnist-t10k)
  int64_t images = 0;
  std::vector<float> logits;  // images x classes
  std::vector<int64_t> labels;
  std::vector<uint64_t> image_hashes;  // FNV-1a 64 of each image's pixels
  std::vector<int64_t> levels_equal;   // per image: 1, 0 or -1 (not checked)
  LevelCheck level_check;
  std::string arithmetic = "float32";  // of `logits`: "float64" or "float32"
  std::vector<float> float32_logits;   // images x classes, or empty
};

struct IntegerModelFile {
  frontend::Network network;
  frontend::HwGraph graph;       // derived from `network` (not stored)
  frontend::IntegerModel model;  // parallel to graph.ops; `input` empty (set per image)
  double input_scale = 1.0 / 255.0;
  std::vector<double> logit_scale, logit_offset;
  std::string config_yaml;
  std::string source;
  std::optional<ReferencePredictions> reference;

  int classes() const { return static_cast<int>(logit_scale.size()); }
};

// The hardware graph a model file's network is executed as.
frontend::HwGraph integer_model_graph(const frontend::Network& network);

// Checks `f` (graph derived from its network, parameters, logits, reference)
// and writes it atomically. Throws InputError when it is inconsistent.
void write_integer_model(const IntegerModelFile& f, const std::string& path);
std::string serialize_integer_model(const IntegerModelFile& f);

// Throws InputError naming the file and what is wrong: missing, truncated,
// corrupt, another format or version, arrays that do not match the network.
IntegerModelFile read_integer_model(const std::string& path);
IntegerModelFile parse_integer_model(const std::string& bytes, const std::string& name);

// FNV-1a 64 of a byte sequence (the reference's image hash).
using palsim::fnv1a64;

}  // namespace palsim::training
