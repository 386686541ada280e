#pragma once
// Reading ONNX tensors and attributes: initializer and Constant values (through
// ONNX's own ParseData, which handles raw and typed storage), attribute lookup
// with defaults, and the integer arithmetic of the small shape computations
// exporters emit (Shape -> Gather -> Div -> Slice for a PyTorch chunk).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace palsim::frontend::onnx_import {

bool is_integer_type(int32_t data_type);
int64_t element_count(const onnx::TensorProto& t);
std::vector<int64_t> dims_of(const onnx::TensorProto& t);
// Values converted to int64 / float (integer or floating point tensors).
std::vector<int64_t> int_values(const onnx::TensorProto& t);
std::vector<double> float_values(const onnx::TensorProto& t);

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& n, const std::string& name);
int64_t int_attribute(const onnx::NodeProto& n, const std::string& name, int64_t fallback);
std::vector<int64_t> ints_attribute(const onnx::NodeProto& n, const std::string& name);
std::optional<float> float_attribute(const onnx::NodeProto& n, const std::string& name);
std::string string_attribute(const onnx::NodeProto& n, const std::string& name,
                             const std::string& fallback);

// The integer result of an elementwise Add/Sub/Mul/Div with scalar broadcast
// (Div truncates toward zero as ONNX's integer Div); nullopt when the shapes
// do not broadcast or a divisor is 0.
std::optional<std::vector<int64_t>> integer_arithmetic(const std::string& op,
                                                       const std::vector<int64_t>& a,
                                                       const std::vector<int64_t>& b);
// ONNX Slice on a 1-D integer vector (start/end clamped as the operator does).
std::vector<int64_t> slice_vector(const std::vector<int64_t>& v, int64_t start, int64_t end,
                                  int64_t step);
// A Slice bound made concrete for an axis of `extent` elements.
int64_t clamp_slice_bound(int64_t bound, int64_t extent, bool is_end);

}  // namespace palsim::frontend::onnx_import
