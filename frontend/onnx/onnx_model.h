#pragma once
// An ONNX file as palsim reads it: parsed with ONNX's own protobuf classes
// (Debian's libonnx), its opset checked against the operators this ONNX
// release defines, checked by ONNX's checker, and (once palsim has read the
// graph) ONNX's shape inference run over it so that every tensor it can
// resolve carries its shape.
#include <map>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace palsim::frontend::onnx_import {

// The default-domain opsets palsim reads: ONNX 1.12 defines up to opset 17;
// opset 7 is the first with today's Conv/BatchNormalization/Gemm attributes.
constexpr int kMinOpset = 7;
constexpr int kMaxOpset = 17;
// The domain of QONNX's Quant node (FINN / Brevitas exports).
constexpr const char* kQonnxDomain = "qonnx.custom_op.general";

struct OnnxModel {
  std::string path;
  int opset = 0;
  onnx::ModelProto proto;
  // The shapes ONNX's shape inference resolved (graph inputs, outputs and
  // value_info): per tensor name, every dimension; -1 where it is symbolic.
  // Empty until infer_onnx_shapes().
  std::map<std::string, std::vector<int64_t>> inferred_shapes;
};

// Reads and checks `bytes` (`path` names them in messages). Throws
// InputError naming the file: not an ONNX model (a truncated or corrupt
// protobuf, or one ONNX's checker refuses), an opset outside
// kMinOpset..kMaxOpset, or tensors stored outside the file.
OnnxModel parse_onnx_model(const std::string& bytes, const std::string& path);

// Runs ONNX's shape inference and fills inferred_shapes. Only for a graph
// palsim has read: libonnx 1.12's inference trusts well-formed nodes (a
// rank-2 input to a Conv makes it dereference null, a fuzzer finding), and
// palsim's reading checks every node's ranks and attributes first.
void infer_onnx_shapes(OnnxModel& model);

// Whether `path` names an ONNX file (by its extension, case-insensitive).
bool is_onnx_path(const std::string& path);

}  // namespace palsim::frontend::onnx_import
