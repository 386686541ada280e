// YamlMap: typed, schema-checked reading with file/line/key errors.
#include "common/yaml_reader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/input_file.h"
#include "common/text_check.h"
#include "frontend/isa/program.h"

namespace palsim {
namespace {

// Checks that `text` contains `part` (each argument evaluated once).
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}
#define EXPECT_CONTAINS(text, part) EXPECT_TRUE(Contains((text), (part)))

// Runs `f` and checks it throws a FileError at file "t.yaml", `line` and `key`.
template <typename F>
void expect_error(F&& f, int line, const std::string& key, const std::string& message) {
  try {
    f();
    ADD_FAILURE() << "no FileError for " << key;
  } catch (const FileError& e) {
    EXPECT_EQ(e.file(), "t.yaml") << e.what();
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_EQ(e.key(), key) << e.what();
    EXPECT_CONTAINS(e.what(), message);
  }
}

const char* kDoc =
    "count: 12\n"           // 1
    "ratio: 0.25\n"         // 2
    "flag: true\n"          // 3
    "label: hello\n"        // 4
    "mode: fast\n"          // 5
    "sizes: [1, 2, 3]\n"    // 6
    "names: [a, b]\n"       // 7
    "big: 1099511627776\n"  // 8
    "section:\n"            // 9
    "  inner: 7\n"          // 10
    "  deeper: {x: 1}\n"    // 11
    "items:\n"              // 12
    "  - {id: 1}\n"         // 13
    "  - {id: 2}\n";        // 14

TEST(YamlMap, ReadsEveryType) {
  YAML::Node root = parse_yaml_text(kDoc, "t.yaml");
  YamlMap m(root, "t.yaml", "");
  int count = 0;
  double ratio = 0;
  bool flag = false;
  std::string label, mode;
  std::vector<int> sizes;
  std::vector<std::string> names;
  int64_t big = 0;
  m.read("count", count, 0, 100);
  m.read("ratio", ratio, 0.0, 1.0);
  m.read("flag", flag);
  m.read("label", label);
  m.read_choice("mode", mode, {"slow", "fast"});
  m.read("sizes", sizes, 1, 3);
  m.read("names", names);
  m.read("big", big, 0, int64_t{1} << 41);
  EXPECT_EQ(count, 12);
  EXPECT_EQ(ratio, 0.25);
  EXPECT_TRUE(flag);
  EXPECT_EQ(label, "hello");
  EXPECT_EQ(mode, "fast");
  EXPECT_EQ(sizes, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(big, int64_t{1} << 40);
  YamlMap s = m.child("section");
  int inner = 0;
  s.read("inner", inner);
  EXPECT_EQ(inner, 7);
  EXPECT_EQ(s.path_of("inner"), "section.inner");
  auto deeper = s.optional_child("deeper");
  ASSERT_TRUE(deeper.has_value());
  EXPECT_FALSE(s.optional_child("absent").has_value());
  int x = 0;
  deeper->read("x", x);
  deeper->finish();
  s.finish();
  std::vector<YamlMap> items = m.list_of_maps("items");
  ASSERT_EQ(items.size(), 2u);
  int id = 0;
  items[1].read("id", id);
  EXPECT_EQ(id, 2);
  EXPECT_EQ(items[1].location().line, 14);
  EXPECT_EQ(m.location_of("mode").line, 5);
  int untouched = 42;
  m.read_optional("missing", untouched, 0, 10);
  EXPECT_EQ(untouched, 42);
  EXPECT_NO_THROW(m.finish());
}

TEST(YamlMap, UnknownKeyNamesFileLineKeyAndTheAllowedKeys) {
  YAML::Node root = parse_yaml_text("a: 1\nb: 2\nc: 3\n", "t.yaml");
  YamlMap m(root, "t.yaml", "");
  int v = 0;
  m.read("a", v);
  m.read_optional("c", v);
  expect_error([&] { m.finish(); }, 2, "b", "unknown key (allowed here: a, c)");
}

TEST(YamlMap, WrongTypes) {
  YAML::Node root = parse_yaml_text(
      "i: 1.5\nd: abc\nb: yes\ns: [x]\nl: 3\nv: [1, x]\nm: 4\nh: 0x10\nn: .nan\n", "t.yaml");
  YamlMap m(root, "t.yaml", "top");
  int i = 0;
  double d = 0;
  bool b = false;
  std::string s;
  std::vector<int> l, v;
  expect_error([&] { m.read("i", i); }, 1, "top.i", "expected an integer, got '1.5'");
  expect_error([&] { m.read("d", d); }, 2, "top.d", "expected a number, got 'abc'");
  expect_error([&] { m.read("b", b); }, 3, "top.b", "expected true or false, got 'yes'");
  expect_error([&] { m.read("s", s); }, 4, "top.s", "expected a string");
  expect_error([&] { m.read("l", l); }, 5, "top.l", "expected a list of integers");
  expect_error([&] { m.read("v", v); }, 6, "top.v", "expected an integer, got 'x'");
  expect_error([&] { m.child("m"); }, 7, "top.m", "expected a mapping");
  expect_error([&] { m.read("h", i); }, 8, "top.h", "expected an integer");
  expect_error([&] { m.read("n", d); }, 9, "top.n", "expected a number");
}

TEST(YamlMap, MissingRequiredKeyIsNamedByItsPath) {
  YAML::Node root = parse_yaml_text("x: 1\nsub:\n  y: 2\n", "t.yaml");
  YamlMap m(root, "t.yaml", "");
  int v = 0;
  expect_error([&] { m.read("z", v); }, 1, "z", "missing required key 'z'");
  YamlMap sub = m.child("sub");
  expect_error([&] { sub.read("w", v); }, 3, "sub.w", "missing required key 'w'");
  std::string s;
  expect_error([&] { sub.read("name", s); }, 3, "sub.name", "missing required key");
}

TEST(YamlMap, OutOfRange) {
  YAML::Node root = parse_yaml_text("a: 0\nb: 2.5\nc: [1, 99]\nd: -3\ne: 3\n", "t.yaml");
  YamlMap m(root, "t.yaml", "");
  int a = 0;
  double b = 0;
  std::vector<int> c;
  int64_t d = 0;
  std::string e;
  expect_error([&] { m.read("a", a, 1, 10); }, 1, "a", "must be between 1 and 10, got 0");
  expect_error([&] { m.read("b", b, 0.0, 1.0); }, 2, "b", "must be between 0 and 1, got 2.5");
  expect_error([&] { m.read("c", c, 1, 10); }, 3, "c", "between 1 and 10, got 99");
  expect_error([&] { m.read("d", d, 0); }, 4, "d", "must be at least 0, got -3");
  expect_error([&] { m.read_choice("e", e, {"1", "2"}); }, 5, "e", "'3' is not one of: 1, 2");
  EXPECT_EQ(a, 0);  // failed reads leave the value alone
}

TEST(YamlMap, IntegerLimits) {
  YAML::Node root =
      parse_yaml_text("a: 2147483648\nb: -2147483648\nc: 99999999999999999999\n", "t.yaml");
  YamlMap m(root, "t.yaml", "");
  int a = 0, b = 0;
  int64_t c = 0;
  expect_error([&] { m.read("a", a); }, 1, "a", "2147483648");  // does not fit an int
  m.read("b", b);
  EXPECT_EQ(b, -2147483647 - 1);
  expect_error([&] { m.read("c", c); }, 3, "c", "expected an integer");
}

TEST(YamlMap, DuplicateKeysAreErrors) {
  expect_error(
      [] {
        YAML::Node root = parse_yaml_text("a: 1\nb: 2\na: 3\n", "t.yaml");
        YamlMap m(root, "t.yaml", "");
      },
      3, "a", "more than once");
  expect_error(
      [] {
        YAML::Node root = parse_yaml_text("outer:\n  {k: 1, k: 2}\n", "t.yaml");
        YamlMap m(root, "t.yaml", "");
        m.child("outer");
      },
      2, "outer.k", "more than once");
}

TEST(YamlMap, MalformedAndEmptyText) {
  try {
    parse_yaml_text("a: [1, 2\nb: 3\n", "t.yaml");
    ADD_FAILURE();
  } catch (const FileError& e) {
    EXPECT_EQ(e.file(), "t.yaml");
    EXPECT_GT(e.line(), 0);
    EXPECT_CONTAINS(e.what(), "malformed YAML");
  }
  try {
    parse_yaml_text("a: 1\n\tb: 2\n", "t.yaml");
    ADD_FAILURE();
  } catch (const FileError& e) {
    EXPECT_EQ(e.line(), 2);
  }
  try {
    parse_yaml_text("# only a comment\n", "t.yaml");
    ADD_FAILURE();
  } catch (const FileError& e) {
    EXPECT_CONTAINS(e.what(), "empty");
  }
  EXPECT_THROW(load_yaml_file("/nonexistent/x.yaml"), InputError);
}

TEST(YamlMap, OverlayKeepsAbsentValuesAndRecordsProvenance) {
  Provenance prov;
  YAML::Node base = parse_yaml_text("a: 1\nb: 2\nsub: {c: 3}\n", "base.yaml");
  int a = 0, b = 0, c = 0;
  {
    YamlMap m(base, "base.yaml", "", false, &prov);
    m.read("a", a);
    m.read("b", b);
    YamlMap s = m.child("sub");
    s.read("c", c);
  }
  YAML::Node over = parse_yaml_text("# derived\nb: 20\n", "over.yaml");
  {
    YamlMap m(over, "over.yaml", "", true, &prov);
    EXPECT_TRUE(m.overlay());
    m.read("a", a);
    m.read("b", b);
    YamlMap s = m.child("sub");  // absent in the overlay: keeps the base value
    s.read("c", c);
    m.finish();
  }
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 20);
  EXPECT_EQ(c, 3);
  EXPECT_EQ(prov.find("b").file, "over.yaml");
  EXPECT_EQ(prov.find("b").line, 2);
  EXPECT_EQ(prov.find("a").file, "base.yaml");
  EXPECT_EQ(prov.find("sub.c").line, 3);
  EXPECT_EQ(prov.find("sub.nothing").file, "base.yaml");  // nearest recorded ancestor
  try {
    prov.fail("b", "too big");
    ADD_FAILURE();
  } catch (const FileError& e) {
    EXPECT_EQ(e.file(), "over.yaml");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "b");
  }
  Provenance empty;
  empty.set_fallback_file("fallback.yaml");
  EXPECT_EQ(empty.find("x.y").file, "fallback.yaml");
  EXPECT_EQ(empty.find("x.y").line, 0);
}

TEST(YamlMap, ErrorTextFormat) {
  const FileError e("f.yaml", 3, 7, "a.b", "bad");
  EXPECT_STREQ(e.what(), "f.yaml:3:7: 'a.b': bad");
  EXPECT_STREQ(FileError("f.yaml", 0, 0, "", "empty").what(), "f.yaml: empty");
  EXPECT_STREQ(FileError("f.yaml", 2, 0, "k", "m").what(), "f.yaml:2: 'k': m");
}

// Issue 17, class 3: every key and value is checked when the text is loaded,
// so no reader (and no JSON dump later) sees invalid UTF-8 or a NUL byte.
TEST(YamlText, InvalidUtf8AndNulBytesAreRefusedWithLineAndKey) {
  expect_error([] { parse_yaml_text("a: 1\nname: bad\xff\n", "t.yaml"); }, 2, "name",
               "not valid UTF-8");
  expect_error([] { parse_yaml_text("a: 1\nlist:\n  - ok\n  - \"x\\0y\"\n", "t.yaml"); }, 4,
               "list[1]", "NUL byte");
  expect_error([] { parse_yaml_text("outer:\n  \"k\xc3\x28\": 1\n", "t.yaml"); }, 2,
               "outer.k\\xc3(", "the key");
  // Surrogates and overlong forms are not UTF-8 either.
  expect_error([] { parse_yaml_text("s: \"\xed\xa0\x80\"\n", "t.yaml"); }, 1, "s",
               "not valid UTF-8");
  expect_error([] { parse_yaml_text("s: \"\xc0\xaf\"\n", "t.yaml"); }, 1, "s", "not valid UTF-8");
  // Valid multi-byte text passes.
  EXPECT_NO_THROW(
      parse_yaml_text("name: \"r\xc3\xa9seau \xe2\x86\x92 \xf0\x9f\x99\x82\"\n", "t.yaml"));
}

TEST(YamlText, AliasExpansionIsBounded) {
  // Each level doubles the nodes an unbounded walk would visit: 2^40.
  std::string doc = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 40; ++i) doc += fmt::format("a{}: &a{} [*a{}, *a{}]\n", i, i, i - 1, i - 1);
  try {
    parse_yaml_text(doc, "t.yaml");
    ADD_FAILURE() << "an exponential document was walked";
  } catch (const FileError& e) {
    EXPECT_CONTAINS(e.what(), "expands to more than");
  }
}

TEST(TextProblem, NamesTheFirstBadByte) {
  EXPECT_EQ(text_problem("plain ascii"), "");
  EXPECT_EQ(text_problem("caf\xc3\xa9"), "");
  EXPECT_CONTAINS(text_problem("ab\xff"), "byte 0xff at byte 2");
  EXPECT_CONTAINS(text_problem(std::string("a\0b", 3)), "NUL byte (at byte 1)");
  EXPECT_CONTAINS(text_problem("\xf4\x90\x80\x80"), "not valid UTF-8");  // above U+10FFFF
  EXPECT_CONTAINS(text_problem("\xe2\x82"), "not valid UTF-8");          // cut short
  EXPECT_EQ(printable(std::string("a\xff\0b", 4)), "a\\xff\\x00b");
}

// Issue 17, class 9: a NUL byte in a program's names ("\u0000" in its JSON
// metadata, which the JSON parser accepts) is refused when the file is read.
TEST(ProgramText, NulBytesInMetadataAreRefused) {
  isa::Program p;
  p.info.network = std::string("tiny\0cnn", 8);
  try {
    isa::deserialize(isa::serialize(p), "p.bin");
    ADD_FAILURE() << "a NUL byte in the network name was accepted";
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "p.bin");
    EXPECT_CONTAINS(e.what(), "NUL byte");
  }
}

// Issue 17, class 2: inputs are regular files of bounded size, and a FIFO is
// refused without blocking.
TEST(InputFile, RefusesWhatIsNotARegularFileWithoutBlocking) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "palsim-input-XXXXXX").string();
  const std::string dir = ::mkdtemp(tmpl.data());
  const std::string fifo = dir + "/in.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_CONTAINS(input_file_problem(fifo), "FIFO");
  try {
    load_yaml_file(fifo);
    ADD_FAILURE() << "a FIFO was read";
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), fifo);
    EXPECT_CONTAINS(e.what(), "FIFO (named pipe), not a regular file");
  }
  EXPECT_THROW(read_file("/dev/zero"), InputError);
  EXPECT_THROW(read_file(dir), InputError);
  EXPECT_THROW(read_file(dir + "/missing"), InputError);
  const std::string big = dir + "/big.yaml";
  std::ofstream(big) << "a: 1\n";
  std::filesystem::resize_file(big, kMaxTextInputBytes + 1);
  try {
    load_yaml_file(big);
    ADD_FAILURE() << "an oversized file was read";
  } catch (const InputError& e) {
    EXPECT_CONTAINS(e.what(), "64.0 MiB");
  }
  EXPECT_EQ(read_file(big, kMaxTextInputBytes + 1).size(), kMaxTextInputBytes + 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace palsim
