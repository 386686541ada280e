#pragma once
// The fields of a network request (a built-in network and the form it is
// built in), in one table: each field's YAML key, command-line option, range
// and what it applies to. The command line (cli/options.cpp), sweep files
// (cli/sweep_spec.cpp), training configurations (training/config.cpp) and the
// library's own checks (MethodOptions::validate) read their ranges here, so a
// range is written once and every reader refuses the same values.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/yaml_reader.h"

namespace palsim::frontend {

enum class RequestField {
  kABits,
  kWBits,
  kSliceBits,
  kB,
  kG,
  kInputSize,
  kInputChannels,
  kClasses,
  kBaseWidth,
  kBlocks,  // the range of one stage's block (or unit) count
  kCyclicGroups,
};

struct RequestFieldInfo {
  RequestField id;
  const char* key;   // YAML key (sweep entries, training configuration)
  const char* flag;  // command-line option, without "--"
  int64_t min, max;  // inclusive
};

const std::vector<RequestFieldInfo>& request_fields();
const RequestFieldInfo& field_info(RequestField f);
// "2..8", for help texts and documentation.
std::string range_text(RequestField f);

// A request value the library refuses, naming the field rather than the way
// it was given: each reader reports it in its own terms (the option on a
// command line; the file, line and key in a YAML file). what() names the
// option, for callers that only have a command line.
class RequestFieldError : public InputError {
 public:
  RequestFieldError(RequestField field, const std::string& problem);
  RequestField field() const { return field_; }
  const std::string& problem() const { return problem_; }  // without the field's name

 private:
  RequestField field_;
  std::string problem_;
};

// Throws RequestFieldError when `value` is outside the field's range.
void check_range(RequestField f, int64_t value);

// Reads the field's key from a YAML map within the field's range (a missing
// key is the map's error, or keeps `out` in an overlay).
void read_field(YamlMap& m, RequestField f, int& out);
void read_field_optional(YamlMap& m, RequestField f, int& out);
void read_field_optional(YamlMap& m, RequestField f, std::optional<int>& out);
void read_field(YamlMap& m, RequestField f, std::vector<int>& out);  // a list: each element

}  // namespace palsim::frontend
