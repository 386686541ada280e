#pragma once
// Typed, schema-checked reading of YAML files.
//
// Every section of every palsim YAML file is read through a YamlMap: each key
// is read into a typed field with its allowed range; a key the schema does not
// know, a wrong type, a missing required key or a value out of range is a
// FileError naming the file, the line and the key's YAML path.
//
// Overlay mode supports derived files (`base: other.yaml` plus overrides): in
// an overlay every key is optional and a missing key keeps the value the base
// file gave. The location of the file and line that last set each key is kept
// in a Provenance, so checks made after loading still point at the right line.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"

namespace palsim {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
};

// Where each YAML path ("array.rows") was last set.
class Provenance {
 public:
  void set(const std::string& path, SourceLocation loc) { where_[path] = std::move(loc); }
  // The location of `path`, or of its nearest recorded ancestor, or `fallback`.
  SourceLocation find(const std::string& path) const;
  [[noreturn]] void fail(const std::string& path, const std::string& message) const;
  // The error fail() throws, for a validation that collects every problem.
  FileError error(const std::string& path, const std::string& message) const;
  void set_fallback_file(const std::string& file) { fallback_file_ = file; }

 private:
  std::map<std::string, SourceLocation> where_;
  std::string fallback_file_;
};

// Parses a YAML file (a regular file of at most kMaxTextInputBytes); syntax
// errors become FileErrors with the line.
YAML::Node load_yaml_file(const std::string& path);
YAML::Node parse_yaml_text(const std::string& text, const std::string& name);
// Refuses (FileError with line and key path) any key or scalar that is not
// valid UTF-8 or holds a NUL byte. The two loaders above call it; a document
// built another way (a --set value) must too.
void check_yaml_text(const YAML::Node& node, const std::string& name);

class YamlMap {
 public:
  // `node` must be a map; `path` is its YAML path ("" for the document root).
  YamlMap(const YAML::Node& node, std::string file, std::string path, bool overlay = false,
          Provenance* provenance = nullptr);
  YamlMap(const YamlMap&) = delete;
  YamlMap& operator=(const YamlMap&) = delete;
  YamlMap(YamlMap&&) = default;
  ~YamlMap() = default;

  bool has(const std::string& key) const;
  bool overlay() const { return overlay_; }
  const std::string& file() const { return file_; }
  std::string path_of(const std::string& key) const;
  SourceLocation location() const;
  SourceLocation location_of(const std::string& key) const;

  // Required (outside overlays) scalars with a range check.
  void read(const std::string& key, int64_t& out, int64_t min = std::numeric_limits<int64_t>::min(),
            int64_t max = std::numeric_limits<int64_t>::max());
  void read(const std::string& key, int& out, int min = std::numeric_limits<int>::min(),
            int max = std::numeric_limits<int>::max());
  void read(const std::string& key, double& out,
            double min = -std::numeric_limits<double>::infinity(),
            double max = std::numeric_limits<double>::infinity());
  void read(const std::string& key, bool& out);
  void read(const std::string& key, std::string& out);
  // A string that must be one of `choices`.
  void read_choice(const std::string& key, std::string& out,
                   const std::vector<std::string>& choices);
  void read(const std::string& key, std::vector<int>& out,
            int min = std::numeric_limits<int>::min(), int max = std::numeric_limits<int>::max());
  void read(const std::string& key, std::vector<std::string>& out);

  // Optional keys: left untouched when absent (the caller's default stays).
  template <typename T, typename... Range>
  void read_optional(const std::string& key, T& out, Range... range) {
    known_.insert(key);
    if (has(key)) read(key, out, range...);
  }
  void read_choice_optional(const std::string& key, std::string& out,
                            const std::vector<std::string>& choices) {
    known_.insert(key);
    if (has(key)) read_choice(key, out, choices);
  }

  // Sub-maps and lists of maps. child() is required outside overlays;
  // optional_child() returns nothing when absent.
  YamlMap child(const std::string& key);
  std::optional<YamlMap> optional_child(const std::string& key);
  std::vector<YamlMap> list_of_maps(const std::string& key);
  // The raw node (marks the key as known); for free-form values.
  YAML::Node raw(const std::string& key);

  // Errors on every key that no read call asked for. Call after reading.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  [[noreturn]] void fail_here(const std::string& message) const;

 private:
  std::optional<YAML::Node> find(const std::string& key) const;
  YAML::Node require(const std::string& key);
  void record(const std::string& key, const YAML::Node& node);

  YAML::Node node_;
  std::string file_;
  std::string path_;
  bool overlay_;
  Provenance* provenance_;
  std::set<std::string> known_;
};

SourceLocation location_of(const YAML::Node& node, const std::string& file);

}  // namespace palsim
