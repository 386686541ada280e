#pragma once
// The integer model of a hardware graph: every weight, every requantization
// parameter and the input, as integers. The reference executor runs it
// through the kernels (the bit-exact integer core); the detailed simulator
// runs the compiled program on the same model and must produce the same
// tensors bit for bit.
//
// Semantics of one hardware op (HwOp) with input tensor X:
//   conv:  acc[c] = conv2d(X', W'_signed)  where X' is X with its channel groups
//          rotated by in_group_rotate (conv group g reads input group
//          (g - rotate) mod groups), and W'_signed = W for LSQ (signed) or
//          2 W - (2^w_bits - 1) for the uniform quantizer (W holds the unsigned
//          levels, the array multiplies unsigned levels and the correction
//          term comes from the activation sum).
//          Output position p (a channel index of the output tensor) holds
//          channel c = src(p) of acc, where src is the channel shuffle over
//          out_shuffle_groups (identity when <= 1):
//            out[p] = requantize_element(acc[c], residual[p], c, requant)
//          with residual the op's residual tensor (when it has one).
//   maxpool: out = max_pool2d(X) (same encoding).
//   avgpool / global_avgpool: out = requantize(sum_pool(X)) with `requant`.
//   copy:  out[p] = X[src(p)] (same encoding; src as for a conv's shuffle).
// A tensor that is a channel view (HwTensor::view_of) is read from and
// written into its channels of the tensor that owns the space.
#include <cstdint>
#include <map>
#include <vector>

#include "frontend/lowering/hw_graph.h"
#include "kernels/requantize.h"
#include "kernels/tensor.h"

namespace palsim::frontend {

struct OpParameters {
  kernels::IntTensor weights;      // OIHW: (out.c, in.c / groups, kh, kw); empty for pools
  kernels::RequantParams requant;  // per output channel (of the conv, before the shuffle)
};

struct IntegerModel {
  std::vector<OpParameters> ops;  // parallel to HwGraph::ops
  kernels::IntTensor input;       // (batch, C, H, W) of the graph's input tensor
};

// Deterministic synthetic parameters (for timing runs and tests): weights
// uniformly random over their full range, requantization scales chosen so the
// outputs spread over the output range (not saturated), a random input.
IntegerModel synthetic_model(const HwGraph& graph, uint64_t seed);

// Checks shapes and ranges against the graph; throws InputError naming the op.
void validate_model(const HwGraph& graph, const IntegerModel& model);

// Runs the graph through the kernels; returns every tensor (by tensor id,
// views included).
std::map<int, kernels::IntTensor> reference_execute(const HwGraph& graph,
                                                    const IntegerModel& model);

}  // namespace palsim::frontend
