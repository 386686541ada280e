// Issue 17, class 10: the array file (checkpoints and integer models) carries
// FNV-1a 64 as its README and header document it, from format version 2;
// version 1 files (hashed from a basis missing a digit) are still read. The
// checksum here is written from the definition, not from palsim's code.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "common/error.h"
#include "common/input_file.h"
#include "training/array_file.h"
#include "training/model_file.h"

namespace {

using palsim::training::ArrayFile;

uint64_t fnv1a64(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t trailing_u64(const std::string& bytes) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data() + bytes.size() - 8, 8);
  return v;
}

uint32_t version_of(const std::string& bytes) {
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + 8, 4);
  return v;
}

TEST(ArrayFileFormat, NewFilesAreVersion2WithStandardFnv1a64) {
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);  // the published test vector
  ArrayFile f;
  f.put_int64("n", 7);
  f.put_text("t", "text");
  const std::string bytes = f.serialize();
  EXPECT_EQ(version_of(bytes), 2u);
  EXPECT_EQ(trailing_u64(bytes), fnv1a64(bytes.substr(0, bytes.size() - 8)));
  EXPECT_EQ(ArrayFile::parse(bytes, "new.bin").get_int64("n"), 7);
}

TEST(ArrayFileFormat, Version1FilesStillReadTheSameModel) {
  const std::string dir = std::string(PALSIM_SOURCE_DIR) + "/tests/bad_inputs/files/";
  const std::string v1 = palsim::read_file(dir + "model_v1.pim");
  ASSERT_EQ(version_of(v1), 1u);
  EXPECT_NE(trailing_u64(v1), fnv1a64(v1.substr(0, v1.size() - 8)));
  // The same entries re-written as version 2 (craft_models.py).
  const auto old_model = palsim::training::parse_integer_model(v1, "v1.pim");
  const auto new_model =
      palsim::training::parse_integer_model(palsim::read_file(dir + "model_fnv_v2.pim"), "v2.pim");
  EXPECT_EQ(old_model.source, new_model.source);
  EXPECT_EQ(
      ArrayFile::parse(v1, "v1.pim").arrays().size(),
      ArrayFile::parse(palsim::read_file(dir + "model_fnv_v2.pim"), "v2.pim").arrays().size());
}

TEST(ArrayFileFormat, DuplicateAndNonTextEntryNamesAreRefused) {
  const std::string dir = std::string(PALSIM_SOURCE_DIR) + "/tests/bad_inputs/files/";
  try {
    ArrayFile::parse(palsim::read_file(dir + "model_duplicate_entry.pim"), "dup.pim");
    ADD_FAILURE() << "a duplicate entry was accepted";
  } catch (const palsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'op/fc/scale' appears more than once"), std::string::npos)
        << e.what();
  }
  ArrayFile f;
  f.put_int64("bad\xff", 1);
  EXPECT_THROW(ArrayFile::parse(f.serialize(), "name.bin"), palsim::InputError);
  ArrayFile t;
  t.put_text("meta/source", "a\xc3");
  EXPECT_THROW(ArrayFile::parse(t.serialize(), "text.bin").get_text("meta/source"),
               palsim::InputError);
}

}  // namespace
