#include "frontend/onnx/onnx_model.h"

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "common/error.h"

namespace palsim::frontend::onnx_import {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw InputError(fmt::format("{}: {}", path, message));
}

int default_opset(const std::string& path, const onnx::ModelProto& m) {
  int opset = 0;
  for (const auto& o : m.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
  }
  if (opset == 0) fail(path, "the model imports no opset of the default ONNX domain");
  if (opset < kMinOpset || opset > kMaxOpset) {
    fail(path, fmt::format("opset {} is not supported (palsim reads opsets {}..{}; re-export "
                           "with e.g. torch.onnx.export(..., opset_version=13))",
                           opset, kMinOpset, kMaxOpset));
  }
  return opset;
}

void refuse_external_data(const std::string& path, const onnx::GraphProto& g) {
  for (const auto& t : g.initializer()) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      fail(path, fmt::format("initializer '{}' is stored outside the file (external data); "
                             "export the model as one file",
                             t.name()));
    }
  }
}

void collect_shapes(const onnx::ValueInfoProto& v,
                    std::map<std::string, std::vector<int64_t>>& out) {
  if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return;
  std::vector<int64_t> dims;
  for (const auto& d : v.type().tensor_type().shape().dim())
    dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  out[v.name()] = dims;
}

}  // namespace

bool is_onnx_path(const std::string& path) {
  if (path.size() < 5) return false;
  std::string ext = path.substr(path.size() - 5);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".onnx";
}

OnnxModel parse_onnx_model(const std::string& bytes, const std::string& path) {
  OnnxModel m;
  m.path = path;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    fail(path, "larger than protobuf's 2 GiB limit");
  if (!m.proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail(path, "not a valid ONNX model (the protobuf does not parse: truncated or corrupt file?)");
  if (!m.proto.has_graph() || m.proto.graph().node_size() == 0)
    fail(path, "not a valid ONNX model (no graph, or a graph without nodes)");
  m.opset = default_opset(path, m.proto);
  refuse_external_data(path, m.proto.graph());
  // ONNX's checker first: its shape inference trusts a well-formed graph
  // (libonnx 1.12 dereferences null in Conv's inference for a misspelt
  // attribute, a fuzzer finding).
  try {
    onnx::checker::check_model(m.proto);
  } catch (const std::exception& e) {
    // One line: the checker's message spans several.
    std::string why = e.what();
    std::replace(why.begin(), why.end(), '\n', ' ');
    fail(path, fmt::format("not a valid ONNX model: {}", why));
  }
  return m;
}

void infer_onnx_shapes(OnnxModel& model) {
  // Node-level inference errors are not thrown (error_mode 0): a node ONNX
  // cannot infer keeps unknown shapes, and palsim's own shape inference
  // decides. Data propagation resolves Shape/Gather/Concat chains.
  try {
    onnx::shape_inference::InferShapes(model.proto, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(false, 0, true));
  } catch (const std::exception& e) {
    fail(model.path, fmt::format("ONNX shape inference failed: {}", e.what()));
  }
  const auto& g = model.proto.graph();
  for (const auto& v : g.input()) collect_shapes(v, model.inferred_shapes);
  for (const auto& v : g.value_info()) collect_shapes(v, model.inferred_shapes);
  for (const auto& v : g.output()) collect_shapes(v, model.inferred_shapes);
}

}  // namespace palsim::frontend::onnx_import
