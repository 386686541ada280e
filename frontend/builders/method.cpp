#include "frontend/builders/method.h"

#include <fmt/format.h>

#include "common/error.h"
#include "frontend/builders/request_fields.h"

namespace palsim::frontend {

std::string to_string(Method m) {
  switch (m) {
    case Method::kFp:
      return "fp";
    case Method::kLsq:
      return "lsq";
    case Method::kEwgs:
      return "ewgs";
    case Method::kBitDecomposed:
      return "bitdecomposed";
    case Method::kPalQuant:
      return "palquant";
  }
  return "?";
}

Method parse_method(const std::string& name) {
  for (Method m :
       {Method::kFp, Method::kLsq, Method::kEwgs, Method::kBitDecomposed, Method::kPalQuant}) {
    if (to_string(m) == name) return m;
  }
  throw InputError(
      fmt::format("--method: unknown method '{}' (fp, lsq, ewgs, bitdecomposed, palquant)", name));
}

std::string to_string(ShuffleMode m) {
  switch (m) {
    case ShuffleMode::kNone:
      return "none";
    case ShuffleMode::kPerStage:
      return "per_stage";
    case ShuffleMode::kPerBlock:
      return "per_block";
  }
  return "?";
}

ShuffleMode parse_shuffle_mode(const std::string& name) {
  for (ShuffleMode m : {ShuffleMode::kNone, ShuffleMode::kPerStage, ShuffleMode::kPerBlock}) {
    if (to_string(m) == name) return m;
  }
  throw InputError(
      fmt::format("--channel-shuffle: unknown mode '{}' (none, per_stage, per_block)", name));
}

QuantSpec MethodOptions::body_quant() const {
  QuantSpec q;
  switch (method) {
    case Method::kFp:
      break;
    case Method::kLsq:
      q = QuantSpec{Quantizer::kLsq, w_bits, a_bits, 0};
      break;
    case Method::kEwgs:
      q = QuantSpec{Quantizer::kUniform, w_bits, a_bits, 0};
      break;
    case Method::kBitDecomposed:
      q = QuantSpec{decomposed_quantizer, w_bits, a_bits, slice_bits};
      break;
    case Method::kPalQuant:
      q = QuantSpec{Quantizer::kUniform, B, B, 0};
      break;
  }
  return q;
}

int MethodOptions::bitops_w_bits() const {
  if (method == Method::kFp) return 32;
  return method == Method::kPalQuant ? B : w_bits;
}

int MethodOptions::bitops_a_bits() const {
  if (method == Method::kFp) return 32;
  return method == Method::kPalQuant ? B : a_bits;
}

std::string MethodOptions::label() const {
  switch (method) {
    case Method::kFp:
      return "fp";
    case Method::kLsq:
      return fmt::format("lsq-a{}w{}", a_bits, w_bits);
    case Method::kEwgs:
      return fmt::format("ewgs-a{}w{}", a_bits, w_bits);
    case Method::kBitDecomposed:
      return fmt::format("bitdecomposed-{}-a{}w{}-s{}", to_string(decomposed_quantizer), a_bits,
                         w_bits, slice_bits);
    case Method::kPalQuant: {
      std::string l = fmt::format("palquant-b{}g{}", B, G);
      if (G > 1) {
        if (channel_shuffle != ShuffleMode::kPerStage)
          l += "-shuffle_" + to_string(channel_shuffle);
        if (!cyclic_shuffle)
          l += "-nocyclic";
        else if (!cyclic_permutation)
          l += "-noperm";
        if (permute_direction != 1) l += "-refperm";
      }
      return l;
    }
  }
  return "?";
}

void MethodOptions::validate() const {
  switch (method) {
    case Method::kFp:
      break;
    case Method::kLsq:
    case Method::kEwgs:
      check_range(RequestField::kABits, a_bits);
      check_range(RequestField::kWBits, w_bits);
      break;
    case Method::kBitDecomposed:
      check_range(RequestField::kABits, a_bits);
      check_range(RequestField::kWBits, w_bits);
      // Slices must divide the 8-bit operand registers of the array.
      if (slice_bits != 1 && slice_bits != 2 && slice_bits != 4) {
        throw RequestFieldError(RequestField::kSliceBits,
                                fmt::format("must be 1, 2 or 4, got {}", slice_bits));
      }
      if (decomposed_quantizer == Quantizer::kNone)
        throw InputError("--quantizer: must be lsq or ewgs");
      break;
    case Method::kPalQuant:
      check_range(RequestField::kB, B);
      check_range(RequestField::kG, G);
      if (permute_direction != 1 && permute_direction != -1) {
        throw InputError("--permute-direction: must be paper or reference");
      }
      break;
  }
}

}  // namespace palsim::frontend
