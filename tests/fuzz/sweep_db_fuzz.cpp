// Fuzz target: the sweep database reader (cli/sweep_db) and the exports of
// `palsim results` (cli/sweep_export). The input is the SQLite file; palsim
// parses the JSON it stored in each row itself.
#include <filesystem>

#include "cli/sweep_db.h"
#include "cli/sweep_export.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace palsim::fuzz;
  namespace fs = std::filesystem;
  const std::string path = write_scratch("db/fuzz.db", data, size);
  std::error_code ec;
  fs::remove(path + "-wal", ec);
  fs::remove(path + "-shm", ec);
  expect_clean_rejection(path, [&] {
    palsim::cli::ResultDb db(path, palsim::cli::DbAccess::kReadOnly);
    const std::vector<palsim::cli::PointRecord> records = db.all();
    palsim::cli::records_json(records).dump();
    palsim::cli::records_csv(records);
    palsim::cli::records_markdown(records);
  });
  return 0;
}
