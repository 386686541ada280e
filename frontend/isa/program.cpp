#include "frontend/isa/program.h"

#include <fmt/format.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/fnv1a.h"
#include "common/input_file.h"
#include "common/text_check.h"
#include "frontend/isa/program_check.h"

namespace palsim::isa {

namespace {

constexpr char kMagic[8] = {'P', 'A', 'L', 'S', 'I', 'M', 'P', 'G'};

void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u64(std::vector<uint8_t>& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

nlohmann::json info_to_json(const ProgramInfo& i) {
  nlohmann::json j;
  j["network"] = i.network;
  j["hw_name"] = i.hw_name;
  j["hw_fingerprint"] = i.hw_fingerprint;
  j["fp_layers"] = i.fp_layers;
  j["batch"] = i.batch;
  j["onchip_intermediates"] = i.onchip_intermediates;
  j["excluded_layers"] = i.excluded_layers;
  j["input_tensor"] = i.input_tensor;
  j["output_tensor"] = i.output_tensor;
  j["dram_bits"] = i.dram_bits;
  j["tensors"] = nlohmann::json::array();
  for (const auto& t : i.tensors) {
    nlohmann::json x = {{"name", t.name},
                        {"c", t.c},
                        {"h", t.h},
                        {"w", t.w},
                        {"batch", t.batch},
                        {"bits", t.bits},
                        {"dram_bit", t.dram_bit}};
    if (t.view_of >= 0) {
      x["view_of"] = t.view_of;
      x["view_offset"] = t.view_offset;
      x["view_stride"] = t.view_stride;
    }
    j["tensors"].push_back(x);
  }
  j["ops"] = nlohmann::json::array();
  for (const auto& o : i.ops) {
    j["ops"].push_back({{"name", o.name},
                        {"kind", o.kind},
                        {"role", o.role},
                        {"layers", o.layers},
                        {"macs", o.macs},
                        {"mapping", o.mapping}});
  }
  return j;
}

ProgramInfo info_from_json(const nlohmann::json& j) {
  ProgramInfo i;
  i.network = j.at("network").get<std::string>();
  i.hw_name = j.at("hw_name").get<std::string>();
  i.hw_fingerprint = j.at("hw_fingerprint").get<std::string>();
  i.fp_layers = j.at("fp_layers").get<std::string>();
  i.batch = j.at("batch").get<int>();
  i.onchip_intermediates = j.at("onchip_intermediates").get<bool>();
  i.excluded_layers = j.at("excluded_layers").get<std::vector<std::string>>();
  i.input_tensor = j.at("input_tensor").get<int>();
  i.output_tensor = j.at("output_tensor").get<int>();
  i.dram_bits = j.at("dram_bits").get<uint64_t>();
  for (const auto& t : j.at("tensors")) {
    TensorInfo x{t.at("name").get<std::string>(),
                 t.at("c").get<int>(),
                 t.at("h").get<int>(),
                 t.at("w").get<int>(),
                 t.at("batch").get<int>(),
                 t.at("bits").get<int>(),
                 t.at("dram_bit").get<uint64_t>()};
    if (t.contains("view_of")) {
      x.view_of = t.at("view_of").get<int>();
      x.view_offset = t.at("view_offset").get<int>();
      x.view_stride = t.at("view_stride").get<int>();
    }
    i.tensors.push_back(x);
  }
  for (const auto& o : j.at("ops")) {
    i.ops.push_back(OpInfo{o.at("name").get<std::string>(), o.at("kind").get<std::string>(),
                           o.at("role").get<std::string>(),
                           o.at("layers").get<std::vector<std::string>>(),
                           o.at("macs").get<int64_t>(), o.at("mapping").get<std::string>()});
  }
  return i;
}

}  // namespace

uint64_t program_checksum(const uint8_t* data, size_t n) {
  return fnv1a64(data, n);
}

std::vector<uint8_t> serialize(const Program& p) {
  const std::string meta = info_to_json(p.info).dump();
  std::vector<uint8_t> b(kMagic, kMagic + 8);
  put_u32(b, kProgramFormatVersion);
  put_u32(b, 0);
  put_u64(b, p.code.size());
  put_u64(b, meta.size());
  for (const auto& in : p.code) put_u64(b, encode(in));
  b.insert(b.end(), meta.begin(), meta.end());
  put_u64(b, program_checksum(b.data(), b.size()));
  return b;
}

Program deserialize(const std::vector<uint8_t>& bytes, const std::string& name) {
  auto fail = [&](const std::string& why) -> InputError {
    return InputError(fmt::format("{}: not a valid palsim program: {}", name, why));
  };
  constexpr size_t kHeader = 8 + 4 + 4 + 8 + 8;
  if (bytes.size() < kHeader + 8)
    throw fail(fmt::format("only {} bytes (truncated)", bytes.size()));
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) throw fail("wrong magic (expected PALSIMPG)");
  const uint32_t version = get_u32(bytes.data() + 8);
  if (version != kProgramFormatVersion) {
    throw InputError(
        fmt::format("{}: program format version {} (this palsim reads version {}); recompile it",
                    name, version, kProgramFormatVersion));
  }
  const uint64_t count = get_u64(bytes.data() + 16);
  const uint64_t meta_len = get_u64(bytes.data() + 24);
  if (count > (bytes.size() - kHeader) / 8 || meta_len > bytes.size() ||
      kHeader + count * 8 + meta_len + 8 != bytes.size()) {
    throw fail(fmt::format(
        "sizes in the header ({} instructions, {} metadata bytes) do not match the file's {} bytes "
        "(truncated or corrupted)",
        count, meta_len, bytes.size()));
  }
  const size_t body = bytes.size() - 8;
  if (program_checksum(bytes.data(), body) != get_u64(bytes.data() + body))
    throw fail("checksum mismatch (corrupted)");
  Program p;
  for (uint64_t i = 0; i < count; ++i) {
    try {
      p.code.push_back(decode(get_u64(bytes.data() + kHeader + i * 8)));
    } catch (const InputError& e) {
      throw fail(fmt::format("instruction {}: {}", i, e.what()));
    }
  }
  try {
    const auto* m = reinterpret_cast<const char*>(bytes.data() + kHeader + count * 8);
    const nlohmann::json meta = nlohmann::json::parse(std::string(m, meta_len));
    // The parser checks UTF-8, but "\u0000" gives a NUL byte, which would cut
    // the names short in messages and listings.
    const std::function<void(const nlohmann::json&)> check_text = [&](const nlohmann::json& j) {
      if (j.is_string() && !text_problem(j.get_ref<const std::string&>()).empty()) {
        throw fail(fmt::format("metadata: the text '{}' {}",
                               printable(j.get_ref<const std::string&>()),
                               text_problem(j.get_ref<const std::string&>())));
      }
      if (j.is_structured()) {
        for (const auto& item : j) check_text(item);
      }
    };
    check_text(meta);
    p.info = info_from_json(meta);
  } catch (const nlohmann::json::exception& e) {
    throw fail(fmt::format("metadata: {}", e.what()));
  }
  for (size_t t = 0; t < p.info.tensors.size(); ++t) {
    const TensorInfo& x = p.info.tensors[t];
    if (x.view_of < 0) continue;
    const bool owner_ok = static_cast<size_t>(x.view_of) < p.info.tensors.size() &&
                          p.info.tensors[static_cast<size_t>(x.view_of)].view_of < 0;
    if (!owner_ok || x.view_offset < 0 || x.view_stride < 1 || x.c < 1 ||
        static_cast<int64_t>(x.view_offset) + static_cast<int64_t>(x.view_stride) * (x.c - 1) >=
            p.info.tensors[static_cast<size_t>(owner_ok ? x.view_of : 0)].c) {
      throw fail(fmt::format("metadata: tensor {} is not a valid channel view", t));
    }
  }
  return p;
}

void save_program(const Program& p, const std::string& path) {
  const std::vector<uint8_t> b = serialize(p);
  write_file_atomically(path, std::string(b.begin(), b.end()));
}

Program load_program(const std::string& path) {
  const std::string data = read_file(path);
  Program p = deserialize(std::vector<uint8_t>(data.begin(), data.end()), path);
  check_program(p, path);
  return p;
}

std::string listing(const Program& p) {
  std::string s;
  const ProgramInfo& i = p.info;
  s += fmt::format("; palsim program (format {}), network {}, hardware {}\n", kProgramFormatVersion,
                   i.network, i.hw_name);
  s += fmt::format("; batch {}, fp layers {}, on-chip intermediates {}\n", i.batch, i.fp_layers,
                   i.onchip_intermediates ? "on" : "off");
  s += fmt::format("; {} instructions ({} bytes), {} tensors, {} operations\n", p.code.size(),
                   p.code.size() * 8, i.tensors.size(), i.ops.size());
  for (size_t t = 0; t < i.tensors.size(); ++t) {
    const auto& x = i.tensors[t];
    s += fmt::format("; tensor {:>3} {:<28} {}x{}x{}x{} @ {} bits/elem, DRAM bit {}", t, x.name,
                     x.batch, x.c, x.h, x.w, x.bits, x.dram_bit);
    if (x.view_of >= 0) {
      s += fmt::format(", view of tensor {} (channels {} + {} c)", x.view_of, x.view_offset,
                       x.view_stride);
    }
    s += "\n";
  }
  int depth = 0;
  for (const auto& in : p.code) {
    if (in.opcode == Opcode::kEndLoop || in.opcode == Opcode::kEndLayer)
      depth = std::max(0, depth - 1);
    if (in.opcode == Opcode::kLayer) {
      const uint64_t op = in.field("op");
      if (op < i.ops.size()) {
        s += fmt::format("{:{}}; op {} {} ({}), {}\n", "", depth * 2, op, i.ops[op].name,
                         i.ops[op].kind, i.ops[op].mapping);
      }
    }
    s += fmt::format("{:{}}{}\n", "", depth * 2, disassemble(in));
    if (in.opcode == Opcode::kLoop || in.opcode == Opcode::kLayer) ++depth;
  }
  return s;
}

}  // namespace palsim::isa
