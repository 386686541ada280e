#pragma once
// Sweep results in SQLite: one row per point, keyed by the point's full
// configuration and the simulator version, committed as soon as the point
// finishes (WAL journal), so an interrupted sweep loses at most the points in
// flight and never a finished one.
#include <sqlite3.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace palsim::cli {

// How a point ended; stored in the database by name.
enum class PointStatus { kDone, kFailed };
std::string to_string(PointStatus s);
// False when `name` names no status.
bool parse(const std::string& name, PointStatus& out);

struct PointRecord {
  std::string key;
  nlohmann::json params;
  PointStatus status = PointStatus::kDone;
  std::string error;
  uint64_t cycles = 0;
  double energy_pj = 0;
  nlohmann::json result;  // energy breakdown and totals
  double seconds = 0;
  // Place in exports: the point's index in its sweep (-1: after the last row).
  int64_t seq = -1;
};

// kReadWrite opens the database, or creates it with the first put() (sweep,
// merge output: a run that stores nothing leaves no file); kReadOnly
// opens an existing one and changes nothing, not even beside it: no journal,
// no WAL or shared-memory file is created (results, plot, merge inputs).
enum class DbAccess { kReadWrite, kReadOnly };

// `path`, which must exist (a database to read); throws InputError otherwise.
const std::string& existing_sweep_db(const std::string& path);

class ResultDb {
 public:
  // Throws InputError naming the file when it is not a regular file, not a
  // palsim sweep database (an empty file is none, read-only) or was written
  // by another simulator version.
  explicit ResultDb(const std::string& path, DbAccess access = DbAccess::kReadWrite);
  ~ResultDb();
  ResultDb(const ResultDb&) = delete;
  ResultDb& operator=(const ResultDb&) = delete;

  bool has_done(const std::string& key);
  std::optional<PointRecord> find(const std::string& key);
  void put(const PointRecord& r);  // insert or replace, committed (kReadWrite only)

  // One sweep at a time runs into a database (issue 17, class 8): a second
  // `sweep` or `--resume` would run every remaining point again. claim_run()
  // records this process (host, pid, heartbeat) in the database, or throws
  // InputError naming the process that holds it: a live process of this host,
  // or one of another host whose heartbeat (every stored point) is recent. A
  // claim of a process that no longer exists is taken over. The destructor
  // releases it.
  void claim_run();
  std::vector<PointRecord> all();  // in insertion order
  const std::string& path() const { return path_; }

 private:
  void open(DbAccess access);
  void create_if_new();
  void check_identity(bool read_only);
  void exec(const std::string& sql);
  // Runs `sql` with `values` bound to its ? parameters.
  void exec_with(const char* sql, const std::vector<std::string>& values);
  // Throws InputError naming the file when `sql` does not fit its tables.
  sqlite3_stmt* prepare(const char* sql);
  void release_claim();
  std::string path_;
  bool created_ = false;  // this object made the file (removed again if setting it up fails)
  std::string claim_;     // our 'running' record while claimed
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
};

}  // namespace palsim::cli
