// A study run below the command line: registering a study file's trials in
// the study's store, and starting and running the worker processes that
// train them (`lrtune study run` and `lrtune study worker`).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"
#include "study/expand.h"
#include "study/study_file.h"

namespace lrtune {

struct StudyTiming {
  double stale_after_s = 60;     // seconds without a heartbeat before a trial is taken over
  double heartbeat_every_s = 5;  // seconds between heartbeats
};

// The results database of a study directory.
std::string results_path(const std::filesystem::path& dir);

// Where a study's results are: the SQLite file of a study folder, or a study
// in a PostgreSQL database shared by workers on many hosts (--store URL, or
// $LRTUNE_STORE; docs/cluster.md).
struct StoreLocation {
  std::string dir;    // the study folder; with a URL, this host's folder for trial files ("" = a temporary one)
  std::string url;    // postgresql://user@host:port/database; "" = dir/results.sqlite
  std::string study;  // with a URL: the study's name there
  double retry_for_s = 300;  // with a URL: seconds to reconnect after a lost connection
  std::function<void(const std::string&)> log;  // lost and regained connections ("" = stderr)
};

// Opens the store of an existing study; StoreError, in one line and writing
// nothing, when the folder has no results.sqlite or the database no such study.
std::unique_ptr<Store> open_study_store(const StoreLocation& where);
std::unique_ptr<Store> open_study_store(const std::string& dir);

// A study file registered in its store: the study (created or updated), its
// trials added, and its failed trials made pending again (a rerun retries).
struct RegisteredStudy {
  Study study;
  Overrides overrides;
  Expansion expansion;
  std::filesystem::path dir;
  std::unique_ptr<Store> store;
  int retried = 0;  // failed trials made pending again
};

// `out` = "" puts the study in studies-out/<name>. ConfigError when the
// directory holds another study. With `store_url` the study goes in that
// PostgreSQL database under its name, and the folder keeps this host's
// trial files only.
RegisteredStudy register_study(const std::string& file, const Overrides& overrides,
                               const std::string& out, const std::string& store_url = "");

// How each worker process trains: passed from `study run` to `study worker`.
struct WorkerSettings {
  std::string dir;               // study directory (with store_url: this host's trial files)
  std::string store_url;         // a PostgreSQL study store ("" = dir/results.sqlite)
  std::string study;             // with store_url: the study's name
  double store_retry_s = 300;    // with store_url: seconds to reconnect after a lost connection
  // With nothing to claim, wait for trials running elsewhere (taking over any
  // whose worker died) rather than end; `study run`'s own workers do not
  // (its scheduler takes a dead worker's trials back).
  bool wait_for_running = true;
  std::vector<std::string> ids;  // trials to run; empty = the study's source
  std::int64_t threads = 0;      // LibTorch threads (0 = all cores)
  bool adapt_threads = false;    // up to `threads`, fewer while fewer train faster
  std::string device, data;      // "" = each trial's own setting
  int pack = 0;                  // trials per pack (0 = 1 on a CPU, 32 on a GPU)
  StudyTiming timing;
};

// The command line of `lrtune study worker` for `settings`. The store's URL
// is not on it (a password would show in `ps`): exec_worker passes it as
// $LRTUNE_STORE.
std::vector<std::string> worker_command(const std::string& binary, const WorkerSettings& settings);

// In the scheduler's forked child: replaces the process with the worker
// command; returns kWorkerExitSetup only if that fails.
int exec_worker(const std::string& binary, const WorkerSettings& settings);

// The body of `lrtune study worker`: opens the study's store and runs the one
// worker loop with the LibTorch runner until the source has nothing left or
// a stop is requested. Returns the process's exit code (kWorkerExitSetup when
// it could not start: no data, no GPU; or when a full disk stopped it;
// kWorkerExitStopped when a signal stopped it).
int run_worker_process(const WorkerSettings& settings,
                       const std::function<void(const std::string&)>& log);

// The lrtune executable itself, to start workers with.
std::string self_binary();

}  // namespace lrtune
