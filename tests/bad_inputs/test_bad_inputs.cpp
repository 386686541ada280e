// The catalogue of bad inputs (tests/bad_inputs/cases.yaml): every case runs
// the real palsim executable on a small file or command line and asserts that
// it fails cleanly: the expected non-zero exit code, a message naming the
// file, line and field (or the option), no result file left behind (no file
// appears in the case's directory, none that existed changes) and no
// sanitizer report.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "frontend/isa/isa.h"
#include "frontend/isa/program.h"
#include "tests/hardening_util/run_palsim.h"

namespace {

namespace fs = std::filesystem;
using palsim_test::RunResult;

const std::string kCases = std::string(PALSIM_SOURCE_DIR) + "/tests/bad_inputs/cases.yaml";

struct Case {
  std::string name;
  YAML::Node node;
};

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  const YAML::Node root = YAML::LoadFile(kCases);
  for (const auto& c : root) cases.push_back(Case{c["name"].as<std::string>(), c});
  return cases;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> c = load_cases();
  return c;
}

// The directory a case may not write into: a 0555 directory, or for root
// (who ignores permission bits) /proc/sys, which the kernel keeps read-only.
std::string readonly_dir(const std::string& scratch) {
  if (::geteuid() != 0) {
    const std::string d = scratch + "/readonly";
    fs::create_directories(d);
    ::chmod(d.c_str(), 0555);
    return d;
  }
  return "/proc/sys";
}

std::string substitute(std::string s, const std::map<std::string, std::string>& vars) {
  for (const auto& [k, v] : vars) {
    for (size_t at; (at = s.find(k)) != std::string::npos;) s.replace(at, k.size(), v);
  }
  return s;
}

// "{xNN}" -> the byte 0xNN: bytes the catalogue (itself YAML, so UTF-8)
// cannot hold, such as invalid UTF-8 in a file or an argument.
std::string raw_bytes(std::string s) {
  for (size_t at;
       (at = s.find("{x")) != std::string::npos && at + 5 <= s.size() && s[at + 4] == '}';) {
    s.replace(at, 5, 1, static_cast<char>(std::stoi(s.substr(at + 2, 2), nullptr, 16)));
  }
  return s;
}

// Rewrites a program file written by a setup command, keeping it well-formed
// (a valid checksum): the cases of crafted programs. `edits`:
//   replace      {PREFIX: ASM}: the first instruction whose listing starts
//                with PREFIX becomes ASM;  replace_all: the same, every one
//   batch        the metadata's batch;  ops: [] drops the operation table
//   tensor_channels  the channel count of tensor 0
void edit_program(const std::string& path, const YAML::Node& edits) {
  const std::string text = palsim_test::read_text(path);
  palsim::isa::Program p =
      palsim::isa::deserialize(std::vector<uint8_t>(text.begin(), text.end()), path);
  for (const char* key : {"replace", "replace_all"}) {
    if (!edits[key]) continue;
    for (auto it = edits[key].begin(); it != edits[key].end(); ++it) {
      const std::string prefix = it->first.as<std::string>();
      bool found = false;
      for (auto& in : p.code) {
        if (palsim::isa::disassemble(in).rfind(prefix, 0) != 0) continue;
        in = palsim::isa::assemble(it->second.as<std::string>());
        found = true;
        if (std::string(key) == "replace") break;
      }
      ASSERT_TRUE(found) << "no instruction starts with '" << prefix << "'";
    }
  }
  if (edits["batch"]) p.info.batch = edits["batch"].as<int>();
  if (edits["ops"]) p.info.ops.clear();
  if (edits["tensor_channels"]) p.info.tensors.at(0).c = edits["tensor_channels"].as<int>();
  const std::vector<uint8_t> b = palsim::isa::serialize(p);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A Unix socket file at `path` (bound, then the socket closed: the file stays).
void make_socket_file(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
}

// Every regular file under `dir` with its contents.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file())
      files[fs::relative(e.path(), dir).string()] = palsim_test::read_text(e.path());
  }
  return files;
}

class BadInput : public ::testing::TestWithParam<size_t> {};

TEST_P(BadInput, FailsCleanly) {
  const Case& c = cases()[GetParam()];
  const YAML::Node& n = c.node;
  if (n["requires"] && n["requires"].as<std::string>() == "train") {
#ifndef PALSIM_WITH_TORCH
    GTEST_SKIP() << "palsim is built without the training module";
#endif
  }
  std::string tmpl = (fs::temp_directory_path() / "palsim-bad-XXXXXX").string();
  const std::string base = ::mkdtemp(tmpl.data());
  const std::string dir = base + "/case", capture = base + "/capture";
  fs::create_directories(dir);
  fs::create_directories(capture);
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ec;
      fs::permissions(path + "/case/readonly", fs::perms::owner_all, ec);
      fs::remove_all(path, ec);
    }
  } cleanup{base};

  std::map<std::string, std::string> vars = {{"{tmp}", dir}, {"{src}", PALSIM_SOURCE_DIR}};
  if (::geteuid() == 0 && ::access("/proc/sys", W_OK) == 0) {
    if (n["readonly"]) GTEST_SKIP() << "no read-only directory for root on this machine";
  }
  vars["{readonly}"] = n["readonly"] ? readonly_dir(dir) : "";

  // Set up the case's files.
  if (n["files"]) {
    for (auto it = n["files"].begin(); it != n["files"].end(); ++it) {
      const fs::path p = fs::path(dir) / it->first.as<std::string>();
      fs::create_directories(p.parent_path());
      std::ofstream(p, std::ios::binary)
          << raw_bytes(substitute(it->second.as<std::string>(), vars));
    }
  }
  if (n["fifos"]) {
    for (const auto& f : n["fifos"]) {
      const fs::path p = fs::path(dir) / f.as<std::string>();
      fs::create_directories(p.parent_path());
      ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0);
    }
  }
  if (n["sockets"]) {
    for (const auto& f : n["sockets"])
      make_socket_file((fs::path(dir) / f.as<std::string>()).string());
  }
  if (n["symlinks"]) {
    for (auto it = n["symlinks"].begin(); it != n["symlinks"].end(); ++it) {
      fs::create_symlink(substitute(it->second.as<std::string>(), vars),
                         fs::path(dir) / it->first.as<std::string>());
    }
  }
  if (n["copy"]) {
    for (auto it = n["copy"].begin(); it != n["copy"].end(); ++it) {
      const fs::path p = fs::path(dir) / it->first.as<std::string>();
      fs::create_directories(p.parent_path());
      fs::copy_file(fs::path(PALSIM_SOURCE_DIR) / it->second.as<std::string>(), p);
    }
  }
  if (n["dirs"]) {
    for (const auto& d : n["dirs"]) fs::create_directories(fs::path(dir) / d.as<std::string>());
  }
  if (n["setup"]) {
    for (const auto& cmd : n["setup"]) {
      std::vector<std::string> args;
      for (const auto& a : cmd) args.push_back(substitute(a.as<std::string>(), vars));
      const RunResult r = palsim_test::run_palsim(args, dir, capture);
      ASSERT_EQ(r.exit_code, 0) << "setup command failed: " << r.err;
    }
  }
  // truncate cuts a file to N bytes; sparse extends one (zero bytes, no disk).
  for (const char* key : {"truncate", "sparse"}) {
    if (!n[key]) continue;
    for (auto it = n[key].begin(); it != n[key].end(); ++it) {
      fs::resize_file(fs::path(dir) / it->first.as<std::string>(), it->second.as<uintmax_t>());
    }
  }
  if (n["flip_byte"]) {
    for (auto it = n["flip_byte"].begin(); it != n["flip_byte"].end(); ++it) {
      const fs::path p = fs::path(dir) / it->first.as<std::string>();
      std::string bytes = palsim_test::read_text(p.string());
      const long at = it->second.as<long>();
      const size_t i = at < 0 ? bytes.size() - static_cast<size_t>(-at) : static_cast<size_t>(at);
      ASSERT_LT(i, bytes.size());
      bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
      std::ofstream(p, std::ios::binary) << bytes;
    }
  }
  if (n["edit_program"]) {
    for (auto it = n["edit_program"].begin(); it != n["edit_program"].end(); ++it) {
      edit_program((fs::path(dir) / it->first.as<std::string>()).string(), it->second);
    }
  }
  if (n["sqlite"]) {
    for (auto it = n["sqlite"].begin(); it != n["sqlite"].end(); ++it) {
      const std::string p = (fs::path(dir) / it->first.as<std::string>()).string();
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
      char* err = nullptr;
      const int rc = sqlite3_exec(db, it->second.as<std::string>().c_str(), nullptr, nullptr, &err);
      const std::string why = err ? err : "";
      sqlite3_free(err);
      sqlite3_close(db);
      ASSERT_EQ(rc, SQLITE_OK) << why;
    }
  }

  const std::map<std::string, std::string> before = snapshot(dir);
  std::vector<std::string> args;
  for (const auto& a : n["args"]) args.push_back(raw_bytes(substitute(a.as<std::string>(), vars)));
  palsim_test::StdoutTo out = palsim_test::StdoutTo::kCapture;
  if (n["stdout"]) {
    const std::string to = n["stdout"].as<std::string>();
    ASSERT_TRUE(to == "full" || to == "closed_pipe") << "stdout: full or closed_pipe";
    out = to == "full" ? palsim_test::StdoutTo::kDevFull : palsim_test::StdoutTo::kClosedPipe;
  }
  const RunResult r = palsim_test::run_palsim(args, dir, capture, 120, out);

  std::string cmdline = "palsim";
  for (const auto& a : args) cmdline += " " + a;
  SCOPED_TRACE(cmdline + "\nstderr: " + r.err);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.signal, 0) << "killed by a signal";
  EXPECT_EQ(r.exit_code, n["exit"] ? n["exit"].as<int>() : 1);
  for (const auto& part : n["stderr"]) {
    const std::string want = substitute(part.as<std::string>(), vars);
    EXPECT_NE(r.err.find(want), std::string::npos) << "stderr lacks '" << want << "'";
  }
  EXPECT_EQ(r.err.find("internal error"), std::string::npos)
      << "bad input must not be an internal error";
  EXPECT_FALSE(palsim_test::has_sanitizer_report(r.err));
  // Nothing written: no file appeared, none changed.
  const std::map<std::string, std::string> after = snapshot(dir);
  for (const auto& [f, content] : after) {
    auto it = before.find(f);
    if (it == before.end()) {
      ADD_FAILURE() << "left behind a new file: " << f;
    } else if (it->second != content) {
      ADD_FAILURE() << "changed an existing file: " << f;
    }
  }
  for (const auto& [f, content] : before) {
    if (!after.count(f)) ADD_FAILURE() << "removed an existing file: " << f;
  }
}

INSTANTIATE_TEST_SUITE_P(Catalogue, BadInput, ::testing::Range<size_t>(0, cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return cases()[info.param].name;
                         });

}  // namespace
