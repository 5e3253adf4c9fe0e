// Schema 2 and the migration from schema 1.
#include "store/sqlite_schema.h"

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/identity.h"
#include "store/store.h"

namespace lrtune::sqlite {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Schema 2: many studies per file; trials unique within their study; epoch
// rows keyed by the trial's row; a lease (fencing token) bumped by every claim.
const char* const kSchema2 = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE studies (
  study_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  spec TEXT NOT NULL DEFAULT '{}', trial_ids TEXT NOT NULL DEFAULT '[]',
  declared INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE trials (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  study_id INTEGER NOT NULL REFERENCES studies(study_id),
  id TEXT NOT NULL, label TEXT NOT NULL, config TEXT NOT NULL,
  repeat_index INTEGER NOT NULL, epochs_total INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  host TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL DEFAULT 0,
  started_at REAL NOT NULL DEFAULT 0, ended_at REAL NOT NULL DEFAULT 0,
  heartbeat_at REAL NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0, info TEXT NOT NULL DEFAULT '{}',
  lease INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  UNIQUE (study_id, id));
CREATE TABLE epochs (
  trial_seq INTEGER NOT NULL REFERENCES trials(seq), epoch INTEGER NOT NULL,
  lr REAL, train_loss REAL, train_acc REAL, val_loss REAL, val_acc REAL,
  test_loss REAL, test_acc REAL, seconds REAL, images_per_s REAL,
  PRIMARY KEY (trial_seq, epoch)) WITHOUT ROWID;
)sql";

// Schema 3 adds the files that trials train from, by content hash.
const char* const kFilesTable = "CREATE TABLE files (hash TEXT PRIMARY KEY, data BLOB NOT NULL);";

std::string read_version(Db& db) {
  Stmt v(db, "SELECT value FROM meta WHERE key = 'schema_version'");
  return v.step() ? v.text(0) : "(none)";
}

void set_version(Db& db, int version) {
  Stmt(db, "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)")
      .bind(1, std::to_string(version)).run();
}

json parse_or_fail(const std::string& text, const std::string& what, const Db& db) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw StoreError(db.path() + ": corrupt " + what + " (" + e.what() + ")");
  }
}

// The new id of a trial of a 0.1 database. One that v1_id_map did not see means
// the file's tables and indexes disagree: a damaged file.
const std::string& migrated_id(const std::map<std::string, std::string>& ids,
                               const std::string& id, const Db& db) {
  auto it = ids.find(id);
  if (it == ids.end())
    throw StoreError(db.path() + ": corrupt results database (trial " + id + " is in an index "
                     "but not in its table); `sqlite3 FILE 'PRAGMA integrity_check'` says more");
  return it->second;
}

// lrtune 0.1 hashed all of its identity keys; today's ids hash only the values
// that differ from the defaults. Ids that are not 0.1 hashes ("run", the id
// of a `lrtune train` run) stay as they are.
std::map<std::string, std::string> v1_id_map(Db& db) {
  std::map<std::string, std::string> out;
  Stmt q(db, "SELECT id, config FROM trials_v1");
  while (q.step()) {
    const std::string id = q.text(0);
    const json config = parse_or_fail(q.text(1), "config of trial " + id, db);
    if (!config.is_object())
      throw StoreError(db.path() + ": corrupt config of trial " + id + " (not a JSON object)");
    out[id] = v01_trial_id(config) == id ? identity_hash(v01_identity(config)) : id;
  }
  return out;
}

json renamed_spec(json spec, const std::map<std::string, std::string>& ids) {
  if (spec.contains("points") && spec["points"].is_array())
    for (auto& p : spec["points"])
      if (p.contains("id") && p["id"].is_string()) {
        auto it = ids.find(p["id"].get<std::string>());
        if (it != ids.end()) p["id"] = it->second;
      }
  return spec;
}

// Renames <folder>/trials/<old> to <new>; a folder already renamed (a
// migration that stopped before its commit) is left as it is.
void rename_trial_dirs(const Db& db, const std::map<std::string, std::string>& ids) {
  const fs::path trials = fs::path(db.path()).parent_path() / "trials";
  for (const auto& [old_id, new_id] : ids) {
    if (old_id == new_id) continue;
    std::error_code ec;
    const fs::path from = trials / old_id, to = trials / new_id;
    if (!fs::exists(from, ec) || fs::exists(to, ec)) continue;
    fs::rename(from, to, ec);
    if (ec)
      throw StoreError(db.path() + ": cannot migrate: renaming " + from.string() + " to " +
                       to.string() + ": " + ec.message());
  }
}

void migrate_from_v1(Db& db) {
  db.exec("ALTER TABLE study RENAME TO study_v1; ALTER TABLE trials RENAME TO trials_v1;"
          " ALTER TABLE epochs RENAME TO epochs_v1;");
  db.exec(kSchema2);
  const auto ids = v1_id_map(db);
  {
  Stmt s(db, "SELECT name, description, spec, trial_ids, updated_at FROM study_v1");
  if (s.step()) {
    std::vector<std::string> trial_ids;
    for (const auto& id : parse_string_list(s.text(3), "study trial list", db))
      trial_ids.push_back(ids.count(id) ? ids.at(id) : id);
    Stmt(db, "INSERT INTO studies (study_id, name, description, spec, trial_ids, declared,"
             " created_at, updated_at) VALUES (1, ?, ?, ?, ?, 1, ?5, ?5)")
        .bind(1, s.text(0)).bind(2, s.text(1))
        .bind(3, renamed_spec(parse_or_fail(s.text(2), "study spec", db), ids).dump())
        .bind(4, json(trial_ids).dump()).bind(5, s.real(4)).run();
  } else {
    Stmt(db, std::string("INSERT INTO studies (study_id, name, created_at, updated_at)"
                         " VALUES (1, '', ") + kSqlNow + ", " + kSqlNow + ")").run();
  }
  }
  {
  Stmt q(db, "SELECT seq, id FROM trials_v1");
  while (q.step())
    Stmt(db, "INSERT INTO trials (seq, study_id, id, label, config, repeat_index, epochs_total,"
             " status, host, pid, started_at, ended_at, heartbeat_at, error, attempts, info,"
             " created_at) SELECT seq, 1, ?, label, config, repeat_index, epochs_total, status,"
             " host, pid, started_at, ended_at, heartbeat_at, error, attempts, info, created_at"
             " FROM trials_v1 WHERE seq = ?")
        .bind(1, migrated_id(ids, q.text(1), db)).bind(2, q.integer(0)).run();
  }
  db.exec("INSERT INTO epochs SELECT t.seq, e.epoch, e.lr, e.train_loss, e.train_acc, e.val_loss,"
          " e.val_acc, e.test_loss, e.test_acc, e.seconds, e.images_per_s FROM epochs_v1 e"
          " JOIN trials_v1 t ON t.id = e.trial_id;"
          " DROP TABLE epochs_v1; DROP TABLE trials_v1; DROP TABLE study_v1;");
  set_version(db, 2);
  rename_trial_dirs(db, ids);  // last: a failure rolls the database back
}

}  // namespace

std::vector<std::string> parse_string_list(const std::string& text, const std::string& what,
                                           const Db& db) {
  const json list = parse_or_fail(text, what, db);
  std::vector<std::string> out;
  if (list.is_array())
    for (const auto& item : list)
      if (item.is_string()) out.push_back(item.get<std::string>());
  if (!list.is_array() || out.size() != list.size())
    throw StoreError(db.path() + ": corrupt " + what + " (not a list of trial ids)");
  return out;
}

void open_schema(Db& db) {
  Transaction tx(db);
  Stmt tables(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
  bool any = false, has_meta = false;
  while (tables.step()) {
    any = true;
    has_meta = has_meta || tables.text(0) == "meta";
  }
  if (!any) {
    db.exec(kSchema2);
    db.exec(kFilesTable);
    set_version(db, kStoreSchemaVersion);
    tx.commit();
    return;
  }
  if (!has_meta)
    throw StoreError(db.path() + ": this SQLite file is not an lrtune results database "
                     "(no meta table); choose another directory");
  const std::string version = read_version(db);
  if (version == "1" || version == "2") {
    if (version == "1") migrate_from_v1(db);
    db.exec(kFilesTable);  // 2 -> 3
    set_version(db, 3);
  } else if (version != std::to_string(kStoreSchemaVersion)) {
    bool newer = false;
    try {
      newer = std::stoll(version) > kStoreSchemaVersion;
    } catch (const std::exception&) {
    }
    throw StoreError(db.path() + ": results database has schema version " + version +
                     (newer ? ", written by a newer lrtune; this one reads versions 1 to "
                            : "; this lrtune reads versions 1 to ") +
                     std::to_string(kStoreSchemaVersion) +
                     (newer ? ": upgrade lrtune to open it" : ": it is not one lrtune wrote"));
  }
  tx.commit();
}

}  // namespace lrtune::sqlite
