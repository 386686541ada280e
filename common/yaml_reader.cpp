#include "common/yaml_reader.h"

#include <fmt/format.h>

#include <cmath>

#include "common/input_file.h"
#include "common/text_check.h"

namespace palsim {

SourceLocation location_of(const YAML::Node& node, const std::string& file) {
  SourceLocation loc;
  loc.file = file;
  const YAML::Mark mark = node.Mark();
  if (mark.line >= 0) {
    loc.line = mark.line + 1;
    loc.column = mark.column + 1;
  }
  return loc;
}

SourceLocation Provenance::find(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = where_.find(p);
    if (it != where_.end()) return it->second;
    const size_t dot = p.find_last_of(".[");
    if (dot == std::string::npos || p.empty()) break;
    p = p.substr(0, dot);
  }
  auto it = where_.find("");
  if (it != where_.end()) return it->second;
  return SourceLocation{fallback_file_, 0, 0};
}

FileError Provenance::error(const std::string& path, const std::string& message) const {
  const SourceLocation loc = find(path);
  return FileError(loc.file, loc.line, loc.column, path, message);
}

void Provenance::fail(const std::string& path, const std::string& message) const {
  throw error(path, message);
}

namespace {

// Every key and scalar of a document is checked once, at load time, so that
// no reader (and no later JSON dump) meets invalid UTF-8 or a NUL byte.
// Aliases share nodes: a crafted document can expand exponentially, so the
// walk is bounded, far above any real file (a network of 10,000 layers has
// about 150,000 nodes).
constexpr uint64_t kMaxYamlNodes = uint64_t{4} << 20;

class TextWalk {
 public:
  explicit TextWalk(const std::string& file) : file_(file) {}

  // One step of the YAML path of a node: a key or a list index. Paths are
  // only rendered for a message, so the walk allocates nothing per node.
  struct Step {
    const Step* parent;
    const std::string* key;  // nullptr: a list index
    size_t index;
  };

  void walk(const YAML::Node& n, const Step* path, int depth) {
    if (++visited_ > kMaxYamlNodes || depth > 256) {
      fail(n, path,
           depth > 256
               ? std::string("nested more than 256 levels deep")
               : fmt::format("the document expands to more than {} nodes (aliases of aliases?)",
                             kMaxYamlNodes));
    }
    if (n.IsScalar()) {
      check(n, n.Scalar(), path, "value");
    } else if (n.IsSequence()) {
      size_t i = 0;
      for (const auto& item : n) {
        const Step step{path, nullptr, i++};
        walk(item, &step, depth + 1);
      }
    } else if (n.IsMap()) {
      static const std::string kComplexKey = "?";
      for (auto it = n.begin(); it != n.end(); ++it) {
        const Step step{path, it->first.IsScalar() ? &it->first.Scalar() : &kComplexKey, 0};
        if (it->first.IsScalar())
          check(it->first, it->first.Scalar(), &step, "key");
        else
          walk(it->first, &step, depth + 1);
        walk(it->second, &step, depth + 1);
      }
    }
  }

 private:
  static std::string render(const Step* s) {
    if (!s) return "";
    std::string parent = render(s->parent);
    if (!s->key) return fmt::format("{}[{}]", parent, s->index);
    return parent.empty() ? printable(*s->key) : parent + "." + printable(*s->key);
  }

  [[noreturn]] void fail(const YAML::Node& n, const Step* path, const std::string& message) const {
    const SourceLocation loc = location_of(n, file_);
    const std::string p = render(path);
    throw FileError(loc.file, loc.line, loc.column, p.empty() ? "(document)" : p, message);
  }

  void check(const YAML::Node& n, const std::string& text, const Step* path,
             const char* what) const {
    const std::string problem = text_problem(text);
    if (!problem.empty())
      fail(n, path, fmt::format("the {} '{}' {}", what, printable(text), problem));
  }

  const std::string& file_;
  uint64_t visited_ = 0;
};

}  // namespace

YAML::Node parse_yaml_text(const std::string& text, const std::string& name) {
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw FileError(name, e.mark.line + 1, e.mark.column + 1, "",
                    fmt::format("malformed YAML: {}", e.msg));
  }
  if (!node || node.IsNull()) throw FileError(name, 0, 0, "", "the file is empty");
  check_yaml_text(node, name);
  return node;
}

void check_yaml_text(const YAML::Node& node, const std::string& name) {
  TextWalk(name).walk(node, nullptr, 0);
}

YAML::Node load_yaml_file(const std::string& path) {
  return parse_yaml_text(read_text_file(path), path);
}

YamlMap::YamlMap(const YAML::Node& node, std::string file, std::string path, bool overlay,
                 Provenance* provenance)
    : node_(node),
      file_(std::move(file)),
      path_(std::move(path)),
      overlay_(overlay),
      provenance_(provenance) {
  if (!node_.IsMap()) {
    const SourceLocation loc = palsim::location_of(node_, file_);
    throw FileError(loc.file, loc.line, loc.column, path_.empty() ? "(document)" : path_,
                    "expected a mapping of keys to values");
  }
  // yaml-cpp keeps both entries of a repeated key; the reader would silently
  // use the first, so a repeated key is an error at its second occurrence.
  std::set<std::string> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    if (!seen.insert(it->first.Scalar()).second) {
      const SourceLocation loc = palsim::location_of(it->first, file_);
      throw FileError(loc.file, loc.line, loc.column, path_of(it->first.Scalar()),
                      "key given more than once");
    }
  }
  if (provenance_) provenance_->set(path_, palsim::location_of(node_, file_));
}

std::string YamlMap::path_of(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

SourceLocation YamlMap::location() const {
  return palsim::location_of(node_, file_);
}

SourceLocation YamlMap::location_of(const std::string& key) const {
  const std::optional<YAML::Node> n = find(key);
  return n ? palsim::location_of(*n, file_) : location();
}

std::optional<YAML::Node> YamlMap::find(const std::string& key) const {
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return std::nullopt;
}

bool YamlMap::has(const std::string& key) const {
  return find(key).has_value();
}

void YamlMap::fail(const std::string& key, const std::string& message) const {
  const SourceLocation loc = location_of(key);
  throw FileError(loc.file, loc.line, loc.column, path_of(key), message);
}

void YamlMap::fail_here(const std::string& message) const {
  const SourceLocation loc = location();
  throw FileError(loc.file, loc.line, loc.column, path_.empty() ? "(document)" : path_, message);
}

YAML::Node YamlMap::require(const std::string& key) {
  known_.insert(key);
  const std::optional<YAML::Node> n = find(key);
  // Named by its full path, located at the map that lacks it.
  if (!n) fail(key, fmt::format("missing required key '{}'", key));
  record(key, *n);
  return *n;
}

void YamlMap::record(const std::string& key, const YAML::Node& node) {
  if (provenance_) provenance_->set(path_of(key), palsim::location_of(node, file_));
}

namespace {
bool parse_integer(const YAML::Node& n, int64_t& out) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  if (s.empty()) return false;
  size_t pos = 0;
  try {
    out = std::stoll(s, &pos, 10);
  } catch (...) {
    return false;
  }
  return pos == s.size();
}
bool parse_double(const YAML::Node& n, double& out) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  if (s.empty()) return false;
  size_t pos = 0;
  try {
    out = std::stod(s, &pos);
  } catch (...) {
    return false;
  }
  return pos == s.size() && std::isfinite(out);
}
}  // namespace

void YamlMap::read(const std::string& key, int64_t& out, int64_t min, int64_t max) {
  if (overlay_ && !has(key)) {
    known_.insert(key);
    return;
  }
  const YAML::Node n = require(key);
  int64_t v = 0;
  if (!parse_integer(n, v))
    fail(key,
         fmt::format("expected an integer, got '{}'", n.IsScalar() ? n.Scalar() : "a non-scalar"));
  if (v < min || v > max) {
    if (max == std::numeric_limits<int64_t>::max())
      fail(key, fmt::format("must be at least {}, got {}", min, v));
    fail(key, fmt::format("must be between {} and {}, got {}", min, max, v));
  }
  out = v;
}

void YamlMap::read(const std::string& key, int& out, int min, int max) {
  int64_t v = out;
  read(key, v, min, max);
  out = static_cast<int>(v);
}

void YamlMap::read(const std::string& key, double& out, double min, double max) {
  if (overlay_ && !has(key)) {
    known_.insert(key);
    return;
  }
  const YAML::Node n = require(key);
  double v = 0;
  if (!parse_double(n, v))
    fail(key,
         fmt::format("expected a number, got '{}'", n.IsScalar() ? n.Scalar() : "a non-scalar"));
  if (v < min || v > max) {
    if (std::isinf(max)) fail(key, fmt::format("must be at least {}, got {}", min, v));
    fail(key, fmt::format("must be between {} and {}, got {}", min, max, v));
  }
  out = v;
}

void YamlMap::read(const std::string& key, bool& out) {
  if (overlay_ && !has(key)) {
    known_.insert(key);
    return;
  }
  const YAML::Node n = require(key);
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  if (s == "true")
    out = true;
  else if (s == "false")
    out = false;
  else
    fail(key, fmt::format("expected true or false, got '{}'", n.IsScalar() ? s : "a non-scalar"));
}

void YamlMap::read(const std::string& key, std::string& out) {
  if (overlay_ && !has(key)) {
    known_.insert(key);
    return;
  }
  const YAML::Node n = require(key);
  if (!n.IsScalar()) fail(key, "expected a string");
  out = n.Scalar();
}

void YamlMap::read_choice(const std::string& key, std::string& out,
                          const std::vector<std::string>& choices) {
  std::string v = out;
  read(key, v);
  if (overlay_ && !has(key)) return;
  for (const auto& c : choices) {
    if (c == v) {
      out = v;
      return;
    }
  }
  fail(key, fmt::format("'{}' is not one of: {}", v, fmt::join(choices, ", ")));
}

void YamlMap::read(const std::string& key, std::vector<int>& out, int min, int max) {
  if (overlay_ && !has(key)) {
    known_.insert(key);
    return;
  }
  const YAML::Node n = require(key);
  if (!n.IsSequence()) fail(key, "expected a list of integers");
  std::vector<int> values;
  for (const auto& item : n) {
    int64_t v = 0;
    if (!parse_integer(item, v)) {
      const SourceLocation loc = palsim::location_of(item, file_);
      throw FileError(loc.file, loc.line, loc.column, path_of(key),
                      fmt::format("expected an integer, got '{}'",
                                  item.IsScalar() ? item.Scalar() : "a non-scalar"));
    }
    if (v < min || v > max) {
      const SourceLocation loc = palsim::location_of(item, file_);
      throw FileError(loc.file, loc.line, loc.column, path_of(key),
                      fmt::format("each value must be between {} and {}, got {}", min, max, v));
    }
    values.push_back(static_cast<int>(v));
  }
  out = std::move(values);
}

void YamlMap::read(const std::string& key, std::vector<std::string>& out) {
  if (overlay_ && !has(key)) {
    known_.insert(key);
    return;
  }
  const YAML::Node n = require(key);
  if (!n.IsSequence()) fail(key, "expected a list of strings");
  std::vector<std::string> values;
  for (const auto& item : n) {
    if (!item.IsScalar()) {
      const SourceLocation loc = palsim::location_of(item, file_);
      throw FileError(loc.file, loc.line, loc.column, path_of(key), "expected a string");
    }
    values.push_back(item.Scalar());
  }
  out = std::move(values);
}

YamlMap YamlMap::child(const std::string& key) {
  if (overlay_ && !has(key)) {
    known_.insert(key);
    // An empty overlay keeps every base value.
    YAML::Node empty(YAML::NodeType::Map);
    return YamlMap(empty, file_, path_of(key), true, nullptr);
  }
  const YAML::Node n = require(key);
  return YamlMap(n, file_, path_of(key), overlay_, provenance_);
}

std::optional<YamlMap> YamlMap::optional_child(const std::string& key) {
  known_.insert(key);
  if (!has(key)) return std::nullopt;
  return child(key);
}

std::vector<YamlMap> YamlMap::list_of_maps(const std::string& key) {
  const YAML::Node n = require(key);
  if (!n.IsSequence()) fail(key, "expected a list");
  std::vector<YamlMap> out;
  size_t i = 0;
  for (const auto& item : n) {
    out.emplace_back(item, file_, fmt::format("{}[{}]", path_of(key), i++), overlay_, provenance_);
  }
  return out;
}

YAML::Node YamlMap::raw(const std::string& key) {
  return require(key);
}

void YamlMap::finish() const {
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (!known_.count(key)) {
      const SourceLocation loc = palsim::location_of(it->first, file_);
      std::vector<std::string> allowed(known_.begin(), known_.end());
      throw FileError(loc.file, loc.line, loc.column, path_of(key),
                      fmt::format("unknown key (allowed here: {})", fmt::join(allowed, ", ")));
    }
  }
}

}  // namespace palsim
