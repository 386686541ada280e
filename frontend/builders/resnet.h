#pragma once
// ResNet builders (basic blocks) in every form of docs/method.md §3:
// fp, lsq / ewgs (M-bit), bitdecomposed, and PalQuant (B, G) with its channel
// and cyclic shuffles and their ablations. `plain` drops the residual
// additions (Plain-18, see PlainProjections).
#include <string>
#include <vector>

#include "frontend/builders/method.h"
#include "frontend/ir/network.h"

namespace palsim::frontend {

enum class StemKind {
  kImageNet,  // 7x7 stride-2 conv, BN, ReLU, 3x3 stride-2 max pool
  kSmall,     // 3x3 stride-1 conv, BN, ReLU (small inputs such as 28x28)
};

// What a plain network (no residual additions) does with the 1x1 stride-2
// projections of the downsampling blocks. The PalQuant supplementary gives
// Plain-18 exactly ResNet-18's BitOps (29.10G LSQ 4/4, 14.87G PalQuant B=2
// G=2); under the thop rule only kKeep gives that, because the counter sees
// only the layers a forward pass runs, and an addition counts 0.
enum class PlainProjections {
  kKeep,  // the downsampling blocks keep their projection shortcut (1x1 conv + BN) and its
          // addition; only the identity shortcuts are removed (same MACs as the ResNet)
  kDrop,  // no shortcut at all (He et al.'s plain network): the projections are not built
};
std::string to_string(PlainProjections p);
PlainProjections parse_plain_projections(
    const std::string& s);  // throws InputError naming --projections

struct ResNetOptions {
  std::vector<int> blocks = {2, 2, 2, 2};  // basic blocks per stage
  int base_width = 64;                     // channels of stage 1 (before widening by G)
  Shape input = {3, 224, 224};
  int classes = 1000;
  StemKind stem = StemKind::kImageNet;
  bool plain = false;  // no residual additions (Plain-18 style)
  PlainProjections plain_projections = PlainProjections::kKeep;  // plain only
};

ResNetOptions resnet_options_for_depth(int depth);  // 18 or 34

// Builds and shape-checks the network. Throws InputError on bad options
// (including G that does not divide a stage's channels).
Network build_resnet(const std::string& name, const ResNetOptions& options,
                     const MethodOptions& method);

}  // namespace palsim::frontend
