// Where results live: studies, their trials and every epoch's metrics.
// Code above this layer (study runner, reports, `lrtune train`) talks only to
// this interface, so a network database can replace SQLite without changes there.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/metrics.h"

namespace lrtune {

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
  std::string id;          // hash of the canonical configuration
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
  double started_at = 0;       // unix seconds; 0 = never
  double ended_at = 0;
  double heartbeat_at = 0;
  std::string error;           // message of a failed trial
  std::int64_t epochs_done = 0;  // rows in the epoch table
  std::int64_t attempts = 0;     // times the trial was claimed (1 = never resumed)
  nlohmann::json info;           // provenance of the last run: versions, device, threads
};

// A Store object acts for the process that opened it: once it has claimed a
// trial, its heartbeat, finish and release of that trial take effect only while
// it still holds it (a stale heartbeat may have let another worker take over).
// Writes to trials it did not claim are unconditional.
class Store {
 public:
  virtual ~Store() = default;

  virtual void put_study(const StudyInfo& info) = 0;
  virtual std::optional<StudyInfo> study() = 0;

  // Adds the trial if its id is new; an existing trial is left untouched.
  virtual void add_trial(const TrialSpec& spec) = 0;
  virtual std::vector<TrialRecord> trials() = 0;
  virtual std::optional<TrialRecord> trial(const std::string& id) = 0;

  // Atomically takes one trial among `ids` that is pending, or running with a
  // heartbeat older than `stale_after_s`; marks it running for (host, pid).
  // Trials are taken in the order of `ids`.
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

  // Inserts or replaces the row (trial, epoch): redoing an epoch never duplicates it.
  virtual void put_epoch(const std::string& id, const EpochMetrics& m) = 0;
  // Deletes rows after `last_epoch` (used on resume from an older checkpoint).
  virtual void truncate_epochs(const std::string& id, std::int64_t last_epoch) = 0;
  virtual std::vector<EpochMetrics> epochs(const std::string& id) = 0;
};

// SQLite in WAL mode with a busy timeout; creates the file and schema if absent
// and refuses a database whose schema version it does not know.
std::unique_ptr<Store> open_sqlite_store(const std::string& path);

}  // namespace lrtune
