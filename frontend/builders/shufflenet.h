#pragma once
// ShuffleNet v2 (Ma et al., ECCV 2018) with torchvision's channel tables, in
// the forms of docs/method.md §1 that apply to it (fp, lsq, ewgs,
// bitdecomposed: every conv but the stem quantized, the classifier full
// precision), optionally with the PalQuant supplementary's cyclic shuffle
// module at the beginning of stages 3 and 4.
//
// Structure: stem (3x3 stride-2 conv to 24 channels, BN, ReLU, 3x3 stride-2
// max pool; `small`: 3x3 stride-1 conv, no pool), stages 2-4 of [4, 8, 4]
// units, a 1x1 conv (1024 channels; 2048 at 2.0x) with BN and ReLU, global
// average pool and FC. The first unit of a stage downsamples: both branches
// read the whole input (branch 1: depthwise 3x3 stride 2, BN, 1x1 conv, BN,
// ReLU; branch 2: 1x1 conv, BN, ReLU, depthwise 3x3 stride 2, BN, 1x1 conv,
// BN, ReLU). A basic unit splits its input channels in half (two `split`
// layers), passes the first half unchanged and the second through branch 2.
// Every unit ends with the concatenation of its branches and a channel
// shuffle over 2 groups.
//
// Cyclic shuffle module (docs/method.md §3.2): Z = X + ReLU(BN(Conv1x1_g(P(X)))),
// Conv1x1_g a C -> C group conv with `cyclic_groups` groups and P the cyclic
// permutation of those groups (paper direction, Eq. 8).
#include <string>
#include <vector>

#include "frontend/builders/method.h"
#include "frontend/builders/resnet.h"
#include "frontend/ir/network.h"

namespace palsim::frontend {

struct ShuffleNetOptions {
  double width = 1.0;                    // 0.5, 1.0, 1.5 or 2.0
  std::vector<int> repeats = {4, 8, 4};  // units per stage (stages 2, 3, 4)
  Shape input = {3, 224, 224};
  int classes = 1000;
  StemKind stem = StemKind::kImageNet;
  int cyclic_groups =
      0;  // > 0: a cyclic shuffle module with this many groups before stages 3 and 4
};

// torchvision's stages_out_channels for a width: stem, stage 2, 3, 4, last conv.
// Throws InputError naming --width for another width.
std::vector<int> shufflenet_channels(double width);

Network build_shufflenet_v2(const std::string& name, const ShuffleNetOptions& options,
                            const MethodOptions& method);

}  // namespace palsim::frontend
