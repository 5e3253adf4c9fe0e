// The Store on one SQLite file (WAL mode), shared by all workers of its
// studies: claims are BEGIN IMMEDIATE transactions, epoch rows are keyed
// (trial, epoch) and keep NaN as NULL, checkpoints are files beside the database.
#include <filesystem>
#include <map>
#include <mutex>

#include "core/errors.h"
#include "core/files.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/store.h"

namespace lrtune {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using sqlite::Stmt;

const char* const kTrialColumns =
    "id, label, config, repeat_index, epochs_total, status, host, pid, started_at, ended_at, "
    "heartbeat_at, error, attempts, info, lease, "
    "(SELECT COUNT(*) FROM epochs e WHERE e.trial_seq = trials.seq)";

json parse_json(const std::string& text, const std::string& what, const std::string& path) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw StoreError(path + ": corrupt " + what + " (" + e.what() + ")");
  }
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, SqliteOptions options)
      : db_(path), options_(std::move(options)) {
    db_.exec("PRAGMA journal_mode=WAL");
    // With WAL, NORMAL loses no committed transaction when a process dies;
    // only a power cut can drop the last ones.
    db_.exec("PRAGMA synchronous=NORMAL");
    sqlite::open_schema(db_);
    bind_study();
  }

  void put_study(const StudyInfo& info) override {
    std::lock_guard lock(mu_);
    resolve();
    sqlite::Transaction tx(db_);
    const double t = clock();
    if (study_id_ == 0) study_id_ = create_study(info.name);
    Stmt(db_, "UPDATE studies SET name = ?, description = ?, spec = ?, trial_ids = ?,"
              " declared = 1, updated_at = ? WHERE study_id = ?")
        .bind(1, info.name).bind(2, info.description).bind(3, info.spec.dump())
        .bind(4, json(info.trial_ids).dump()).bind(5, t).bind(6, study_id_).run();
    tx.commit();
  }

  std::optional<StudyInfo> study() override {
    std::lock_guard lock(mu_);
    resolve();
    Stmt q(db_, "SELECT name, description, spec, trial_ids FROM studies"
                " WHERE study_id = ? AND declared = 1");
    q.bind(1, study_id_);
    if (!q.step()) return std::nullopt;
    StudyInfo info{q.text(0), q.text(1), parse_json(q.text(2), "study spec", db_.path()), {}};
    info.trial_ids = sqlite::parse_string_list(q.text(3), "study trial list", db_);
    return info;
  }

  void add_trial(const TrialSpec& spec) override {
    std::lock_guard lock(mu_);
    resolve();
    sqlite::Transaction tx(db_);
    ensure_study();
    insert_trial(spec);
    tx.commit();
  }

  std::vector<TrialRecord> trials() override {
    std::lock_guard lock(mu_);
    resolve();
    std::vector<TrialRecord> out;
    Stmt q(db_, std::string("SELECT ") + kTrialColumns +
                    " FROM trials WHERE study_id = ? ORDER BY seq");
    q.bind(1, study_id_);
    while (q.step()) out.push_back(read_trial(q));
    return out;
  }

  std::optional<TrialRecord> trial(const std::string& id) override {
    std::lock_guard lock(mu_);
    resolve();
    return find_trial(id);
  }

  std::vector<TrialHistory> history() override {
    std::lock_guard lock(mu_);
    resolve();
    sqlite::Transaction tx(db_, /*write=*/false);
    auto out = history_locked(current_ids());
    tx.commit();
    return out;
  }

  std::optional<TrialSpec> add_trial_with(const TrialChooser& choose) override {
    std::lock_guard lock(mu_);
    resolve();
    sqlite::Transaction tx(db_);
    if (study_id_ == 0) throw StoreError(db_.path() + ": no study to add a trial to");
    std::vector<std::string> ids = current_ids();
    std::optional<TrialSpec> spec = choose(history_locked(ids));
    if (!spec) return std::nullopt;
    if (find_trial(spec->id))
      throw StoreError(db_.path() + ": trial " + spec->id + " is already in the study");
    insert_trial(*spec);
    ids.push_back(spec->id);
    Stmt(db_, "UPDATE studies SET trial_ids = ?, updated_at = ? WHERE study_id = ?")
        .bind(1, json(ids).dump()).bind(2, clock()).bind(3, study_id_).run();
    tx.commit();
    return spec;
  }

  std::optional<TrialRecord> claim_trial(const std::vector<std::string>& ids,
                                         const std::string& host, std::int64_t pid,
                                         double stale_after_s) override {
    std::lock_guard lock(mu_);
    resolve();
    sqlite::Transaction tx(db_);
    const double t = clock();
    std::map<std::string, bool> claimable;
    Stmt q(db_, "SELECT id, status, heartbeat_at FROM trials WHERE study_id = ? AND status IN "
                "('pending', 'running')");
    q.bind(1, study_id_);
    while (q.step())
      claimable[q.text(0)] = q.text(1) == "pending" || t - q.real(2) > stale_after_s;
    for (const auto& id : ids) {
      auto it = claimable.find(id);
      if (it == claimable.end() || !it->second) continue;
      Stmt(db_, "UPDATE trials SET status = 'running', host = ?, pid = ?, heartbeat_at = ?,"
                " started_at = CASE WHEN started_at = 0 THEN ? ELSE started_at END,"
                " ended_at = 0, error = '', attempts = attempts + 1, lease = lease + 1"
                " WHERE study_id = ? AND id = ?")
          .bind(1, host).bind(2, pid).bind(3, t).bind(4, t).bind(5, study_id_).bind(6, id).run();
      auto record = find_trial(id);
      tx.commit();
      claims_[id] = record->lease;
      return record;
    }
    tx.commit();
    return std::nullopt;
  }

  void heartbeat(const std::string& id) override {
    std::lock_guard lock(mu_);
    resolve();
    const double t = clock();
    update_held(id, "heartbeat_at = ?1", [&](Stmt& s) { s.bind(1, t); }, false);
  }

  void finish_trial(const std::string& id, RunStatus status, const std::string& error) override {
    std::lock_guard lock(mu_);
    resolve();
    const double t = clock();
    update_held(
        id, "status = ?1, error = ?2, ended_at = ?3, heartbeat_at = ?3",
        [&](Stmt& s) { s.bind(1, to_string(status)).bind(2, error).bind(3, t); }, true);
  }

  void release_trial(const std::string& id) override {
    std::lock_guard lock(mu_);
    resolve();
    update_held(id, "status = 'pending'", [](Stmt&) {}, true);
  }

  bool holds(const std::string& id) override {
    std::lock_guard lock(mu_);
    resolve();
    return holds_locked(id);
  }

  bool release_orphan(const std::string& id, const std::string& host,
                      std::int64_t pid) override {
    std::lock_guard lock(mu_);
    resolve();
    Stmt(db_, "UPDATE trials SET status = 'pending' WHERE study_id = ? AND id = ?"
              " AND status = 'running' AND host = ? AND pid = ?")
        .bind(1, study_id_).bind(2, id).bind(3, host).bind(4, pid).run();
    return db_.changes() > 0;
  }

  int retry_failed(const std::vector<std::string>& ids) override {
    std::lock_guard lock(mu_);
    resolve();
    sqlite::Transaction tx(db_);
    int n = 0;
    for (const auto& id : ids) {
      Stmt(db_, "UPDATE trials SET status = 'pending', error = '' WHERE study_id = ? AND id = ?"
                " AND status = 'failed'").bind(1, study_id_).bind(2, id).run();
      n += db_.changes();
    }
    tx.commit();
    return n;
  }

  void set_trial_info(const std::string& id, const json& info) override {
    std::lock_guard lock(mu_);
    resolve();
    Stmt(db_, "UPDATE trials SET info = ? WHERE study_id = ? AND id = ?")
        .bind(1, info.dump()).bind(2, study_id_).bind(3, id).run();
  }

  void put_epoch(const std::string& id, const EpochMetrics& m) override {
    std::lock_guard lock(mu_);
    resolve();
    sqlite::Transaction tx(db_);
    refuse_if_lost(id, "this worker's epoch " + std::to_string(m.epoch) + " is not recorded");
    const std::int64_t seq = trial_seq(id);
    std::string cols = "trial_seq, epoch", marks = "?, ?";
    for (const auto& f : metric_fields()) {
      cols += std::string(", ") + f.name;
      marks += ", ?";
    }
    Stmt s(db_, "INSERT OR REPLACE INTO epochs (" + cols + ") VALUES (" + marks + ")");
    s.bind(1, seq).bind(2, m.epoch);
    int pos = 3;
    for (const auto& f : metric_fields()) s.bind(pos++, m.*f.member);
    s.run();
    tx.commit();
  }

  void truncate_epochs(const std::string& id, std::int64_t last_epoch) override {
    std::lock_guard lock(mu_);
    resolve();
    sqlite::Transaction tx(db_);
    refuse_if_lost(id, "its epochs after " + std::to_string(last_epoch) + " are not deleted");
    Stmt(db_, "DELETE FROM epochs WHERE trial_seq = (SELECT seq FROM trials WHERE study_id = ?"
              " AND id = ?) AND epoch > ?")
        .bind(1, study_id_).bind(2, id).bind(3, last_epoch).run();
    tx.commit();
  }

  std::vector<EpochMetrics> epochs(const std::string& id) override {
    std::lock_guard lock(mu_);
    resolve();
    Stmt q(db_, "SELECT " + epoch_columns() + " FROM epochs WHERE trial_seq = (SELECT seq"
                " FROM trials WHERE study_id = ? AND id = ?) ORDER BY epoch");
    q.bind(1, study_id_).bind(2, id);
    std::vector<EpochMetrics> out;
    while (q.step()) out.push_back(read_epoch(q, 0));
    return out;
  }

  double now() override {
    std::lock_guard lock(mu_);
    resolve();
    return clock();
  }

  std::string trial_dir(const std::string& id) override {
    const fs::path here = fs::path(db_.path()).parent_path();
    return (options_.run_folder ? here : here / "trials" / id).string();
  }
  void save_checkpoint(const std::string&, const std::string&) override {}
  void put_file(const std::string& hash, const std::string& local_file) override {
    const std::string bytes = read_file_bytes(local_file);
    Stmt(db_, "INSERT OR IGNORE INTO files (hash, data) VALUES (?, ?)").bind(1, hash).bind_blob(2, bytes).run();
  }
  std::vector<std::string> file_hashes() override {
    std::vector<std::string> out;
    Stmt q(db_, "SELECT hash FROM files ORDER BY hash");
    while (q.step()) out.push_back(q.text(0));
    return out;
  }
  bool fetch_file(const std::string& hash, const std::string& local_file) override {
    Stmt q(db_, "SELECT data FROM files WHERE hash = ?");
    q.bind(1, hash);
    if (!q.step()) return false;
    write_file_in_folder(local_file, q.blob(0));
    return true;
  }
  bool fetch_checkpoint(const std::string&, const std::string& local_file) override {
    std::error_code ec;
    return fs::exists(local_file, ec);
  }

 private:
  // Acts for the named study, or the only one; none yet is fine (put_study
  // or add_trial creates it), several without a name is an error.
  void bind_study() {
    if (!options_.study.empty()) {
      study_id_ = study_id_of(options_.study);
      return;
    }
    Stmt q(db_, "SELECT study_id, name FROM studies ORDER BY study_id");
    std::string names;
    int n = 0;
    while (q.step()) {
      study_id_ = q.integer(0);
      names += (n++ ? ", " : "") + std::string("'") + q.text(1) + "'";
    }
    if (n > 1)
      throw StoreError(db_.path() + ": holds " + std::to_string(n) + " studies (" + names +
                       "); name the one you mean");
  }

  // A store opened before its study existed finds it once another connection
  // has created it.
  void resolve() {
    if (study_id_ == 0) bind_study();
  }

  // Inside a transaction: a study to add trials to (`lrtune train` has no study file).
  void ensure_study() {
    if (study_id_ == 0) study_id_ = create_study(options_.study);
  }

  // The id of the study called `name`, 0 when there is none.
  std::int64_t study_id_of(const std::string& name) {
    Stmt q(db_, "SELECT study_id FROM studies WHERE name = ?");
    q.bind(1, name);
    return q.step() ? q.integer(0) : 0;
  }

  // Inside a transaction: the study called `name`, created when absent.
  std::int64_t create_study(const std::string& name) {
    const double t = clock();
    Stmt(db_, "INSERT OR IGNORE INTO studies (name, created_at, updated_at) VALUES (?, ?, ?)")
        .bind(1, name).bind(2, t).bind(3, t).run();
    return study_id_of(name);
  }

  double clock() {
    if (options_.clock) return options_.clock();
    Stmt q(db_, std::string("SELECT ") + sqlite::kSqlNow);
    q.step();
    return q.real(0);
  }

  std::int64_t trial_seq(const std::string& id) {
    Stmt q(db_, "SELECT seq FROM trials WHERE study_id = ? AND id = ?");
    q.bind(1, study_id_).bind(2, id);
    if (!q.step()) throw StoreError(db_.path() + ": no trial " + id + " in this study");
    return q.integer(0);
  }

  // Epoch writes of a worker that lost its lease are refused, not dropped:
  // the worker learns it must stop.
  void refuse_if_lost(const std::string& id, const std::string& what) {
    if (claims_.count(id) && !holds_locked(id))
      throw StoreError(db_.path() + ": trial " + id +
                       " was taken over by another worker; " + what);
  }

  bool holds_locked(const std::string& id) {
    auto it = claims_.find(id);
    if (it == claims_.end()) return false;
    Stmt q(db_, "SELECT 1 FROM trials WHERE study_id = ? AND id = ? AND status = 'running'"
                " AND lease = ?");
    q.bind(1, study_id_).bind(2, id).bind(3, it->second);
    return q.step();
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
    r.lease = q.integer(14);
    r.epochs_done = q.integer(15);
    return r;
  }

  static std::string epoch_columns() {
    std::string cols = "epoch";
    for (const auto& f : metric_fields()) cols += std::string(", ") + f.name;
    return cols;
  }

  // An epoch row whose columns (epoch_columns()) start at `first`.
  static EpochMetrics read_epoch(const Stmt& q, int first) {
    EpochMetrics m;
    m.epoch = q.integer(first);
    int col = first + 1;
    for (const auto& f : metric_fields()) m.*f.member = q.real(col++);
    return m;
  }

  // Inside a transaction: the study's trial_ids.
  std::vector<std::string> current_ids() {
    Stmt q(db_, "SELECT trial_ids FROM studies WHERE study_id = ?");
    q.bind(1, study_id_);
    if (!q.step()) return {};
    return sqlite::parse_string_list(q.text(0), "study trial list", db_);
  }

  // Inside a transaction: the trials `ids` with their epochs, in two queries.
  std::vector<TrialHistory> history_locked(const std::vector<std::string>& ids) {
    std::map<std::string, TrialHistory> all;
    Stmt t(db_, std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = ?");
    t.bind(1, study_id_);
    while (t.step()) {
      TrialRecord r = read_trial(t);
      all[r.spec.id].trial = std::move(r);
    }
    Stmt e(db_, "SELECT t.id, " + epoch_columns() + " FROM epochs JOIN trials t ON"
                " epochs.trial_seq = t.seq WHERE t.study_id = ? ORDER BY t.seq, epochs.epoch");
    e.bind(1, study_id_);
    while (e.step()) all[e.text(0)].epochs.push_back(read_epoch(e, 1));
    std::vector<TrialHistory> out;
    for (const auto& id : ids)
      if (auto it = all.find(id); it != all.end() && !it->second.trial.spec.id.empty())
        out.push_back(it->second);
    return out;
  }

  // Inside a transaction: the trial, unless its id is already in the study.
  void insert_trial(const TrialSpec& spec) {
    Stmt(db_, "INSERT OR IGNORE INTO trials (study_id, id, label, config, repeat_index,"
              " epochs_total, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, study_id_).bind(2, spec.id).bind(3, spec.label).bind(4, spec.config.dump())
        .bind(5, spec.repeat).bind(6, spec.epochs_total).bind(7, clock()).run();
  }

  std::optional<TrialRecord> find_trial(const std::string& id) {
    Stmt q(db_, std::string("SELECT ") + kTrialColumns +
                    " FROM trials WHERE study_id = ? AND id = ?");
    q.bind(1, study_id_).bind(2, id);
    if (!q.step()) return std::nullopt;
    return read_trial(q);
  }

  // Runs "UPDATE trials SET <set> WHERE <this trial>" -- only while this store
  // still holds the claim's lease if it claimed the trial. `bind` fills ?1..?9.
  // A claim is dropped only by a write that took effect: one that lost the
  // lease keeps it, so every later write of this worker stays fenced.
  template <typename Bind>
  void update_held(const std::string& id, const std::string& set, Bind bind, bool drop_claim) {
    auto it = claims_.find(id);
    std::string sql = "UPDATE trials SET " + set + " WHERE study_id = ?10 AND id = ?11";
    if (it != claims_.end()) sql += " AND status = 'running' AND lease = ?12";
    Stmt s(db_, sql);
    bind(s);
    s.bind(10, study_id_).bind(11, id);
    if (it != claims_.end()) s.bind(12, it->second);
    s.run();
    if (drop_claim && it != claims_.end() && db_.changes() > 0) claims_.erase(it);
  }

  std::mutex mu_;  // one connection, used by a worker and its heartbeat thread
  sqlite::Db db_;
  SqliteOptions options_;
  std::int64_t study_id_ = 0;              // 0: no study yet
  std::map<std::string, std::int64_t> claims_;  // trial id -> lease of our claim
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, SqliteOptions options) {
  return std::make_unique<SqliteStore>(path, std::move(options));
}

}  // namespace lrtune
