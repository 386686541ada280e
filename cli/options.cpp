#include "cli/options.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <tuple>

#include "common/error.h"
#include "frontend/builders/request_fields.h"
#include "frontend/onnx/onnx_import.h"

namespace palsim::cli {

void NetworkOptions::add_to(po::options_description& desc) {
  using frontend::range_text;
  using frontend::RequestField;
  po::options_description net("Network and form");
  net.add_options()(
      "network", po::value(&network),
      "NETWORK: built-in name (resnet18, resnet34, plain18, shufflenetv2), a YAML network file or "
      "an ONNX model (.onnx)")(
      "method", po::value(&method)->default_value("fp"),
      "form of a built-in network (or of a float ONNX model's body): fp, lsq, ewgs, "
      "bitdecomposed, palquant (built-ins only)")(
      "abits", po::value(&abits)->default_value(abits),
      fmt::format("activation bits (lsq, ewgs, bitdecomposed), {}",
                  range_text(RequestField::kABits))
          .c_str())(
      "wbits", po::value(&wbits)->default_value(wbits),
      fmt::format("weight bits (lsq, ewgs, bitdecomposed), {}", range_text(RequestField::kWBits))
          .c_str())("slice-bits", po::value(&slice_bits)->default_value(slice_bits),
                    "slice width of bitdecomposed: 1, 2 or 4")(
      "quantizer", po::value(&quantizer)->default_value("lsq"),
      "quantizer of bitdecomposed: lsq or ewgs")(
      "B", po::value(&B)->default_value(B),
      fmt::format("palquant: bits of every quantized conv, {}", range_text(RequestField::kB))
          .c_str())("G", po::value(&G)->default_value(G),
                    fmt::format("palquant: channel groups (channels widened G x), {}",
                                range_text(RequestField::kG))
                        .c_str())(
      "channel-shuffle", po::value(&channel_shuffle)->default_value("per_stage"),
      "palquant: none, per_stage (first block of stages 2-4) or per_block")(
      "no-cyclic", po::bool_switch(&no_cyclic), "palquant: leave out the cyclic shuffle modules")(
      "no-permutation", po::bool_switch(&no_permutation),
      "palquant: cyclic shuffle modules without the group permutation (ablation)")(
      "permute-direction", po::value(&permute_direction)->default_value("paper"),
      "palquant: paper (Eq. 8: group i -> i+1) or reference (the reference code's rotation)")(
      "input-size", po::value(&input_size), "built-in: input height = width (default 224)")(
      "input-channels", po::value(&input_channels), "built-in: input channels (default 3)")(
      "classes", po::value(&classes), "built-in: classes (default 1000)")(
      "base-width", po::value(&base_width),
      "resnet18/34, plain18: channels of stage 1 before widening (default 64)")(
      "stem", po::value(&stem),
      "built-in: imagenet (ResNets: 7x7/2 + max pool; shufflenetv2: 3x3/2 + max pool) or small "
      "(3x3/1, no pool)")("blocks", po::value(&blocks),
                          "built-in: blocks per stage, e.g. 2,2,2,2 (ResNets, plain18) or units "
                          "per stage, e.g. 4,8,4 (shufflenetv2)")(
      "projections", po::value(&projections),
      "plain18: keep (the downsampling blocks keep their 1x1 projection shortcut; ResNet-18's "
      "BitOps, as the "
      "paper) or drop (no shortcut at all); default keep")(
      "width", po::value(&width),
      "shufflenetv2: width multiplier 0.5, 1.0, 1.5 or 2.0 (default 1.0)")(
      "cyclic-groups", po::value(&cyclic_groups),
      "shufflenetv2: add a cyclic shuffle module with this many groups before stages 3 and 4")(
      "role", po::value(&roles)->composing(),
      "ONNX model: NAME=stem|classifier|body overrides the inferred role of layer NAME "
      "(repeatable; palsim import lists the names)");
  desc.add(net);
}

frontend::NetworkRequest NetworkOptions::request(const po::variables_map& vm) const {
  // A bad option value is a bad command line (exit 2), though the library
  // reports it as an InputError naming the option.
  try {
    return request_unchecked(vm);
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
}

frontend::NetworkRequest NetworkOptions::request_unchecked(const po::variables_map& vm) const {
  using namespace frontend;
  if (network.empty()) throw UsageError("missing NETWORK");
  if (!is_builtin_network(network)) {
    // A network file carries its own form: the options that build one are misused.
    if (!looks_like_network_file(network) && !std::filesystem::exists(network)) {
      throw UsageError(
          fmt::format("NETWORK: unknown network '{}' (built-in: {}; or a path to a "
                      ".yaml network file or an .onnx model)",
                      network, fmt::join(builtin_networks(), ", ")));
    }
    // A float ONNX model takes the form of a built-in's body; its shapes are its own.
    const bool onnx = is_onnx_network(network);
    for (const char* o : {"method",
                          "abits",
                          "wbits",
                          "slice-bits",
                          "quantizer",
                          "B",
                          "G",
                          "channel-shuffle",
                          "permute-direction",
                          "no-cyclic",
                          "no-permutation",
                          "input-size",
                          "input-channels",
                          "classes",
                          "base-width",
                          "stem",
                          "blocks",
                          "projections",
                          "width",
                          "cyclic-groups"}) {
      const std::string opt = o;
      const bool form = opt == "method" || opt == "abits" || opt == "wbits" ||
                        opt == "slice-bits" || opt == "quantizer";
      if (onnx && form) continue;
      if (vm.count(o) && !vm[o].defaulted()) {
        throw UsageError(
            fmt::format("--{} applies to built-in networks only; the network file '{}' carries its "
                        "own {}",
                        o, network, onnx ? "shapes" : "quantization and shapes"));
      }
    }
  }
  if (!roles.empty() && !is_onnx_network(network))
    throw UsageError("--role applies to ONNX models (.onnx)");
  NetworkRequest r;
  r.network = network;
  for (const std::string& role : roles) r.roles.push_back(parse_role_override(role));
  const char* method_opts[] = {"method",     "abits",           "wbits",
                               "slice-bits", "quantizer",       "B",
                               "G",          "channel-shuffle", "permute-direction"};
  for (const char* o : method_opts) {
    if (vm.count(o) && !vm[o].defaulted()) r.method_given = true;
  }
  if (no_cyclic || no_permutation) r.method_given = true;
  MethodOptions& m = r.method;
  m.method = parse_method(method);
  m.a_bits = abits;
  m.w_bits = wbits;
  m.slice_bits = slice_bits;
  if (quantizer == "lsq")
    m.decomposed_quantizer = Quantizer::kLsq;
  else if (quantizer == "ewgs")
    m.decomposed_quantizer = Quantizer::kUniform;
  else
    throw UsageError(fmt::format("--quantizer: must be lsq or ewgs, got '{}'", quantizer));
  m.B = B;
  m.G = G;
  m.channel_shuffle = parse_shuffle_mode(channel_shuffle);
  m.cyclic_shuffle = !no_cyclic;
  m.cyclic_permutation = !no_permutation;
  if (permute_direction == "paper")
    m.permute_direction = 1;
  else if (permute_direction == "reference")
    m.permute_direction = -1;
  else
    throw UsageError(fmt::format("--permute-direction: must be paper or reference, got '{}'",
                                 permute_direction));
  if (m.method != Method::kPalQuant) {
    for (const char* o : {"B", "G", "channel-shuffle", "permute-direction"}) {
      if (vm.count(o) && !vm[o].defaulted()) {
        throw UsageError(fmt::format("--{} applies to --method palquant only", o));
      }
    }
    if (no_cyclic || no_permutation)
      throw UsageError("--no-cyclic/--no-permutation apply to --method palquant only");
  }
  if (m.method == Method::kPalQuant || m.method == Method::kFp) {
    for (const char* o : {"abits", "wbits"}) {
      if (vm.count(o) && !vm[o].defaulted()) {
        throw UsageError(
            fmt::format("--{} applies to lsq, ewgs and bitdecomposed, not {}", o, method));
      }
    }
  }
  m.validate();
  // Shapes of a built-in network: refused here, naming the option, rather
  // than by the builder as a layer's problem.
  for (const auto& [f, v, into] :
       {std::tuple<RequestField, int, std::optional<int>*>{RequestField::kInputSize, input_size,
                                                           &r.input_size},
        {RequestField::kInputChannels, input_channels, &r.input_channels},
        {RequestField::kClasses, classes, &r.classes},
        {RequestField::kBaseWidth, base_width, &r.base_width},
        {RequestField::kCyclicGroups, cyclic_groups, &r.cyclic_groups}}) {
    if (!vm.count(field_info(f).flag)) continue;
    check_range(f, v);
    *into = v;
  }
  if (vm.count("stem")) r.stem = stem;
  if (vm.count("projections")) r.projections = projections;
  if (vm.count("width")) r.width = width;
  if (vm.count("blocks")) {
    std::vector<int> b;
    std::stringstream ss(blocks);
    std::string item;
    while (std::getline(ss, item, ',')) {
      try {
        b.push_back(std::stoi(item));
      } catch (...) {
        throw UsageError(
            fmt::format("--blocks: '{}' is not a comma-separated list of integers", blocks));
      }
      check_range(RequestField::kBlocks, b.back());
    }
    r.blocks = b;
  }
  return r;
}

void HardwareOptions::add_to(po::options_description& desc) {
  po::options_description hwd("Accelerator and lowering");
  hwd.add_options()("hw", po::value(&hw)->default_value(hw),
                    "hardware configuration: a YAML file, or the name of one palsim ships "
                    "(bitfusion, bpvec, ...: configs/NAME.yaml of its data directory)")(
      "set", po::value(&overrides)->composing(),
      "override a configuration value, e.g. --set buffers.ibuf.size_bytes=16384 (repeatable)")(
      "fp-layers", po::value(&fp_layers)->default_value(fp_layers),
      "the full-precision stem and classifier: exclude (not simulated) or int8 (8-bit, "
      "bit-decomposed)")("batch", po::value(&batch)->default_value(1), "images per inference")(
      "no-onchip", po::bool_switch(&no_onchip),
      "never keep a block's intermediate tensor on chip (measure what it saves)")(
      "refine", po::value(&refine)->default_value(refine),
      "simulate the mapper's best K mappings of every layer and keep the best (1: the mapper's "
      "estimate alone)")("cycle-tolerance",
                         po::value(&cycle_tolerance)->default_value(cycle_tolerance),
                         "objective: among mappings within this fraction of the fewest cycles, the "
                         "least energy (0: strictly cycles, then energy)");
  desc.add(hwd);
}

namespace {

// A --hw without a directory or .yaml that is not a file names a shipped
// configuration.
std::string hw_config_file(const std::string& hw) {
  namespace fs = std::filesystem;
  const bool is_name =
      hw.find('/') == std::string::npos && fs::path(hw).extension() != ".yaml" && !fs::exists(hw);
  if (!is_name) return hw;
  const fs::path shipped = fs::path(data_path("configs")) / (hw + ".yaml");
  if (fs::is_regular_file(shipped)) return shipped.string();
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_path("configs"), ec)) {
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  throw UsageError(
      fmt::format("--hw: '{}' is neither a file nor a shipped configuration (shipped: {}; in {})",
                  hw, fmt::join(names, ", "), data_path("configs")));
}

}  // namespace

frontend::HwConfig HardwareOptions::load() const {
  frontend::HwConfig cfg = frontend::load_hw_config(hw_config_file(hw));
  for (const auto& o : overrides) frontend::apply_hw_override(cfg, o);
  return cfg;
}

frontend::LoweringOptions HardwareOptions::lowering() const {
  frontend::LoweringOptions o;
  o.fp_layers = frontend::parse_fp_layer_treatment(fp_layers);
  check_batch(batch);
  o.batch = batch;
  o.onchip_intermediates = !no_onchip;
  check_search_options(refine, cycle_tolerance);
  return o;
}

void check_batch(int batch) {
  constexpr int kMax = frontend::LoweringOptions::kMaxBatch;
  if (batch < 1 || batch > kMax)
    throw UsageError(fmt::format("--batch: must be between 1 and {}, got {}", kMax, batch));
}

void check_search_options(int refine, double cycle_tolerance) {
  constexpr auto kMax = sim::kMaxRefineCandidates;
  if (refine < 1 || static_cast<size_t>(refine) > kMax)
    throw UsageError(fmt::format("--refine: must be between 1 and {}, got {}", kMax, refine));
  if (!(cycle_tolerance >= 0 && cycle_tolerance <= 1))
    throw UsageError(
        fmt::format("--cycle-tolerance: must be between 0 and 1, got {}", cycle_tolerance));
}

bool parse_command_line(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description& positional, po::variables_map& vm,
                        const std::string& usage, const std::string& examples) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << usage << "\n\n" << desc << "\nExamples:\n" << examples << "\n";
      return false;
    }
  }
  try {
    po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::too_many_positional_options_error& e) {
    throw UsageError(fmt::format("{} (NETWORK is the only positional argument)", e.what()));
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  // An empty value is never meant: an empty output name would silently mean
  // "no output" and an empty input name fails later without the option.
  for (const auto& [name, value] : vm) {
    if (value.defaulted()) continue;
    const auto* s = boost::any_cast<std::string>(&value.value());
    const auto* list = boost::any_cast<std::vector<std::string>>(&value.value());
    const bool empty =
        (s && s->empty()) ||
        (list && std::any_of(list->begin(), list->end(), [](const auto& v) { return v.empty(); }));
    if (empty) throw UsageError(fmt::format("--{}: empty value", name));
  }
  return true;
}

}  // namespace palsim::cli
