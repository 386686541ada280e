#pragma once
// What the trainer builds for a network, decided without torch so that the
// trainer and the exporter's accessor (trained_model.h) share one definition:
// the hardware graph the model is executed as, the quantizer of every op's
// weights and of every tensor, and the names of all trained values.
//
// The model is the hardware graph (frontend::build_hw_graph with fp_layers =
// int8), one trainable op per HwOp, one activation quantizer per HwTensor:
//   - the network input (the image): fixed, q = the 8-bit pixel, value q / 255;
//   - a tensor some quantized conv reads as its input: the uniform quantizer
//     if any such conv uses uniform weights (palquant / ewgs), else LSQ
//     unsigned (these feed the multipliers, zero point 0);
//   - a tensor no quantized conv reads as its input (read only as a residual
//     or by a pool — e.g. the main branch of a downsampling block, a signed
//     batch-norm output): the uniform quantizer, whose affine levels
//     l + (u - l) q / (2^b - 1) represent negative values and which the PPU's
//     residual / pool rescaling handles; LSQ unsigned would clip them to 0;
//   - a max pool's output: no quantizer of its own, it shares its input's
//     (max commutes with the quantizer, the pool keeps the encoding);
//   - a copy's output (kCopy: ShuffleNet's identity half, a shuffle nothing
//     absorbed) shares its input's: the copy moves levels, so they must mean
//     the same values on both sides;
//   - a channel view (a split's channel range, a concatenation input written
//     in place) shares the quantizer of the tensor that owns its space: a
//     concatenated tensor has one encoding in DRAM, so every part of it —
//     whichever conv or copy writes it — is quantized with the same bounds or
//     step, and a reader of any channel range dequantizes it the same way;
//   - a tensor read only as a residual, with ResidualQuant::kShared, shares
//     the quantizer of the output of the op that adds it (see ResidualQuant).
//   These rules join tensors into groups (through copies, all the
//   concatenations of a ShuffleNet stage share one quantizer: the identity
//   half passes unchanged from unit to unit). A group's quantizer is named
//   after its lowest tensor id, and its kind follows the readers of all its
//   members by the rules above. LSQ's gradient scale uses the elements of
//   that tensor (one concatenated tensor, not the sum over the group).
//   - the network output (the FC's logits): float, no quantizer.
// With fp_layers: fp the stem and classifier ops keep float weights and
// tensors read only by them stay float (not exportable). An fp network (no
// quantized layer) is lowered as if every conv/fc were 8-bit, for the fusion
// structure only, and trains with no quantizer at all (not exportable).
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/ir/network.h"
#include "frontend/lowering/hw_graph.h"
#include "training/config.h"

namespace palsim::training {

enum class ActQuant { kImage, kUniform, kLsq, kFloat };

// How a tensor read only as a residual is quantized (the pre-add branch of a
// downsampling block: its second conv's BN output, which the shortcut conv
// adds). The reference code adds it in full precision; the accelerator keeps
// every DRAM tensor at its producer's width (B bits), so it must be levels.
//   kShared: it shares the quantizer of the sum it is added into (the
//     adding op's output, which the next convs read), initialized from that
//     sum: the branch is stored in the levels the block's output uses, and the
//     PPU adds in that scale. When the widths differ (the last block, whose
//     output the 8-bit classifier path reads) it keeps a quantizer of its own
//     with the signed initialization below. Default.
//   kOwn: a quantizer of its own, initialized with the post-ReLU rule
//     (l = min, u = 3 std / sqrt(1 - 2/pi)) although the branch is signed;
//     at 2 bits 0 is not a level. palsim before issue 23 (about 5 points
//     lower at B = 2).
enum class ResidualQuant { kShared, kOwn };

// The 8-bit stand-ins of the full-precision stem and classifier
// (fp_layers: int8): their LSQ steps (the weights of the stem and the FC, the
// FC's input) exist for the integer path only; the reference code has no
// quantizer there.
//   kTracked: not learned; a weight step follows its weights, max|w| / Q_P
//     after every optimizer step (nothing clipped), an activation step the
//     batch maximum, max(x) / Q_P, as a running average (momentum 0.1, as
//     batch norm's statistics). Default.
//   kLearned: learned by Adam with the other quantizer parameters (palsim
//     before issue 23). At lr 1e-3 Adam moves a step of ~0.01 (the 8-bit
//     stem's, the FC's) by ~1e-3 per step whatever its gradient's scale, and
//     on the long Fashion-MNIST recipe it reached 0 within 100 steps: every
//     stem weight one level, a constant network, chance accuracy.
enum class Int8Scales { kTracked, kLearned };
std::string to_string(Int8Scales s);
Int8Scales parse_int8_scales(const std::string& s);  // "tracked" | "learned"
std::string to_string(ResidualQuant r);
ResidualQuant parse_residual_quant(const std::string& s);  // "shared" | "own"
enum class WeightQuant { kNone, kUniform, kLsq };
std::string to_string(ActQuant k);
std::string to_string(WeightQuant k);

struct TensorPlan {
  int id = -1;
  std::string name;  // HwTensor::name (the IR layer whose output it is)
  ActQuant kind = ActQuant::kFloat;
  int bits = 0;
  // The tensor whose quantizer (and parameters) this one uses: itself, or the
  // lowest id of its group (views, max pool and copy outputs; see above).
  int quantizer = -1;
  bool ewgs = false;  // uniform quantizer with EWGS gradient scaling
  // Initialization (TrainModel::initialize_quantizers): a tensor read only as
  // a residual whose group has other members does not initialize the group
  // and passes its float values during the initialization pass (the
  // reference's full-precision branch), so the sum it is added into sets the
  // bounds; signed_init: the group's bounds come from the signed rule (a
  // residual-only tensor with its own quantizer, ResidualQuant::kShared).
  bool defers_init = false;
  bool signed_init = false;
  bool tracked = false;  // an 8-bit stand-in's LSQ step, Int8Scales::kTracked
  int64_t features = 0;  // elements per sample of the quantizer's tensor (LSQ gradient scale
                         // 1/sqrt(features * Q_P))
};

struct OpPlan {
  int id = -1;
  std::string name;  // HwOp::name
  frontend::HwOpKind kind = frontend::HwOpKind::kConv;
  WeightQuant weight_quant = WeightQuant::kNone;
  int w_bits = 0;
  bool alpha = false;  // uniform weights: the output is scaled by |alpha|
  bool bias = false;   // the IR conv / fc has a bias
  bool fc = false;     // the IR layer is an fc (its output: the logits)
  std::string bn;      // the absorbed batch-norm layer ("" if none)
  bool ewgs = false;
  // A conv without uniform weights reading a uniform tensor reads its
  // dequantized value l + (u - l) q / (2^b - 1) (not a_hat).
  bool reads_dequantized = false;
  bool tracked = false;               // an 8-bit stand-in's LSQ weight step, Int8Scales::kTracked
  std::vector<int64_t> weight_shape;  // OIHW: out.c, in.c / groups, kh, kw (convs)
};

struct ModelPlan {
  frontend::Network network;  // as the configuration builds it
  frontend::HwGraph graph;    // lowered with fp_layers = int8, batch 1
  bool quantized = false;     // false: an fp network
  bool float_ends = false;    // fp_layers: fp
  bool exportable = false;
  std::string not_exportable_reason;
  double ewgs_delta = 0;
  ResidualQuant residual = ResidualQuant::kShared;
  Int8Scales int8_scales = Int8Scales::kTracked;
  std::vector<OpPlan> ops;          // parallel to graph.ops
  std::vector<TensorPlan> tensors;  // parallel to graph.tensors

  const OpPlan& op(const std::string& name) const;          // throws InputError
  const TensorPlan& tensor(const std::string& name) const;  // throws InputError
};

// Trained values. Names (stable; the checkpoint and the accessor use them):
//   op/<op>/weight                      float weights, OIHW
//   op/<op>/bias                        when the IR layer has one
//   op/<op>/alpha                       uniform weights: output scale (used as |alpha|)
//   op/<op>/wq/lower, op/<op>/wq/upper  uniform weight quantizer bounds
//   op/<op>/wq/step                     LSQ weight step
//   op/<op>/bn/weight|bias|running_mean|running_var   the absorbed batch norm
//   tensor/<tensor>/lower|upper         uniform activation quantizer
//   tensor/<tensor>/step                LSQ activation quantizer
// <op> is HwOp::name, <tensor> is HwTensor::name. Scalars have shape [].
enum class ParamGroup {
  kWeights,     // SGD with momentum and weight decay (weights, biases, BN affine)
  kQuantizers,  // Adam (bounds, steps, alpha)
  kBuffers,     // not trained by gradients (BN running statistics, tracked steps)
};
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  ParamGroup group = ParamGroup::kWeights;
};
std::vector<ParamSpec> parameter_specs(const ModelPlan& plan);
std::string op_key(const std::string& op, const std::string& what);
std::string tensor_key(const std::string& tensor, const std::string& what);

// Channel maps of a conv op (identity when it has no rotation / shuffle):
// conv input channel c reads channel rotated_input_source(op)[c] of the op's
// input tensor (conv group g reads input group (g - in_group_rotate) mod G);
// output channel p holds channel shuffled_output_source(op)[p] of the conv
// result (kernels::channel_shuffle_source over out_shuffle_groups).
std::vector<int> rotated_input_source(const frontend::HwOp& op);
std::vector<int> shuffled_output_source(const frontend::HwOp& op);

// Plans a network. `float_ends`: fp_layers fp; `ewgs_delta` > 0 turns EWGS on
// for every uniform quantizer. Throws InputError for a network the
// accelerator's lowering rejects.
ModelPlan plan_model(const frontend::Network& network, bool float_ends, double ewgs_delta,
                     ResidualQuant residual = ResidualQuant::kShared,
                     Int8Scales int8_scales = Int8Scales::kTracked);

// Builds the configured network and plans it; errors name the configuration
// file and key.
frontend::Network build_network(const TrainConfig& config);
ModelPlan plan_from_config(const TrainConfig& config);

}  // namespace palsim::training
