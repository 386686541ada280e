// palsim import: read an ONNX or QONNX model, show what palsim understood of
// it (every conv and FC with its role and precision) and write it as a YAML
// network file to inspect and edit.
#include <fmt/format.h>

#include <iostream>
#include <map>

#include "cli/command.h"
#include "cli/options.h"
#include "common/atomic_file.h"
#include "frontend/ir/network_yaml.h"
#include "frontend/onnx/onnx_import.h"

namespace palsim::cli {

namespace {

std::string precision(const frontend::QuantSpec& q, bool weights) {
  if (!q.quantized()) return "fp";
  if (weights) return fmt::format("{} {}", q.w_bits, q.weights_signed() ? "signed" : "unsigned");
  return fmt::format("{} unsigned", q.a_bits);
}

// The table of weight layers, then a count of the others by op.
std::string summary(const frontend::OnnxImport& imp, const std::string& path) {
  using namespace frontend;
  const Network& net = imp.network;
  std::string out = fmt::format("{}: opset {}, {} model, {} layers\n", path, imp.opset,
                                imp.quantization, net.size());
  out += fmt::format("{:<32} {:<5} {:<10} {:>12} {:<12} {:<12} {}\n", "layer", "op", "role",
                     "output", "weights", "activations", "quantizer");
  std::map<std::string, int> others;
  for (const Layer& l : net.layers()) {
    const QuantSpec* q = l.is<ConvAttrs>() ? &l.as<ConvAttrs>().quant
                         : l.is<FcAttrs>() ? &l.as<FcAttrs>().quant
                                           : nullptr;
    if (!q) {
      ++others[l.op()];
      continue;
    }
    out += fmt::format("{:<32} {:<5} {:<10} {:>12} {:<12} {:<12} {}\n", l.name, l.op(),
                       to_string(l.role), to_string(l.out), precision(*q, true),
                       precision(*q, false), to_string(q->quantizer));
  }
  std::vector<std::string> parts;
  for (const auto& [op, n] : others) parts.push_back(fmt::format("{} {}", n, op));
  out += fmt::format("other layers: {}\n", fmt::join(parts, ", "));
  return out;
}

}  // namespace

int run_import(const std::vector<std::string>& args) {
  NetworkOptions net;
  std::string output;
  po::options_description desc("palsim import options");
  net.add_to(desc);
  desc.add_options()("output,o", po::value(&output),
                     "write the YAML network here (default: stdout, the summary to stderr)");
  po::positional_options_description pos;
  pos.add("network", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm, "usage: palsim import MODEL.onnx [options] [-o FILE.yaml]",
          "  palsim import resnet18.onnx -o resnet18.yaml\n"
          "  palsim import resnet18.onnx --method lsq --abits 4 --wbits 4 -o resnet18_a4w4.yaml\n"
          "  palsim import brevitas_qonnx.onnx --role conv1=body -o mixed.yaml")) {
    return kExitOk;
  }
  const frontend::NetworkRequest request = net.request(vm);
  if (!frontend::is_onnx_network(request.network))
    throw UsageError(fmt::format("MODEL: '{}' is not an .onnx file", request.network));
  if (!output.empty()) check_output_path(output, "-o/--output");
  frontend::OnnxImportOptions o;
  o.method = request.method;
  o.method_given = request.method_given;
  o.roles = request.roles;
  const frontend::OnnxImport imp = frontend::import_onnx(request.network, o);
  const std::string table = summary(imp, request.network);
  const std::string yaml = frontend::network_to_yaml(imp.network);
  if (output.empty()) {
    std::cerr << table;
    write_stdout(yaml);
  } else {
    write_file_atomically(output, yaml);
    write_stdout(table);
    fmt::print(stderr, "wrote {} ({} layers)\n", output, imp.network.size());
  }
  return kExitOk;
}

}  // namespace palsim::cli
