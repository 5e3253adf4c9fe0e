// Where results live: studies, their trials and every epoch's metrics, and the
// trials' checkpoints. Code above this layer (study runner, reports, `lrtune
// train`) talks only to this interface, so another database can replace
// SQLite without changes there. One database holds many studies; a Store
// object acts for one of them (Optuna's storage + study id).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/metrics.h"

namespace lrtune {

// The schema version this lrtune writes; every database records its own.
// 3 added the files table (a TorchScript model's bytes, by content hash).
constexpr int kStoreSchemaVersion = 3;

struct StudyInfo {
  std::string name;
  std::string description;
  nlohmann::json spec;  // the study file as JSON (for provenance and reports)
  // The trials of the study file as last run, in file order. Older trials stay
  // in the store (a changed base configuration gives new ids) but are not shown.
  std::vector<std::string> trial_ids;
};

// What a trial is: fixed when the trial is added.
struct TrialSpec {
  std::string id;          // hash of the canonical configuration (study/identity)
  std::string label;       // readable swept values, e.g. "lr=0.1"
  nlohmann::json config;   // full resolved TrainConfig as JSON
  std::int64_t repeat = 0; // repeat index (0-based) when a point runs with several seeds
  std::int64_t epochs_total = 0;
};

// What a trial is doing: changes as it runs.
struct TrialRecord {
  TrialSpec spec;
  RunStatus status = RunStatus::pending;
  std::string host;            // machine of the worker that holds or held it
  std::int64_t pid = 0;        // process of that worker
  double started_at = 0;       // unix seconds by the store's clock; 0 = never
  double ended_at = 0;
  double heartbeat_at = 0;
  std::string error;           // message of a failed trial
  std::int64_t epochs_done = 0;  // rows in the epoch table
  std::int64_t attempts = 0;     // times the trial was claimed (1 = never resumed)
  std::int64_t lease = 0;        // bumped by every claim: the holder's fencing token
  nlohmann::json info;           // provenance of the last run: versions, device, threads ({} if none)
};

// A trial with its epochs: what samplers and pruners decide from.
struct TrialHistory {
  TrialRecord trial;
  std::vector<EpochMetrics> epochs;  // by epoch
};

// Chooses the trial to add from the study's history (a sampler), or none.
using TrialChooser =
    std::function<std::optional<TrialSpec>(const std::vector<TrialHistory>& history)>;

// A Store object acts for the process that opened it: once it has claimed a
// trial, its heartbeat, finish, release and epoch writes for that trial take
// effect only while it still holds the claim's lease (a stale heartbeat may
// have let another worker take over); a write refused so leaves the claim as
// it was, so later ones are refused too. Writes to trials it did not claim
// are unconditional. Times (claims, heartbeats, staleness) are the store's
// clock, never the client's.
class Store {
 public:
  virtual ~Store() = default;

  // Creates the study or updates it (a study file changed between runs).
  virtual void put_study(const StudyInfo& info) = 0;
  virtual std::optional<StudyInfo> study() = 0;

  // Adds the trial if its id is new in this study; an existing one is left
  // untouched. Trials may be added while workers run.
  virtual void add_trial(const TrialSpec& spec) = 0;
  virtual std::vector<TrialRecord> trials() = 0;  // in the order they were added
  virtual std::optional<TrialRecord> trial(const std::string& id) = 0;

  // The study's current trials (StudyInfo::trial_ids, in that order) with
  // their epochs, read in one transaction: a consistent view while workers write.
  virtual std::vector<TrialHistory> history() = 0;
  // Adds a trial chosen from the history, atomically: inside one write
  // transaction that no other store object interleaves with, `choose` sees
  // history() and returns the trial to add (nullopt: none). The trial is
  // added and its id appended to the study's trial_ids, so two workers never
  // choose from the same history. Returns the trial added. StoreError when
  // the study does not exist or the id is already in it (nothing is added).
  virtual std::optional<TrialSpec> add_trial_with(const TrialChooser& choose) = 0;

  // Atomically takes one trial among `ids` that is pending, or running with a
  // heartbeat older than `stale_after_s`; marks it running for (host, pid)
  // with a new lease. Trials are taken in the order of `ids`.
  virtual std::optional<TrialRecord> claim_trial(const std::vector<std::string>& ids,
                                                 const std::string& host, std::int64_t pid,
                                                 double stale_after_s) = 0;
  virtual void heartbeat(const std::string& id) = 0;
  virtual void finish_trial(const std::string& id, RunStatus status,
                            const std::string& error = "") = 0;
  // Gives a running trial back (pending) after a clean stop, keeping its epochs.
  virtual void release_trial(const std::string& id) = 0;

  // Whether this store object still holds `id`, a trial it claimed: false once
  // another worker took it over after a stale heartbeat.
  virtual bool holds(const std::string& id) = 0;
  // Gives back a trial still held by (host, pid), a worker known to be dead;
  // false when it is not (finished, or someone else holds it now).
  virtual bool release_orphan(const std::string& id, const std::string& host, std::int64_t pid) = 0;
  // Makes failed trials among `ids` pending again (a rerun retries them);
  // returns how many.
  virtual int retry_failed(const std::vector<std::string>& ids) = 0;
  // Provenance of the current run of a trial (replaces the previous one).
  virtual void set_trial_info(const std::string& id, const nlohmann::json& info) = 0;

  // Inserts or replaces the row (trial, epoch): redoing an epoch never
  // duplicates it. Refused (StoreError) for a trial this object claimed and
  // no longer holds, and for a trial not in the study. Every field comes back
  // as it went in, non-finite ones too: a NaN (the loss of a diverged epoch)
  // as NaN, an infinity as the same infinity.
  virtual void put_epoch(const std::string& id, const EpochMetrics& m) = 0;
  // Deletes rows after `last_epoch` (used on resume from an older checkpoint).
  // Refused (StoreError), deleting nothing, for a trial this object claimed and
  // no longer holds.
  virtual void truncate_epochs(const std::string& id, std::int64_t last_epoch) = 0;
  virtual std::vector<EpochMetrics> epochs(const std::string& id) = 0;  // by epoch

  // The store's clock, unix seconds: what leases and staleness are judged by.
  virtual double now() = 0;

  // Checkpoints. A worker trains into a local folder of the trial; a store
  // whose hosts share no filesystem copies checkpoints in and out.
  // trial_dir: the local folder for the trial's files (SQLite: beside the database).
  virtual std::string trial_dir(const std::string& id) = 0;
  // After a checkpoint was written to `local_file` (SQLite: nothing to do).
  virtual void save_checkpoint(const std::string& id, const std::string& local_file) = 0;
  // Before resuming: makes the last saved checkpoint available at
  // `local_file`; false when the trial has none.
  virtual bool fetch_checkpoint(const std::string& id, const std::string& local_file) = 0;

  // Files that trials train from besides their data (a TorchScript model
  // file), kept in the database under their content hash, so that a worker on
  // any host trains exactly the bytes the trial was made with. Keeping a hash
  // already kept does nothing.
  virtual void put_file(const std::string& hash, const std::string& local_file) = 0;
  // Writes the file kept under `hash` to `local_file` (atomically); false when none is.
  virtual bool fetch_file(const std::string& hash, const std::string& local_file) = 0;
  // The hashes of every kept file, sorted.
  virtual std::vector<std::string> file_hashes() = 0;
};

struct SqliteOptions {
  // The study this object acts for: "" = the only study in the file (or, in
  // a new file, the one the first put_study creates).
  std::string study;
  // The clock leases are judged by; empty = SQLite's own (the database
  // machine's). Tests inject a manual clock.
  std::function<double()> clock;
  // A run folder (`lrtune train`): its one trial's files (checkpoint.pt,
  // config.json) lie beside the database, not under trials/<id>/.
  bool run_folder = false;
};

// SQLite in WAL mode with a busy timeout; creates the file and schema if
// absent, migrates a database of an older lrtune (0.1: schema 1), and refuses
// one whose schema is newer than this lrtune's, in one line.
std::unique_ptr<Store> open_sqlite_store(const std::string& path, SqliteOptions options = {});

}  // namespace lrtune
