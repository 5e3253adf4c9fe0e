// The Store on one SQLite file (WAL mode), shared by all workers of a study:
// claims are BEGIN IMMEDIATE transactions, epoch rows are keyed (trial, epoch).
#include <chrono>
#include <map>
#include <mutex>

#include "core/errors.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace lrtune {
namespace {

using json = nlohmann::json;
using sqlite::Stmt;

constexpr int kSchemaVersion = 1;

const char* const kSchema = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE study (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL, description TEXT NOT NULL,
  spec TEXT NOT NULL, trial_ids TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE trials (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE, label TEXT NOT NULL, config TEXT NOT NULL,
  repeat_index INTEGER NOT NULL, epochs_total INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  host TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL DEFAULT 0,
  started_at REAL NOT NULL DEFAULT 0, ended_at REAL NOT NULL DEFAULT 0,
  heartbeat_at REAL NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0, info TEXT NOT NULL DEFAULT '{}',
  created_at REAL NOT NULL);
CREATE TABLE epochs (
  trial_id TEXT NOT NULL REFERENCES trials(id), epoch INTEGER NOT NULL,
  lr REAL, train_loss REAL, train_acc REAL, val_loss REAL, val_acc REAL,
  test_loss REAL, test_acc REAL, seconds REAL, images_per_s REAL,
  PRIMARY KEY (trial_id, epoch)) WITHOUT ROWID;
)sql";

// The epoch columns after (trial_id, epoch), in table order.
const std::pair<const char*, double EpochMetrics::*> kEpochColumns[] = {
    {"lr", &EpochMetrics::lr},               {"train_loss", &EpochMetrics::train_loss},
    {"train_acc", &EpochMetrics::train_acc}, {"val_loss", &EpochMetrics::val_loss},
    {"val_acc", &EpochMetrics::val_acc},     {"test_loss", &EpochMetrics::test_loss},
    {"test_acc", &EpochMetrics::test_acc},   {"seconds", &EpochMetrics::seconds},
    {"images_per_s", &EpochMetrics::images_per_s},
};

const char* const kTrialColumns =
    "id, label, config, repeat_index, epochs_total, status, host, pid, started_at, ended_at, "
    "heartbeat_at, error, attempts, info, "
    "(SELECT COUNT(*) FROM epochs e WHERE e.trial_id = trials.id)";

double now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

json parse_json(const std::string& text, const std::string& what, const std::string& path) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw StoreError(path + ": corrupt " + what + " (" + e.what() + ")");
  }
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path) : db_(path) {
    db_.exec("PRAGMA journal_mode=WAL");
    // With WAL, NORMAL loses no committed transaction when a process dies;
    // only a power cut can drop the last ones.
    db_.exec("PRAGMA synchronous=NORMAL");
    init_schema();
  }

  void put_study(const StudyInfo& info) override {
    std::lock_guard lock(mu_);
    Stmt(db_, "INSERT OR REPLACE INTO study (id, name, description, spec, trial_ids, updated_at)"
              " VALUES (1, ?, ?, ?, ?, ?)")
        .bind(1, info.name).bind(2, info.description).bind(3, info.spec.dump())
        .bind(4, json(info.trial_ids).dump()).bind(5, now()).run();
  }

  std::optional<StudyInfo> study() override {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT name, description, spec, trial_ids FROM study WHERE id = 1");
    if (!q.step()) return std::nullopt;
    StudyInfo info{q.text(0), q.text(1), parse_json(q.text(2), "study spec", db_.path()), {}};
    info.trial_ids = parse_json(q.text(3), "study trial list", db_.path())
                         .get<std::vector<std::string>>();
    return info;
  }

  void add_trial(const TrialSpec& spec) override {
    std::lock_guard lock(mu_);
    Stmt(db_, "INSERT OR IGNORE INTO trials (id, label, config, repeat_index, epochs_total,"
              " created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, spec.id).bind(2, spec.label).bind(3, spec.config.dump())
        .bind(4, spec.repeat).bind(5, spec.epochs_total).bind(6, now()).run();
  }

  std::vector<TrialRecord> trials() override {
    std::lock_guard lock(mu_);
    std::vector<TrialRecord> out;
    Stmt q(db_, std::string("SELECT ") + kTrialColumns + " FROM trials ORDER BY seq");
    while (q.step()) out.push_back(read_trial(q));
    return out;
  }

  std::optional<TrialRecord> trial(const std::string& id) override {
    std::lock_guard lock(mu_);
    return find_trial(id);
  }

  std::optional<TrialRecord> claim_trial(const std::vector<std::string>& ids,
                                         const std::string& host, std::int64_t pid,
                                         double stale_after_s) override {
    std::lock_guard lock(mu_);
    sqlite::Transaction tx(db_);
    const double t = now();
    std::map<std::string, bool> claimable;
    Stmt q(db_, "SELECT id, status, heartbeat_at FROM trials WHERE status IN "
                "('pending', 'running')");
    while (q.step())
      claimable[q.text(0)] = q.text(1) == "pending" || t - q.real(2) > stale_after_s;
    for (const auto& id : ids) {
      auto it = claimable.find(id);
      if (it == claimable.end() || !it->second) continue;
      Stmt(db_, "UPDATE trials SET status = 'running', host = ?, pid = ?, heartbeat_at = ?,"
                " started_at = CASE WHEN started_at = 0 THEN ? ELSE started_at END,"
                " ended_at = 0, error = '', attempts = attempts + 1 WHERE id = ?")
          .bind(1, host).bind(2, pid).bind(3, t).bind(4, t).bind(5, id).run();
      tx.commit();
      claims_[id] = {host, pid};
      return find_trial(id);
    }
    tx.commit();
    return std::nullopt;
  }

  void heartbeat(const std::string& id) override {
    std::lock_guard lock(mu_);
    update_held(id, "heartbeat_at = ?1", [](Stmt& s) { s.bind(1, now()); }, false);
  }

  void finish_trial(const std::string& id, RunStatus status, const std::string& error) override {
    std::lock_guard lock(mu_);
    const double t = now();
    update_held(
        id, "status = ?1, error = ?2, ended_at = ?3, heartbeat_at = ?3",
        [&](Stmt& s) { s.bind(1, to_string(status)).bind(2, error).bind(3, t); }, true);
  }

  void release_trial(const std::string& id) override {
    std::lock_guard lock(mu_);
    update_held(id, "status = 'pending'", [](Stmt&) {}, true);
  }

  bool holds(const std::string& id) override {
    std::lock_guard lock(mu_);
    auto it = claims_.find(id);
    if (it == claims_.end()) return false;
    Stmt q(db_, "SELECT 1 FROM trials WHERE id = ? AND status = 'running' AND host = ?"
                " AND pid = ?");
    q.bind(1, id).bind(2, it->second.host).bind(3, it->second.pid);
    return q.step();
  }

  bool release_orphan(const std::string& id, const std::string& host,
                      std::int64_t pid) override {
    std::lock_guard lock(mu_);
    Stmt(db_, "UPDATE trials SET status = 'pending' WHERE id = ? AND status = 'running'"
              " AND host = ? AND pid = ?")
        .bind(1, id).bind(2, host).bind(3, pid).run();
    return db_.changes() > 0;
  }

  int retry_failed(const std::vector<std::string>& ids) override {
    std::lock_guard lock(mu_);
    sqlite::Transaction tx(db_);
    int n = 0;
    for (const auto& id : ids) {
      Stmt(db_, "UPDATE trials SET status = 'pending', error = '' WHERE id = ?"
                " AND status = 'failed'").bind(1, id).run();
      n += db_.changes();
    }
    tx.commit();
    return n;
  }

  void set_trial_info(const std::string& id, const json& info) override {
    std::lock_guard lock(mu_);
    Stmt(db_, "UPDATE trials SET info = ? WHERE id = ?").bind(1, info.dump()).bind(2, id).run();
  }

  void put_epoch(const std::string& id, const EpochMetrics& m) override {
    std::lock_guard lock(mu_);
    std::string cols = "trial_id, epoch", marks = "?, ?";
    for (const auto& c : kEpochColumns) {
      cols += std::string(", ") + c.first;
      marks += ", ?";
    }
    Stmt s(db_, "INSERT OR REPLACE INTO epochs (" + cols + ") VALUES (" + marks + ")");
    s.bind(1, id).bind(2, m.epoch);
    int pos = 3;
    for (const auto& c : kEpochColumns) s.bind(pos++, m.*c.second);
    s.run();
  }

  void truncate_epochs(const std::string& id, std::int64_t last_epoch) override {
    std::lock_guard lock(mu_);
    Stmt(db_, "DELETE FROM epochs WHERE trial_id = ? AND epoch > ?")
        .bind(1, id).bind(2, last_epoch).run();
  }

  std::vector<EpochMetrics> epochs(const std::string& id) override {
    std::lock_guard lock(mu_);
    std::string cols = "epoch";
    for (const auto& c : kEpochColumns) cols += std::string(", ") + c.first;
    Stmt q(db_, "SELECT " + cols + " FROM epochs WHERE trial_id = ? ORDER BY epoch");
    q.bind(1, id);
    std::vector<EpochMetrics> out;
    while (q.step()) {
      EpochMetrics m;
      m.epoch = q.integer(0);
      int col = 1;
      for (const auto& c : kEpochColumns) m.*c.second = q.real(col++);
      out.push_back(m);
    }
    return out;
  }

 private:
  struct Owner {
    std::string host;
    std::int64_t pid;
  };

  void init_schema() {
    sqlite::Transaction tx(db_);
    Stmt tables(db_, "SELECT name FROM sqlite_master WHERE type = 'table'");
    bool any = false, has_meta = false;
    while (tables.step()) {
      any = true;
      has_meta = has_meta || tables.text(0) == "meta";
    }
    if (!any) {
      db_.exec(kSchema);
      Stmt(db_, "INSERT INTO meta (key, value) VALUES ('schema_version', ?)")
          .bind(1, std::to_string(kSchemaVersion)).run();
      tx.commit();
      return;
    }
    if (!has_meta)
      throw StoreError(db_.path() + ": this SQLite file is not an lrtune results database "
                       "(no meta table); choose another directory");
    Stmt v(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
    const std::string version = v.step() ? v.text(0) : "(none)";
    if (version != std::to_string(kSchemaVersion))
      throw StoreError(db_.path() + ": results database has schema version " + version +
                       ", but this lrtune reads version " + std::to_string(kSchemaVersion) +
                       " only; use the lrtune that wrote it");
    tx.commit();
  }

  TrialRecord read_trial(const Stmt& q) const {
    TrialRecord r;
    r.spec.id = q.text(0);
    r.spec.label = q.text(1);
    r.spec.config = parse_json(q.text(2), "config of trial " + r.spec.id, db_.path());
    r.spec.repeat = q.integer(3);
    r.spec.epochs_total = q.integer(4);
    r.status = run_status_from_string(q.text(5));
    r.host = q.text(6);
    r.pid = q.integer(7);
    r.started_at = q.real(8);
    r.ended_at = q.real(9);
    r.heartbeat_at = q.real(10);
    r.error = q.text(11);
    r.attempts = q.integer(12);
    r.info = parse_json(q.text(13), "info of trial " + r.spec.id, db_.path());
    r.epochs_done = q.integer(14);
    return r;
  }

  std::optional<TrialRecord> find_trial(const std::string& id) {
    Stmt q(db_, std::string("SELECT ") + kTrialColumns + " FROM trials WHERE id = ?");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return read_trial(q);
  }

  // Runs "UPDATE trials SET <set> WHERE id = ..." -- only while this store
  // still holds the trial if it claimed it. `bind` fills ?1..?9 of `set`.
  template <typename Bind>
  void update_held(const std::string& id, const std::string& set, Bind bind, bool drop_claim) {
    auto it = claims_.find(id);
    std::string sql = "UPDATE trials SET " + set + " WHERE id = ?10";
    if (it != claims_.end()) sql += " AND status = 'running' AND host = ?11 AND pid = ?12";
    Stmt s(db_, sql);
    bind(s);
    s.bind(10, id);
    if (it != claims_.end()) s.bind(11, it->second.host).bind(12, it->second.pid);
    s.run();
    if (drop_claim && it != claims_.end()) claims_.erase(it);
  }

  std::mutex mu_;  // one connection, used by a worker and its heartbeat thread
  sqlite::Db db_;
  std::map<std::string, Owner> claims_;
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path) {
  return std::make_unique<SqliteStore>(path);
}

}  // namespace lrtune
