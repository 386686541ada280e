#pragma once
// Imports an ONNX or QONNX model as a palsim network.
//
// The graph is read node by node into palsim's IR (frontend/ir): Conv,
// BatchNormalization, Relu, Clip, Add, Concat, MaxPool, AveragePool,
// GlobalAveragePool (and ReduceMean over height and width), Gemm/MatMul,
// Flatten/Reshape, the Reshape-Transpose-Reshape channel shuffle, Split/Slice
// on channels and Identity/Dropout; the integer shape computations exporters
// put in front of Reshape and Slice are evaluated. Any other operator is
// refused, naming the node, its op type and the supported list. Shapes are
// palsim's own, checked against every shape ONNX's shape inference resolved.
//
// Precision: a float model takes the form of a built-in network's body
// (--method/--abits/--wbits); QuantizeLinear/DequantizeLinear pairs and
// QONNX Quant nodes give each conv and FC its own widths, and the weights'
// signedness picks the quantizer (signed: LSQ; unsigned levels: uniform).
// The stem (the first conv and the BN/ReLU/max pool after it) and the
// classifier (the last FC and the pooling/flatten before it) are inferred
// and can be overridden per layer.
#include <string>
#include <utility>
#include <vector>

#include "frontend/builders/method.h"
#include "frontend/ir/network.h"

namespace palsim::frontend {

struct OnnxImportOptions {
  MethodOptions method;       // applied to the body of a float model
  bool method_given = false;  // refused for a model that carries its quantization
  // Role overrides by layer name, applied after inference.
  std::vector<std::pair<std::string, LayerRole>> roles;
};

struct OnnxImport {
  Network network;
  int opset = 0;
  // "float", "QDQ" (QuantizeLinear/DequantizeLinear) or "QONNX" (Quant nodes).
  std::string quantization = "float";
};

// The operators the importer reads, for messages and documentation.
const std::vector<std::string>& supported_onnx_ops();

// Throws InputError naming the file, and the node (index, name, op type)
// where the model cannot be read.
OnnxImport import_onnx(const std::string& path, const OnnxImportOptions& options);
OnnxImport import_onnx_bytes(const std::string& bytes, const std::string& path,
                             const OnnxImportOptions& options);

// "NAME=ROLE" (ROLE one of body, stem, classifier), as given to --role.
std::pair<std::string, LayerRole> parse_role_override(const std::string& text);

}  // namespace palsim::frontend
