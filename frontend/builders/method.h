#pragma once
// The forms a network can take (docs/method.md §1 and §3).
#include <string>

#include "frontend/ir/layer.h"

namespace palsim::frontend {

enum class Method {
  kFp,             // float reference
  kLsq,            // M-bit LSQ (signed weights)
  kEwgs,           // M-bit EWGS (the uniform quantizer, as on BPVeC in the paper)
  kBitDecomposed,  // an LSQ/EWGS M-bit net executed as B-bit slice products
  kPalQuant,       // B-bit, channels widened G x, group convolutions
};
std::string to_string(Method m);
Method parse_method(const std::string& name);  // throws InputError

// Where the PalQuant channel shuffle sits (docs/method.md §3.2).
enum class ShuffleMode { kNone, kPerStage, kPerBlock };
std::string to_string(ShuffleMode m);
ShuffleMode parse_shuffle_mode(const std::string& name);

struct MethodOptions {
  Method method = Method::kFp;
  // lsq / ewgs / bitdecomposed
  int a_bits = 4;
  int w_bits = 4;
  int slice_bits = 2;                                // bitdecomposed only
  Quantizer decomposed_quantizer = Quantizer::kLsq;  // bitdecomposed only
  // palquant
  int B = 2;
  int G = 1;
  ShuffleMode channel_shuffle = ShuffleMode::kPerStage;
  bool cyclic_shuffle = true;      // the module before stages 2-4 (G > 1)
  bool cyclic_permutation = true;  // false: the module without P (ablation)
  int permute_direction = +1;      // +1 paper Eq. 8, -1 reference code

  // The quantization of every quantized (body) convolution.
  QuantSpec body_quant() const;
  // Channel widening and conv groups.
  int width_multiplier() const { return method == Method::kPalQuant ? G : 1; }
  int groups() const { return method == Method::kPalQuant ? G : 1; }
  // Operand widths used by the BitOps rule (b_w, b_a); 32 for fp.
  int bitops_w_bits() const;
  int bitops_a_bits() const;
  // A short label: "lsq-a4w4", "palquant-b2g2", "fp".
  std::string label() const;
  // Checks ranges (frontend/builders/request_fields.h); throws RequestFieldError naming
  // the field (its option in what()), InputError for the quantizer.
  void validate() const;
};

}  // namespace palsim::frontend
