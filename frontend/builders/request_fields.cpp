#include "frontend/builders/request_fields.h"

#include <fmt/format.h>

namespace palsim::frontend {

const std::vector<RequestFieldInfo>& request_fields() {
  // Operand widths: the quantizers and the 2-bit machines' bit decomposition
  // are defined for 2..8 bits. G: PalQuant's groups widen every body conv's
  // channels G times (the paper evaluates 1..4). The shapes bound what a
  // mapping search can cover (frontend/lowering/work_bound.h bounds the work
  // itself); classes must be at least 2 to be a classification.
  static const std::vector<RequestFieldInfo> fields = {
      {RequestField::kABits, "abits", "abits", 2, 8},
      {RequestField::kWBits, "wbits", "wbits", 2, 8},
      {RequestField::kSliceBits, "slice_bits", "slice-bits", 1, 4},
      {RequestField::kB, "B", "B", 2, 8},
      {RequestField::kG, "G", "G", 1, 16},
      {RequestField::kInputSize, "input_size", "input-size", 1, 4096},
      {RequestField::kInputChannels, "input_channels", "input-channels", 1, 4096},
      {RequestField::kClasses, "classes", "classes", 2, 1000000},
      {RequestField::kBaseWidth, "base_width", "base-width", 1, 4096},
      {RequestField::kBlocks, "blocks", "blocks", 1, 64},
      {RequestField::kCyclicGroups, "cyclic_groups", "cyclic-groups", 1, 64},
  };
  return fields;
}

const RequestFieldInfo& field_info(RequestField f) {
  for (const auto& i : request_fields()) {
    if (i.id == f) return i;
  }
  throw InternalError("request field missing from the table");
}

std::string range_text(RequestField f) {
  const auto& i = field_info(f);
  return fmt::format("{}..{}", i.min, i.max);
}

RequestFieldError::RequestFieldError(RequestField field, const std::string& problem)
    : InputError(fmt::format("--{}: {}", field_info(field).flag, problem)),
      field_(field),
      problem_(problem) {}

void check_range(RequestField f, int64_t value) {
  const auto& i = field_info(f);
  if (value < i.min || value > i.max) {
    throw RequestFieldError(f,
                            fmt::format("must be between {} and {}, got {}", i.min, i.max, value));
  }
}

void read_field(YamlMap& m, RequestField f, int& out) {
  const auto& i = field_info(f);
  m.read(i.key, out, static_cast<int>(i.min), static_cast<int>(i.max));
}

void read_field_optional(YamlMap& m, RequestField f, int& out) {
  if (m.has(field_info(f).key)) read_field(m, f, out);
}

void read_field_optional(YamlMap& m, RequestField f, std::optional<int>& out) {
  if (!m.has(field_info(f).key)) return;
  int v = 0;
  read_field(m, f, v);
  out = v;
}

void read_field(YamlMap& m, RequestField f, std::vector<int>& out) {
  const auto& i = field_info(f);
  m.read(i.key, out, static_cast<int>(i.min), static_cast<int>(i.max));
}

}  // namespace palsim::frontend
