#include "cli/sweep_db.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>

#include "common/build_info.h"
#include "common/error.h"
#include "common/input_file.h"
#include "common/temp_file.h"

namespace palsim::cli {

std::string to_string(PointStatus s) {
  return s == PointStatus::kDone ? "done" : "failed";
}

bool parse(const std::string& name, PointStatus& out) {
  for (PointStatus s : {PointStatus::kDone, PointStatus::kFailed}) {
    if (name == to_string(s)) {
      out = s;
      return true;
    }
  }
  return false;
}

const std::string& existing_sweep_db(const std::string& path) {
  if (!std::filesystem::exists(path)) throw InputError(fmt::format("{}: no such database", path));
  return path;
}

namespace fs = std::filesystem;

namespace {
constexpr const char* kSchema = "palsim-sweep-db-1";
}

namespace {

// A file: URI for `path` (every byte outside the unreserved set escaped).
std::string file_uri(const std::string& path, const char* query) {
  std::string uri = "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      uri += fmt::format("%{:02X}", c);
    }
  }
  return uri + query;
}

}  // namespace

ResultDb::ResultDb(const std::string& path, DbAccess access) : path_(path) {
  if (path.empty()) throw InputError("empty database file name");
  // check_output_path lets "-" through for stream outputs; a database is none.
  if (path == "-") throw InputError("-: a sweep database is a file, not standard output");
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (access == DbAccess::kReadOnly || exists) {
    // SQLite would block on a FIFO and journal beside a device.
    const std::string problem = input_file_problem(path);
    if (!problem.empty())
      throw InputError(fmt::format("{} (expected a palsim sweep database)", problem));
  }
  if (access == DbAccess::kReadOnly && fs::file_size(path, ec) == 0) {
    throw InputError(fmt::format("{}: an empty file, not a palsim sweep database", path));
  }
  // A new database is created by its first result: a sweep or merge that
  // fails before storing anything leaves no file behind.
  if (!exists) return;
  open(access);
  check_identity(access == DbAccess::kReadOnly);
}

void ResultDb::create_if_new() {
  if (db_) return;
  std::error_code ec;
  created_ = !fs::exists(path_, ec);
  open(DbAccess::kReadWrite);
  check_identity(false);
}

void ResultDb::open(DbAccess access) {
  int flags = SQLITE_OPEN_FULLMUTEX;
  std::string name = path_;
  if (access == DbAccess::kReadWrite) {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  } else {
    flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    // Even a read-only connection creates -wal and -shm files beside a WAL
    // database and leaves them. With no -wal file no sweep is writing (the
    // last writer removes it when it closes): the file is then read as
    // immutable, without locks or side files. Otherwise the side files
    // already exist and the connection shares them with the writer.
    std::error_code ec;
    name = file_uri(path_, fs::exists(path_ + "-wal", ec) ? "?mode=ro" : "?mode=ro&immutable=1");
  }
  if (sqlite3_open_v2(name.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "cannot open";
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(fmt::format("{}: cannot open the sweep database: {}", path_, why));
  }
  sqlite3_busy_timeout(db_, 10000);
}

void ResultDb::check_identity(bool read_only) {
  // Check what the file is before changing anything in it: a database of
  // another program, schema or simulator version is refused untouched.
  auto meta = [&](const char* name) -> std::optional<std::string> {
    sqlite3_stmt* st = nullptr;
    std::optional<std::string> v;
    if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE name = ?", -1, &st, nullptr) ==
        SQLITE_OK) {
      sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char* t = sqlite3_column_text(st, 0);
        v = t ? reinterpret_cast<const char*>(t) : "";
      }
    }
    sqlite3_finalize(st);
    return v;
  };
  auto refuse = [&](const std::string& why) {
    sqlite3_close(db_);
    db_ = nullptr;
    // A database this run created and could not set up (a full disk) is
    // removed, side files included: a failed run leaves nothing behind.
    if (created_) {
      std::error_code rm;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_ + suffix, rm);
    }
    throw InputError(fmt::format("{}: {}", path_, why));
  };
  sqlite3_stmt* probe = nullptr;
  const int probe_rc =
      sqlite3_prepare_v2(db_, "SELECT count(*) FROM sqlite_master", -1, &probe, nullptr);
  const bool readable = probe_rc == SQLITE_OK && sqlite3_step(probe) == SQLITE_ROW;
  const int64_t objects = readable ? sqlite3_column_int64(probe, 0) : 0;
  sqlite3_finalize(probe);
  if (!readable) refuse("not a palsim sweep database (or not readable)");
  if (objects == 0 && read_only) refuse("not a palsim sweep database (it holds no tables)");
  if (objects > 0) {
    const auto schema = meta("schema");
    const auto version = meta("simulator_version");
    if (!schema) refuse("not a palsim sweep database (no schema record)");
    if (*schema != kSchema)
      refuse(fmt::format("database schema '{}' (this palsim writes '{}')", *schema, kSchema));
    if (!version || *version != simulator_version()) {
      refuse(fmt::format(
          "written by simulator version {} (this is {}); its results are not comparable — use "
          "another --db",
          version ? *version : "?", simulator_version()));
    }
  }
  if (read_only) return;
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)");
    exec(
        "CREATE TABLE IF NOT EXISTS points(key TEXT PRIMARY KEY, seq INTEGER, params TEXT NOT "
        "NULL, status TEXT "
        "NOT NULL, error TEXT, cycles INTEGER, energy_pj REAL, result TEXT, seconds REAL)");
    // The schema and simulator version are fixed by the first writer.
    if (objects == 0) {
      exec(fmt::format("INSERT INTO meta VALUES('schema', '{}'), ('simulator_version', '{}')",
                       kSchema, simulator_version()));
    }
  } catch (const InputError& e) {
    std::string why = e.what();  // "PATH: SQLite's reason"
    if (why.rfind(path_ + ": ", 0) == 0) why = why.substr(path_.size() + 2);
    refuse(objects == 0 ? fmt::format("cannot create the sweep database: {}", why)
                        : fmt::format("not a palsim sweep database (or not writable): {}", why));
  }
}

ResultDb::~ResultDb() {
  release_claim();
  if (db_) sqlite3_close(db_);
}

namespace {

// Another host's sweep is presumed gone after this long without storing a
// point (a detailed point can take many minutes).
constexpr int64_t kStaleClaimSeconds = 6 * 3600;

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Claim {
  std::string host;
  long pid = 0;
  int64_t heartbeat = 0;
};

// "HOST PID SECONDS"; the host is last-but-two so a name with spaces survives.
std::optional<Claim> parse_claim(const std::string& s) {
  const size_t b = s.rfind(' ');
  if (b == std::string::npos || b == 0) return std::nullopt;
  const size_t a = s.rfind(' ', b - 1);
  if (a == std::string::npos) return std::nullopt;
  try {
    return Claim{s.substr(0, a), std::stol(s.substr(a + 1, b - a - 1)),
                 std::stoll(s.substr(b + 1))};
  } catch (...) {
    return std::nullopt;
  }
}

std::string claim_text(int64_t now) {
  return fmt::format("{} {} {}", host_name(), ::getpid(), now);
}

}  // namespace

void ResultDb::claim_run() {
  std::lock_guard<std::mutex> lock(mutex_);
  create_if_new();
  // BEGIN IMMEDIATE takes the write lock: two sweeps starting together are
  // serialized here and the second sees the first one's claim.
  exec("BEGIN IMMEDIATE");
  try {
    sqlite3_stmt* st = prepare("SELECT value FROM meta WHERE name = 'running'");
    std::optional<Claim> held;
    if (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      held = parse_claim(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(st);
    const int64_t now = unix_seconds();
    if (held && !(held->host == host_name() && held->pid == ::getpid())) {
      const bool alive = held->host == host_name() ? process_exists(held->pid)
                                                   : now - held->heartbeat < kStaleClaimSeconds;
      if (alive) {
        throw InputError(
            fmt::format("{}: a sweep is already running into this database (pid {} on {}); wait "
                        "for it to finish "
                        "(then --resume), or give another --db",
                        path_, held->pid, held->host));
      }
    }
    claim_ = claim_text(now);
    exec_with("INSERT OR REPLACE INTO meta VALUES('running', ?)", {claim_});
    exec("COMMIT");
  } catch (...) {
    claim_.clear();
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void ResultDb::release_claim() {
  if (claim_.empty() || !db_) return;
  // Only our own record: a process that took over a stale claim keeps its own.
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM meta WHERE name = 'running' AND value = ?", -1, &st,
                         nullptr) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, claim_.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  claim_.clear();
}

void ResultDb::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : "?";
    sqlite3_free(err);
    throw InputError(fmt::format("{}: {}", path_, why));
  }
}

void ResultDb::exec_with(const char* sql, const std::vector<std::string>& values) {
  sqlite3_stmt* st = prepare(sql);
  for (size_t i = 0; i < values.size(); ++i) {
    sqlite3_bind_text(st, static_cast<int>(i + 1), values[i].c_str(), -1, SQLITE_TRANSIENT);
  }
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw InputError(fmt::format("{}: {}", path_, sqlite3_errmsg(db_)));
}

bool ResultDb::has_done(const std::string& key) {
  auto r = find(key);
  return r && r->status == PointStatus::kDone;
}

namespace {
PointRecord read_row(sqlite3_stmt* st, const std::string& path) {
  static const char* const kColumns[] = {"key",       "params", "status",  "error", "cycles",
                                         "energy_pj", "result", "seconds", "seq"};
  PointRecord r;
  // Every text goes to JSON, CSV and Markdown exports: it must be UTF-8
  // (nlohmann::json's serializer is the check; a damaged row names itself).
  auto text = [&](int i) {
    const unsigned char* t = sqlite3_column_text(st, i);
    std::string s = t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
    try {
      (void)nlohmann::json(s).dump();
    } catch (const nlohmann::json::type_error&) {
      throw InputError(fmt::format("{}: point '{}': column {} is not UTF-8 text (damaged database)",
                                   path, i == 0 ? std::string("?") : r.key, kColumns[i]));
    }
    return s;
  };
  r.key = text(0);
  // The stored JSON must be objects: a damaged row is the database's fault.
  auto object = [&](const std::string& column, const std::string& s) {
    nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
    if (s.empty() && column == "result") j = nlohmann::json::object();
    if (!j.is_object()) {
      throw InputError(
          fmt::format("{}: point '{}': column {} does not hold a JSON object (damaged database)",
                      path, r.key, column));
    }
    return j;
  };
  r.params = object("params", text(1));
  if (!parse(text(2), r.status)) {
    throw InputError(
        fmt::format("{}: point '{}': column status holds '{}', not done or failed "
                    "(damaged database)",
                    path, r.key, text(2)));
  }
  r.error = text(3);
  r.cycles = static_cast<uint64_t>(sqlite3_column_int64(st, 4));
  r.energy_pj = sqlite3_column_double(st, 5);
  r.result = object("result", text(6));
  r.seconds = sqlite3_column_double(st, 7);
  r.seq = sqlite3_column_int64(st, 8);
  return r;
}
}  // namespace

sqlite3_stmt* ResultDb::prepare(const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
    const std::string why = sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    throw InputError(fmt::format("{}: not a palsim sweep database ({})", path_, why));
  }
  return st;
}

std::optional<PointRecord> ResultDb::find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!db_) return std::nullopt;  // not created yet: no results
  sqlite3_stmt* st = prepare(
      "SELECT key, params, status, error, cycles, energy_pj, result, seconds, seq FROM points "
      "WHERE key = ?");
  sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  std::optional<PointRecord> r;
  try {
    if (sqlite3_step(st) == SQLITE_ROW) r = read_row(st, path_);
  } catch (...) {
    sqlite3_finalize(st);
    throw;
  }
  sqlite3_finalize(st);
  return r;
}

void ResultDb::put(const PointRecord& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  create_if_new();
  // The row's place in exports: the point's index in its sweep when known
  // (the same order whatever the number of jobs or shards), else after the
  // last row; a replaced row keeps its place.
  sqlite3_stmt* st = prepare(
      "INSERT OR REPLACE INTO points(key, seq, params, status, error, cycles, energy_pj, result, "
      "seconds) VALUES(?, COALESCE(?, (SELECT seq FROM points WHERE key = ?), (SELECT "
      "COALESCE(MAX(seq), "
      "0) + 1 FROM points)), ?, ?, ?, ?, ?, ?, ?)");
  const std::string params = r.params.dump(), result = r.result.dump();
  sqlite3_bind_text(st, 1, r.key.c_str(), -1, SQLITE_TRANSIENT);
  if (r.seq >= 0) {
    sqlite3_bind_int64(st, 2, r.seq);
  } else {
    sqlite3_bind_null(st, 2);
  }
  sqlite3_bind_text(st, 3, r.key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, params.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, to_string(r.status).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 6, r.error.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 7, static_cast<sqlite3_int64>(r.cycles));
  sqlite3_bind_double(st, 8, r.energy_pj);
  sqlite3_bind_text(st, 9, result.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 10, r.seconds);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    throw InputError(fmt::format("{}: cannot record a result: {}", path_, sqlite3_errmsg(db_)));
  if (!claim_.empty()) {
    // The heartbeat by which another host tells a running sweep from a dead one.
    const std::string old = claim_;
    claim_ = claim_text(unix_seconds());
    exec_with("UPDATE meta SET value = ? WHERE name = 'running' AND value = ?", {claim_, old});
  }
}

std::vector<PointRecord> ResultDb::all() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!db_) return {};  // not created yet: no results
  sqlite3_stmt* st = prepare(
      "SELECT key, params, status, error, cycles, energy_pj, result, seconds, seq FROM points "
      "ORDER BY seq, key");
  std::vector<PointRecord> out;
  try {
    while (sqlite3_step(st) == SQLITE_ROW) out.push_back(read_row(st, path_));
  } catch (...) {
    sqlite3_finalize(st);
    throw;
  }
  sqlite3_finalize(st);
  return out;
}

}  // namespace palsim::cli
