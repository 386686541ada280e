#include "frontend/onnx/onnx_tensors.h"

#include <onnx/defs/tensor_proto_util.h>

#include <algorithm>

namespace palsim::frontend::onnx_import {

using onnx::TensorProto;

bool is_integer_type(int32_t t) {
  return t == TensorProto::INT64 || t == TensorProto::INT32 || t == TensorProto::INT8 ||
         t == TensorProto::UINT8 || t == TensorProto::INT16 || t == TensorProto::UINT16;
}

int64_t element_count(const TensorProto& t) {
  int64_t n = 1;
  for (int64_t d : t.dims()) n *= d;
  return n;
}

std::vector<int64_t> dims_of(const TensorProto& t) {
  return std::vector<int64_t>(t.dims().begin(), t.dims().end());
}

namespace {

template <typename T, typename Out>
std::vector<Out> convert(const TensorProto& t) {
  const std::vector<T> v = onnx::ParseData<T>(&t);
  return std::vector<Out>(v.begin(), v.end());
}

}  // namespace

std::vector<int64_t> int_values(const TensorProto& t) {
  switch (t.data_type()) {
    case TensorProto::INT64:
      return convert<int64_t, int64_t>(t);
    case TensorProto::INT32:
    case TensorProto::INT8:
    case TensorProto::UINT8:
    case TensorProto::INT16:
    case TensorProto::UINT16:
      // ONNX stores these in int32_data (ParseData<int32_t> reads raw int32
      // only), so narrow types come from the typed field or raw bytes.
      if (t.has_raw_data() && t.data_type() != TensorProto::INT32) {
        std::vector<int64_t> out;
        const std::string& raw = t.raw_data();
        const bool wide =
            t.data_type() == TensorProto::INT16 || t.data_type() == TensorProto::UINT16;
        for (size_t i = 0; i + (wide ? 1 : 0) < raw.size(); i += wide ? 2 : 1) {
          const auto b0 = static_cast<unsigned char>(raw[i]);
          if (t.data_type() == TensorProto::INT8)
            out.push_back(static_cast<int8_t>(b0));
          else if (t.data_type() == TensorProto::UINT8)
            out.push_back(b0);
          else {
            const uint16_t u =
                static_cast<uint16_t>(b0 | (static_cast<unsigned char>(raw[i + 1]) << 8));
            out.push_back(t.data_type() == TensorProto::INT16 ? static_cast<int16_t>(u) : u);
          }
        }
        return out;
      }
      if (!t.has_raw_data())
        return std::vector<int64_t>(t.int32_data().begin(), t.int32_data().end());
      return convert<int32_t, int64_t>(t);
    case TensorProto::FLOAT:
      return convert<float, int64_t>(t);
    case TensorProto::DOUBLE:
      return convert<double, int64_t>(t);
    default:
      return {};
  }
}

std::vector<double> float_values(const TensorProto& t) {
  switch (t.data_type()) {
    case TensorProto::FLOAT:
      return convert<float, double>(t);
    case TensorProto::DOUBLE:
      return convert<double, double>(t);
    default: {
      const std::vector<int64_t> v = int_values(t);
      return std::vector<double>(v.begin(), v.end());
    }
  }
}

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

int64_t int_attribute(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  const auto* a = find_attribute(n, name);
  return a ? a->i() : fallback;
}

std::vector<int64_t> ints_attribute(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = find_attribute(n, name);
  if (!a) return {};
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::optional<float> float_attribute(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = find_attribute(n, name);
  if (!a) return std::nullopt;
  return a->f();
}

std::string string_attribute(const onnx::NodeProto& n, const std::string& name,
                             const std::string& fallback) {
  const auto* a = find_attribute(n, name);
  return a ? a->s() : fallback;
}

std::optional<std::vector<int64_t>> integer_arithmetic(const std::string& op,
                                                       const std::vector<int64_t>& a,
                                                       const std::vector<int64_t>& b) {
  if (a.empty() || b.empty()) return std::nullopt;
  if (a.size() != b.size() && a.size() != 1 && b.size() != 1) return std::nullopt;
  const size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = a[a.size() == 1 ? 0 : i], y = b[b.size() == 1 ? 0 : i];
    bool overflow = false;
    if (op == "Add") {
      overflow = __builtin_add_overflow(x, y, &out[i]);
    } else if (op == "Sub") {
      overflow = __builtin_sub_overflow(x, y, &out[i]);
    } else if (op == "Mul") {
      overflow = __builtin_mul_overflow(x, y, &out[i]);
    } else if (op == "Div") {
      if (y == 0 || (y == -1 && x == INT64_MIN)) return std::nullopt;
      out[i] = x / y;
    } else {
      return std::nullopt;
    }
    if (overflow) return std::nullopt;
  }
  return out;
}

int64_t clamp_slice_bound(int64_t bound, int64_t extent, bool is_end) {
  if (bound < 0) bound += extent;
  return std::clamp<int64_t>(bound, 0, is_end ? extent : std::max<int64_t>(extent - 1, 0));
}

std::vector<int64_t> slice_vector(const std::vector<int64_t>& v, int64_t start, int64_t end,
                                  int64_t step) {
  const auto n = static_cast<int64_t>(v.size());
  std::vector<int64_t> out;
  if (step <= 0) return out;
  start = clamp_slice_bound(start, n, false);
  end = clamp_slice_bound(end, n, true);
  for (int64_t i = start; i < end; i += step) out.push_back(v[static_cast<size_t>(i)]);
  return out;
}

}  // namespace palsim::frontend::onnx_import
