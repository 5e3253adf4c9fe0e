// The Store on PostgreSQL: one connection per object; claims lock a row with
// FOR UPDATE SKIP LOCKED; history() is one repeatable-read snapshot; a chooser
// runs with the study's row locked; checkpoints are bytea rows.
#include "store/postgres_store.h"

#include "core/files.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <unordered_map>
#include <mutex>
#include <thread>
#include <chrono>
#include <algorithm>
#include <cstdio>

#include "core/interrupt.h"
#include "store/postgres_db.h"

namespace lrtune {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Params = std::vector<std::string>;

const char* const kTrialColumns =
    "id, label, config, repeat_index, epochs_total, status, host, pid, started_at, ended_at, "
    "heartbeat_at, error, attempts, info, lease, "
    "(SELECT COUNT(*) FROM epochs e WHERE e.trial_seq = trials.seq)";

std::string epoch_columns(const std::string& prefix = "") {
  std::string cols = prefix + "epoch";
  for (const auto& f : metric_fields()) cols += ", " + prefix + f.name;
  return cols;
}

// An epoch row whose columns (epoch_columns()) start at `first`.
EpochMetrics read_epoch(const pqxx::row& row, int first) {
  EpochMetrics m;
  m.epoch = row[first].as<std::int64_t>();
  int col = first + 1;
  for (const auto& f : metric_fields()) m.*f.member = pg::read_real(row[col++]);
  return m;
}

// The default local folder: one per database and study under the temp dir.
fs::path default_local_dir(const std::string& db, const std::string& study) {
  std::string folder = study.empty() ? "default" : study;
  for (char& c : folder)
    if (c == '/' || c == '\\') c = '_';
  return fs::temp_directory_path() / "lrtune-pg" / db / folder;
}

// The studies registered in the database, by creation.
std::vector<std::string> study_names(pqxx::transaction_base& tx) {
  std::vector<std::string> names;
  for (const auto& row : tx.exec("SELECT name FROM studies WHERE declared ORDER BY study_id"))
    names.push_back(row[0].as<std::string>());
  return names;
}

class PostgresStore final : public Store {
 public:
  PostgresStore(const std::string& url, PostgresOptions options)
      : name_(pg::display_url(url)), url_(url), options_(std::move(options)) {
    first_connection();
    pg::guarded(name_, [&] {
      pg::open_schema(*conn_, name_, /*create=*/!options_.must_exist);
      pqxx::nontransaction tx(*conn_);
      bind_study(tx);
    });
    if (options_.must_exist && study_id_ == 0) refuse_missing_study();
    local_dir_ = options_.local_dir.empty()
                     ? default_local_dir(conn_->dbname(), options_.study)
                     : fs::path(options_.local_dir);
  }

  void put_study(const StudyInfo& info) override {
    locked([&] {
      pqxx::work tx(*conn_);
      const double t = clock(tx);
      const std::int64_t study = study_id_ ? study_id_ : create_study(tx, info.name);
      tx.exec_params("UPDATE studies SET name = $1, description = $2, spec = $3, trial_ids = $4,"
                     " declared = true, updated_at = $5 WHERE study_id = $6",
                     info.name, info.description, info.spec.dump(), json(info.trial_ids).dump(),
                     pg::real(t), study);
      tx.commit();
      study_id_ = study;
    });
  }

  std::optional<StudyInfo> study() override {
    return locked([&]() -> std::optional<StudyInfo> {
      pqxx::nontransaction tx(*conn_);
      const pqxx::result r = tx.exec_params(
          "SELECT name, description, spec, trial_ids FROM studies"
          " WHERE study_id = $1 AND declared", study_id_);
      if (r.empty()) return std::nullopt;
      StudyInfo info{r[0][0].as<std::string>(), r[0][1].as<std::string>(),
                     parse_json(r[0][2].as<std::string>(), "study spec"), {}};
      info.trial_ids = parse_ids(r[0][3].as<std::string>());
      return info;
    });
  }

  void add_trial(const TrialSpec& spec) override {
    locked([&] {
      pqxx::work tx(*conn_);
      // `lrtune train` adds a trial without any study file: the study is made here.
      const std::int64_t study = study_id_ ? study_id_ : create_study(tx, options_.study);
      insert_trial(tx, study, spec);
      tx.commit();
      study_id_ = study;
    });
  }

  std::vector<TrialRecord> trials() override {
    return locked([&] {
      pqxx::nontransaction tx(*conn_);
      std::vector<TrialRecord> out;
      for (const auto& row : tx.exec_params(std::string("SELECT ") + kTrialColumns +
                                                " FROM trials WHERE study_id = $1 ORDER BY seq",
                                            study_id_))
        out.push_back(read_trial(row));
      return out;
    });
  }

  std::optional<TrialRecord> trial(const std::string& id) override {
    return locked([&] {
      pqxx::nontransaction tx(*conn_);
      return find_trial(tx, id);
    });
  }

  std::vector<TrialHistory> history() override {
    return locked([&] {
      pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(*conn_);
      auto out = history_in(tx, current_ids(tx));
      tx.commit();
      return out;
    });
  }

  std::optional<TrialSpec> add_trial_with(const TrialChooser& choose) override {
    return locked([&]() -> std::optional<TrialSpec> {
      pqxx::work tx(*conn_);
      // The study's row lock serializes choosers: the next one reads this one's trial.
      const pqxx::result s = tx.exec_params(
          "SELECT trial_ids FROM studies WHERE study_id = $1 FOR UPDATE", study_id_);
      if (s.empty()) throw StoreError(name_ + ": no study to add a trial to");
      std::vector<std::string> ids = parse_ids(s[0][0].as<std::string>());
      std::optional<TrialSpec> spec = choose(history_in(tx, ids));
      if (!spec) return std::nullopt;
      if (find_trial(tx, spec->id))
        throw StoreError(name_ + ": trial " + spec->id + " is already in the study");
      insert_trial(tx, study_id_, *spec);
      ids.push_back(spec->id);
      tx.exec_params("UPDATE studies SET trial_ids = $1, updated_at = $2 WHERE study_id = $3",
                     json(ids).dump(), pg::real(clock(tx)), study_id_);
      tx.commit();
      return spec;
    });
  }

  std::optional<TrialRecord> claim_trial(const std::vector<std::string>& ids,
                                         const std::string& host, std::int64_t pid,
                                         double stale_after_s) override {
    return locked([&]() -> std::optional<TrialRecord> {
      pqxx::work tx(*conn_);
      const std::string t = pg::real(clock(tx));
      // Rows another worker is claiming right now are skipped, not waited for;
      // a row changed meanwhile is checked again against the condition.
      const std::optional<std::int64_t> seq = lock_first_claimable(tx, ids, t, stale_after_s);
      if (!seq) return std::nullopt;
      tx.exec_params("UPDATE trials SET status = 'running', host = $1, pid = $2, heartbeat_at = $3,"
                     " started_at = CASE WHEN started_at = 0 THEN $3 ELSE started_at END,"
                     " ended_at = 0, error = '', attempts = attempts + 1, lease = lease + 1"
                     " WHERE seq = $4",
                     host, pid, t, *seq);
      auto record = find_trial(tx, *seq);
      tx.commit();
      claims_[record->spec.id] = record->lease;
      return record;
    });
  }

  void heartbeat(const std::string& id) override {
    locked([&] {
      pqxx::work tx(*conn_);
      update_held(tx, id, "heartbeat_at = $1", {pg::real(clock(tx))});
      tx.commit();
    });
  }

  void finish_trial(const std::string& id, RunStatus status, const std::string& error) override {
    locked([&] {
      pqxx::work tx(*conn_);
      const bool done = update_held(tx, id, "status = $1, error = $2, ended_at = $3, heartbeat_at = $3",
                                    {to_string(status), error, pg::real(clock(tx))});
      tx.commit();
      if (done) claims_.erase(id);
    });
  }

  void release_trial(const std::string& id) override {
    locked([&] {
      pqxx::work tx(*conn_);
      const bool done = update_held(tx, id, "status = 'pending'", {});
      tx.commit();
      if (done) claims_.erase(id);
    });
  }

  bool holds(const std::string& id) override {
    return locked([&] {
      pqxx::nontransaction tx(*conn_);
      return holds_in(tx, id, "");
    });
  }

  bool release_orphan(const std::string& id, const std::string& host, std::int64_t pid) override {
    return locked([&] {
      pqxx::nontransaction tx(*conn_);
      return tx.exec_params("UPDATE trials SET status = 'pending' WHERE study_id = $1 AND id = $2"
                            " AND status = 'running' AND host = $3 AND pid = $4",
                            study_id_, id, host, pid).affected_rows() > 0;
    });
  }

  int retry_failed(const std::vector<std::string>& ids) override {
    return locked([&] {
      pqxx::nontransaction tx(*conn_);
      return static_cast<int>(
          tx.exec_params("UPDATE trials SET status = 'pending', error = '' WHERE study_id = $1"
                         " AND id = ANY($2::text[]) AND status = 'failed'",
                         study_id_, pg::text_array(ids)).affected_rows());
    });
  }

  void set_trial_info(const std::string& id, const json& info) override {
    locked([&] {
      pqxx::nontransaction tx(*conn_);
      tx.exec_params("UPDATE trials SET info = $1 WHERE study_id = $2 AND id = $3", info.dump(),
                     study_id_, id);
    });
  }

  void put_epoch(const std::string& id, const EpochMetrics& m) override {
    locked([&] {
      pqxx::work tx(*conn_);
      refuse_if_lost(tx, id, "this worker's epoch " + std::to_string(m.epoch) + " is not recorded");
      Params params{std::to_string(trial_seq(tx, id)), std::to_string(m.epoch)};
      std::string marks = "$1, $2", updates;
      for (const auto& f : metric_fields()) {
        params.push_back(pg::real(m.*f.member));
        marks += ", $" + std::to_string(params.size());
        updates += (updates.empty() ? "" : ", ") + std::string(f.name) + " = EXCLUDED." + f.name;
      }
      tx.exec_params("INSERT INTO epochs (trial_seq, " + epoch_columns() + ") VALUES (" + marks +
                         ") ON CONFLICT (trial_seq, epoch) DO UPDATE SET " + updates,
                     pqxx::prepare::make_dynamic_params(params));
      tx.commit();
    });
  }

  void truncate_epochs(const std::string& id, std::int64_t last_epoch) override {
    locked([&] {
      pqxx::work tx(*conn_);
      refuse_if_lost(tx, id, "its epochs after " + std::to_string(last_epoch) + " are not deleted");
      tx.exec_params("DELETE FROM epochs WHERE trial_seq = (SELECT seq FROM trials"
                     " WHERE study_id = $1 AND id = $2) AND epoch > $3",
                     study_id_, id, last_epoch);
      tx.commit();
    });
  }

  std::vector<EpochMetrics> epochs(const std::string& id) override {
    return locked([&] {
      pqxx::nontransaction tx(*conn_);
      std::vector<EpochMetrics> out;
      for (const auto& row : tx.exec_params(
               "SELECT " + epoch_columns() + " FROM epochs WHERE trial_seq = (SELECT seq"
               " FROM trials WHERE study_id = $1 AND id = $2) ORDER BY epoch", study_id_, id))
        out.push_back(read_epoch(row, 0));
      return out;
    });
  }

  double now() override {
    return locked([&] {
      pqxx::nontransaction tx(*conn_);
      return clock(tx);
    });
  }

  std::string trial_dir(const std::string& id) override {
    return (local_dir_ / "trials" / id).string();
  }

  // Copies the file into the database: the worker that resumes the trial
  // may be on another host. Refused, like epochs, once the lease is lost.
  void save_checkpoint(const std::string& id, const std::string& local_file) override {
    std::ifstream in(local_file, std::ios::binary);
    if (!in) throw StoreError(name_ + ": cannot open checkpoint " + local_file + " to save it");
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    if (in.bad()) throw StoreError(name_ + ": cannot read checkpoint " + local_file);
    locked([&] {
      pqxx::work tx(*conn_);
      refuse_if_lost(tx, id, "its checkpoint is not saved");
      tx.exec_params("INSERT INTO checkpoints (trial_seq, data, saved_at) VALUES ($1, $2, $3)"
                     " ON CONFLICT (trial_seq) DO UPDATE SET data = EXCLUDED.data,"
                     " saved_at = EXCLUDED.saved_at",
                     trial_seq(tx, id), pqxx::binarystring(bytes), pg::real(clock(tx)));
      tx.commit();
    });
  }

  void put_file(const std::string& hash, const std::string& local_file) override {
    const std::string bytes = read_file_bytes(local_file);
    locked([&] {
      pqxx::work tx(*conn_);
      tx.exec_params("INSERT INTO files (hash, data) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING", hash,
                     pqxx::binarystring(bytes));
      tx.commit();
    });
  }

  std::vector<std::string> file_hashes() override {
    return locked([&] {
      pqxx::nontransaction tx(*conn_);
      std::vector<std::string> out;
      for (const auto& row : tx.exec("SELECT hash FROM files ORDER BY hash")) out.push_back(row[0].as<std::string>());
      return out;
    });
  }

  bool fetch_file(const std::string& hash, const std::string& local_file) override {
    std::string bytes;
    const bool found = locked([&] {
      pqxx::nontransaction tx(*conn_);
      const pqxx::result r = tx.exec_params("SELECT data FROM files WHERE hash = $1", hash);
      if (r.empty()) return false;
      bytes = pqxx::binarystring(r[0][0]).str();
      return true;
    });
    if (found) write_file_in_folder(local_file, bytes);
    return found;
  }

  bool fetch_checkpoint(const std::string& id, const std::string& local_file) override {
    std::string bytes;
    const bool found = locked([&] {
      pqxx::nontransaction tx(*conn_);
      const pqxx::result r = tx.exec_params(
          "SELECT c.data FROM checkpoints c JOIN trials t ON c.trial_seq = t.seq"
          " WHERE t.study_id = $1 AND t.id = $2", study_id_, id);
      if (r.empty()) return false;
      bytes = pqxx::binarystring(r[0][0]).str();
      return true;
    });
    // Without one in the database, a local file is a leftover of a run that
    // lost the trial (its epochs were refused): it must not be resumed from.
    std::error_code ec;
    if (found) write_file_in_folder(local_file, bytes);
    else fs::remove(local_file, ec);
    return found;
  }

 private:
  // In a claim's transaction: locks and returns the first trial of `ids`, in
  // their order, that is pending or running with a heartbeat older than
  // `stale_after_s` at time `t`, skipping rows another worker is claiming
  // (FOR UPDATE SKIP LOCKED) instead of waiting. The open trials are read
  // through the partial index trials_open and ordered here: a finished trial
  // costs nothing, and a claim stays linear in the open ones however large
  // the study (a join with the id list, or array_position per row, did not).
  std::optional<std::int64_t> lock_first_claimable(pqxx::transaction_base& tx,
                                                   const std::vector<std::string>& ids,
                                                   const std::string& t, double stale_after_s) {
    const std::string claimable =
        "status IN ('pending', 'running') AND"
        " (status = 'pending' OR $2::float8 - heartbeat_at > $3::float8)";
    const std::string stale = pg::real(stale_after_s);
    std::unordered_map<std::string, std::size_t> rank;
    for (std::size_t i = 0; i < ids.size(); ++i) rank.emplace(ids[i], i);
    std::vector<std::pair<std::size_t, std::int64_t>> order;  // (rank, seq)
    for (const auto& row : tx.exec_params("SELECT id, seq FROM trials WHERE study_id = $1 AND " +
                                              claimable, study_id_, t, stale))
      if (auto it = rank.find(row[0].as<std::string>()); it != rank.end())
        order.emplace_back(it->second, row[1].as<std::int64_t>());
    std::sort(order.begin(), order.end());
    // Another worker may have taken a row since the read: its lock is skipped,
    // its committed change fails the condition, checked again on the row.
    for (const auto& [unused, seq] : order)
      if (!tx.exec_params("SELECT 1 FROM trials WHERE seq = $1 AND " + claimable +
                              " FOR UPDATE SKIP LOCKED", seq, t, stale).empty())
        return seq;
    return std::nullopt;
  }

  // Runs `f` holding the connection, with the study resolved; libpqxx's
  // exceptions become StoreError naming the database. A lost connection is
  // opened again and `f` run again: every operation is one transaction, so a
  // lost one left nothing behind, and one whose commit is in doubt is safe to
  // redo (epochs are replaced, a duplicate claim only waits out its lease).
  template <typename F>
  auto locked(F&& f) -> decltype(f()) {
    for (;;) {
      double wait_s = 0;
      {
        std::lock_guard lock(mu_);
        try {
          return pg::guarded(name_, [&]() -> decltype(f()) {
            if (!conn_) reconnect();
            if (study_id_ == 0) {
              pqxx::nontransaction tx(*conn_);
              bind_study(tx);
            }
            return f();
          });
        } catch (const pg::ConnectionLost& e) {
          wait_s = next_wait(e.what());
        }
      }
      // Waited without the lock: another thread of this worker (its heartbeat,
      // its training loop) must never block behind a wait it cannot end.
      wait_unless_stopped(wait_s);
    }
  }

  // A server that is full or restarting is waited for, as after a loss; one
  // that cannot be reached (a wrong host, port or password) is an error now.
  void first_connection() {
    for (;;) {
      try {
        conn_ = pg::connect(url_);
        if (lost_since_ >= 0)
          say(name_ + ": connected to PostgreSQL after " + seconds_text(lost_for()) + "s");
        lost_since_ = -1;
        return;
      } catch (const pg::ConnectionLost& e) {
        wait_unless_stopped(next_wait(e.what()));
      }
    }
  }

  // Opens a new connection; a failure is ConnectionLost, to be retried,
  // unless the server refused it for good (the database or role was dropped,
  // the password changed): that ends the wait at once.
  void reconnect() {
    try {
      conn_ = pg::connect(url_);
    } catch (const pg::ConnectionRefused&) {
      throw;
    } catch (const pg::ConnectionLost&) {
      throw;
    } catch (const StoreError& e) {
      throw pg::ConnectionLost(e.what());
    }
    say(name_ + ": connected to PostgreSQL again after " + seconds_text(lost_for()) + "s");
    lost_since_ = -1;
  }

  // Backoff after a lost connection: 0.1 s, doubling to 5 s, for up to
  // options_.retry_for_s in all; then StoreUnavailableError with the last
  // reason. The seconds to wait before trying again; called with mu_ held.
  double next_wait(const std::string& why) {
    conn_.reset();
    if (lost_since_ < 0) {
      lost_since_ = steady_seconds();
      backoff_s_ = 0.1;
      say(why + "; reconnecting for up to " + seconds_text(options_.retry_for_s) + "s");
    }
    if (lost_for() + backoff_s_ > options_.retry_for_s) {
      lost_since_ = -1;
      throw StoreUnavailableError(why + "; no connection again within " +
                       seconds_text(options_.retry_for_s) + "s (--store-retry)");
    }
    const double wait_s = backoff_s_;
    backoff_s_ = std::min(backoff_s_ * 2, 5.0);
    return wait_s;
  }

  // Sleeps `seconds` in steps of 50 ms, ending with StoreUnavailableError as
  // soon as a stop is asked for (Ctrl-C, SIGTERM, a dying coordinator).
  void wait_unless_stopped(double seconds) const {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point until =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (;;) {
      if (options_.stop ? options_.stop() : interrupted())
        throw StoreUnavailableError(name_ + ": stopped while waiting for PostgreSQL to answer");
      const Clock::time_point now = Clock::now();
      if (now >= until) return;
      const Clock::duration step = std::chrono::milliseconds(50);
      std::this_thread::sleep_for(std::min(until - now, step));
    }
  }

  double lost_for() const { return lost_since_ < 0 ? 0 : steady_seconds() - lost_since_; }

  static double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  static std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", s);
    return buf;
  }

  void say(const std::string& line) const {
    if (options_.log) options_.log(line);
    else std::fprintf(stderr, "lrtune: %s\n", line.c_str());
  }

  // The named study is not here (or, unnamed, no study is): one line with
  // the studies there are.
  [[noreturn]] void refuse_missing_study() {
    std::string names;
    pqxx::nontransaction tx(*conn_);
    for (const auto& study : study_names(tx)) names += (names.empty() ? "'" : ", '") + study + "'";
    throw StoreError(name_ + ": " +
                     (options_.study.empty() ? std::string("holds no study")
                                             : "has no study named '" + options_.study + "'") +
                     (names.empty() ? std::string(" (it holds none)")
                                    : " (its studies: " + names + ")"));
  }

  // Acts for the named study, or the only one; none yet is fine (put_study
  // or add_trial creates it), several without a name is an error.
  void bind_study(pqxx::transaction_base& tx) {
    if (!options_.study.empty()) {
      study_id_ = study_id_of(tx, options_.study);
      return;
    }
    const pqxx::result r = tx.exec("SELECT study_id, name FROM studies ORDER BY study_id");
    if (r.size() == 1) study_id_ = r[0][0].as<std::int64_t>();
    if (r.size() <= 1) return;
    std::string names;
    for (const auto& row : r) names += (names.empty() ? "'" : ", '") + row[1].as<std::string>() + "'";
    throw StoreError(name_ + ": holds " + std::to_string(r.size()) + " studies (" + names +
                     "); name the one you mean");
  }

  std::int64_t study_id_of(pqxx::transaction_base& tx, const std::string& name) {
    const pqxx::result r = tx.exec_params("SELECT study_id FROM studies WHERE name = $1", name);
    return r.empty() ? 0 : r[0][0].as<std::int64_t>();
  }

  // Inside a transaction: the study called `name`, created when absent.
  std::int64_t create_study(pqxx::transaction_base& tx, const std::string& name) {
    const std::string t = pg::real(clock(tx));
    tx.exec_params("INSERT INTO studies (name, created_at, updated_at) VALUES ($1, $2, $2)"
                   " ON CONFLICT (name) DO NOTHING", name, t);
    return study_id_of(tx, name);
  }

  double clock(pqxx::transaction_base& tx) {
    if (options_.clock) return options_.clock();
    return pg::read_real(tx.exec("SELECT extract(epoch FROM clock_timestamp())::float8")[0][0]);
  }

  json parse_json(const std::string& text, const std::string& what) const {
    try {
      return json::parse(text);
    } catch (const json::exception& e) {
      throw StoreError(name_ + ": corrupt " + what + " (" + e.what() + ")");
    }
  }

  std::vector<std::string> parse_ids(const std::string& text) const {
    const json list = parse_json(text, "study trial list");
    std::vector<std::string> out;
    if (list.is_array())
      for (const auto& item : list)
        if (item.is_string()) out.push_back(item.get<std::string>());
    if (!list.is_array() || out.size() != list.size())
      throw StoreError(name_ + ": corrupt study trial list (not a list of trial ids)");
    return out;
  }

  std::vector<std::string> current_ids(pqxx::transaction_base& tx) {
    const pqxx::result r =
        tx.exec_params("SELECT trial_ids FROM studies WHERE study_id = $1", study_id_);
    return r.empty() ? std::vector<std::string>{} : parse_ids(r[0][0].as<std::string>());
  }

  std::int64_t trial_seq(pqxx::transaction_base& tx, const std::string& id) {
    const pqxx::result r =
        tx.exec_params("SELECT seq FROM trials WHERE study_id = $1 AND id = $2", study_id_, id);
    if (r.empty()) throw StoreError(name_ + ": no trial " + id + " in this study");
    return r[0][0].as<std::int64_t>();
  }

  // Whether this object's claim of `id` still holds; `lock` ("FOR SHARE")
  // keeps a takeover out until the transaction ends.
  bool holds_in(pqxx::transaction_base& tx, const std::string& id, const std::string& lock) {
    auto it = claims_.find(id);
    if (it == claims_.end()) return false;
    return !tx.exec_params("SELECT 1 FROM trials WHERE study_id = $1 AND id = $2"
                           " AND status = 'running' AND lease = $3 " + lock,
                           study_id_, id, it->second).empty();
  }

  // Writes of a worker that lost its lease are refused, not dropped: the
  // worker learns it must stop.
  void refuse_if_lost(pqxx::transaction_base& tx, const std::string& id, const std::string& what) {
    if (claims_.count(id) && !holds_in(tx, id, "FOR SHARE"))
      throw StoreError(name_ + ": trial " + id + " was taken over by another worker; " + what);
  }

  // "UPDATE trials SET <set>" for this trial -- only while this object still
  // holds the claim's lease if it claimed the trial. `params` fill $1..$n of
  // `set`. Whether a row changed: a write that lost the lease keeps the claim,
  // so every later write of this worker stays fenced.
  bool update_held(pqxx::transaction_base& tx, const std::string& id, const std::string& set,
                   Params params) {
    auto next = [&](std::string value) {
      params.push_back(std::move(value));
      return "$" + std::to_string(params.size());
    };
    std::string sql = "UPDATE trials SET " + set;
    sql += " WHERE study_id = " + next(std::to_string(study_id_));
    sql += " AND id = " + next(id);
    if (auto it = claims_.find(id); it != claims_.end())
      sql += " AND status = 'running' AND lease = " + next(std::to_string(it->second));
    return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params)).affected_rows() > 0;
  }

  TrialRecord read_trial(const pqxx::row& q) const {
    TrialRecord r;
    r.spec.id = q[0].as<std::string>();
    r.spec.label = q[1].as<std::string>();
    r.spec.config = parse_json(q[2].as<std::string>(), "config of trial " + r.spec.id);
    r.spec.repeat = q[3].as<std::int64_t>();
    r.spec.epochs_total = q[4].as<std::int64_t>();
    r.status = run_status_from_string(q[5].as<std::string>());
    r.host = q[6].as<std::string>();
    r.pid = q[7].as<std::int64_t>();
    r.started_at = pg::read_real(q[8]);
    r.ended_at = pg::read_real(q[9]);
    r.heartbeat_at = pg::read_real(q[10]);
    r.error = q[11].as<std::string>();
    r.attempts = q[12].as<std::int64_t>();
    r.info = parse_json(q[13].as<std::string>(), "info of trial " + r.spec.id);
    r.lease = q[14].as<std::int64_t>();
    r.epochs_done = q[15].as<std::int64_t>();
    return r;
  }

  std::optional<TrialRecord> find_trial(pqxx::transaction_base& tx, const std::string& id) {
    const pqxx::result r = tx.exec_params(std::string("SELECT ") + kTrialColumns +
                                          " FROM trials WHERE study_id = $1 AND id = $2",
                                          study_id_, id);
    if (r.empty()) return std::nullopt;
    return read_trial(r[0]);
  }

  std::optional<TrialRecord> find_trial(pqxx::transaction_base& tx, std::int64_t seq) {
    const pqxx::result r = tx.exec_params(
        std::string("SELECT ") + kTrialColumns + " FROM trials WHERE seq = $1", seq);
    if (r.empty()) return std::nullopt;
    return read_trial(r[0]);
  }

  // The trials `ids` of the study with their epochs, in two queries.
  std::vector<TrialHistory> history_in(pqxx::transaction_base& tx,
                                       const std::vector<std::string>& ids) {
    std::map<std::string, TrialHistory> all;
    const std::string wanted = pg::text_array(ids);
    for (const auto& row : tx.exec_params(std::string("SELECT ") + kTrialColumns +
                                              " FROM trials WHERE study_id = $1"
                                              " AND id = ANY($2::text[])",
                                          study_id_, wanted)) {
      TrialRecord r = read_trial(row);
      all[r.spec.id].trial = std::move(r);
    }
    for (const auto& row : tx.exec_params(
             "SELECT t.id, " + epoch_columns("e.") + " FROM epochs e JOIN trials t ON"
             " e.trial_seq = t.seq WHERE t.study_id = $1 AND t.id = ANY($2::text[])"
             " ORDER BY t.seq, e.epoch", study_id_, wanted))
      all[row[0].as<std::string>()].epochs.push_back(read_epoch(row, 1));
    std::vector<TrialHistory> out;
    for (const auto& id : ids)
      if (auto it = all.find(id); it != all.end() && !it->second.trial.spec.id.empty())
        out.push_back(it->second);
    return out;
  }

  // The trial, unless its id is already in the study.
  void insert_trial(pqxx::transaction_base& tx, std::int64_t study, const TrialSpec& spec) {
    tx.exec_params("INSERT INTO trials (study_id, id, label, config, repeat_index, epochs_total,"
                   " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                   " ON CONFLICT (study_id, id) DO NOTHING",
                   study, spec.id, spec.label, spec.config.dump(), spec.repeat, spec.epochs_total,
                   pg::real(clock(tx)));
  }

  std::mutex mu_;  // one connection, used by a worker and its heartbeat thread
  std::string name_;
  std::string url_;
  std::unique_ptr<pqxx::connection> conn_;  // null after a loss until reconnected
  double lost_since_ = -1;                  // steady seconds of the loss; -1 = connected
  double backoff_s_ = 0.1;
  PostgresOptions options_;
  fs::path local_dir_;
  std::int64_t study_id_ = 0;                   // 0: no study yet
  std::map<std::string, std::int64_t> claims_;  // trial id -> lease of our claim
};

}  // namespace

std::unique_ptr<Store> open_postgres_store(const std::string& url, PostgresOptions options) {
  return std::make_unique<PostgresStore>(url, std::move(options));
}

std::string postgres_display_url(const std::string& url) { return pg::display_url(url); }

std::vector<std::string> postgres_studies(const std::string& url) {
  const std::string name = pg::display_url(url);
  auto conn = pg::connect(url);
  return pg::guarded(name, [&] {
    pg::open_schema(*conn, name, /*create=*/false);
    pqxx::nontransaction tx(*conn);
    return study_names(tx);
  });
}

}  // namespace lrtune
