// Fuzz target: the ONNX importer (frontend/onnx): protobuf parsing by libonnx,
// the opset check, ONNX's shape inference, and the conversion of every node
// into palsim's IR with its own shape inference.
#include "frontend/onnx/onnx_import.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  palsim::fuzz::expect_clean_rejection("fuzz-model.onnx", [&] {
    palsim::frontend::OnnxImportOptions options;
    palsim::frontend::import_onnx_bytes(bytes, "fuzz-model.onnx", options);
  });
  return 0;
}
