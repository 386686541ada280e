#pragma once
// An ONNX file as palsim reads it: parsed with ONNX's own protobuf classes
// (Debian's libonnx), its opset checked against the operators this ONNX
// release defines, and ONNX's shape inference run over it so that every
// tensor it can resolve carries its shape.
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
  std::map<std::string, std::vector<int64_t>> inferred_shapes;
};

// Reads and checks `path`. Throws InputError naming the file: missing,
// not an ONNX model (a truncated or corrupt protobuf), an opset outside
// kMinOpset..kMaxOpset, or tensors stored outside the file.
OnnxModel load_onnx_model(const std::string& path);
// The same from bytes already read (`path` names them in messages).
OnnxModel parse_onnx_model(const std::string& bytes, const std::string& path);

// Whether `path` names an ONNX file (by its extension, case-insensitive).
bool is_onnx_path(const std::string& path);

}  // namespace palsim::frontend::onnx_import
