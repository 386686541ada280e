#include "cli/sweep_db.h"

#include <fmt/format.h>

#include "frontend/util/error.h"

namespace palsim::cli {

namespace {
constexpr const char* kSchema = "palsim-sweep-db-1";
}

ResultDb::ResultDb(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "cannot open";
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(fmt::format("{}: cannot open the sweep database: {}", path, why));
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)");
    exec("CREATE TABLE IF NOT EXISTS points(key TEXT PRIMARY KEY, seq INTEGER, params TEXT NOT NULL, status TEXT "
         "NOT NULL, error TEXT, cycles INTEGER, energy_pj REAL, result TEXT, seconds REAL)");
  } catch (const InputError&) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(fmt::format("{}: not a palsim sweep database (or not writable)", path));
  }
  // The schema and simulator version are fixed by the first writer.
  auto meta = [&](const char* name) -> std::optional<std::string> {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE name = ?", -1, &st, nullptr);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    std::optional<std::string> v;
    if (sqlite3_step(st) == SQLITE_ROW) v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
  };
  const auto schema = meta("schema");
  const auto version = meta("simulator_version");
  if (!schema) {
    exec(fmt::format("INSERT INTO meta VALUES('schema', '{}'), ('simulator_version', '{}')", kSchema,
                     PALSIM_SIM_VERSION));
  } else {
    if (*schema != kSchema) {
      throw InputError(fmt::format("{}: database schema '{}' (this palsim writes '{}')", path, *schema, kSchema));
    }
    if (!version || *version != PALSIM_SIM_VERSION) {
      throw InputError(fmt::format("{}: written by simulator version {} (this is {}); its results are not comparable "
                                   "— use another --db",
                                   path, version ? *version : "?", PALSIM_SIM_VERSION));
    }
  }
}

ResultDb::~ResultDb() {
  if (db_) sqlite3_close(db_);
}

void ResultDb::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : "?";
    sqlite3_free(err);
    throw InputError(fmt::format("{}: {}", path_, why));
  }
}

bool ResultDb::has_done(const std::string& key) {
  auto r = find(key);
  return r && r->status == "done";
}

namespace {
PointRecord read_row(sqlite3_stmt* st) {
  auto text = [&](int i) {
    const unsigned char* t = sqlite3_column_text(st, i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  PointRecord r;
  r.key = text(0);
  r.params = nlohmann::json::parse(text(1));
  r.status = text(2);
  r.error = text(3);
  r.cycles = static_cast<uint64_t>(sqlite3_column_int64(st, 4));
  r.energy_pj = sqlite3_column_double(st, 5);
  const std::string res = text(6);
  r.result = res.empty() ? nlohmann::json::object() : nlohmann::json::parse(res);
  r.seconds = sqlite3_column_double(st, 7);
  return r;
}
}  // namespace

std::optional<PointRecord> ResultDb::find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_,
                     "SELECT key, params, status, error, cycles, energy_pj, result, seconds FROM points WHERE key = ?",
                     -1, &st, nullptr);
  sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  std::optional<PointRecord> r;
  if (sqlite3_step(st) == SQLITE_ROW) r = read_row(st);
  sqlite3_finalize(st);
  return r;
}

void ResultDb::put(const PointRecord& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_,
                     "INSERT OR REPLACE INTO points(key, seq, params, status, error, cycles, energy_pj, result, "
                     "seconds) VALUES(?, COALESCE((SELECT seq FROM points WHERE key = ?), (SELECT COALESCE(MAX(seq), "
                     "0) + 1 FROM points)), ?, ?, ?, ?, ?, ?, ?)",
                     -1, &st, nullptr);
  const std::string params = r.params.dump(), result = r.result.dump();
  sqlite3_bind_text(st, 1, r.key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, r.key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, params.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, r.status.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, r.error.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 6, static_cast<sqlite3_int64>(r.cycles));
  sqlite3_bind_double(st, 7, r.energy_pj);
  sqlite3_bind_text(st, 8, result.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 9, r.seconds);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw InputError(fmt::format("{}: cannot record a result: {}", path_, sqlite3_errmsg(db_)));
}

std::vector<PointRecord> ResultDb::all() {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "SELECT key, params, status, error, cycles, energy_pj, result, seconds FROM points ORDER BY seq",
                     -1, &st, nullptr);
  std::vector<PointRecord> out;
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(read_row(st));
  sqlite3_finalize(st);
  return out;
}

}  // namespace palsim::cli
