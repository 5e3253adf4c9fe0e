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
// Opens the store of an existing study directory; StoreError when it has none.
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
// directory holds another study.
RegisteredStudy register_study(const std::string& file, const Overrides& overrides,
                               const std::string& out);

// How each worker process trains: passed from `study run` to `study worker`.
struct WorkerSettings {
  std::string dir;               // study directory
  std::vector<std::string> ids;  // trials to run; empty = the study's source
  std::int64_t threads = 0;      // LibTorch threads (0 = all cores)
  bool adapt_threads = false;    // up to `threads`, fewer while fewer train faster
  std::string device, data;      // "" = each trial's own setting
  std::string precision = "fp32";
  int pack = 0;                  // trials per pack (0 = 1 on a CPU, 32 on a GPU)
  StudyTiming timing;
};

// The command line of `lrtune study worker` for `settings`.
std::vector<std::string> worker_command(const std::string& binary, const WorkerSettings& settings);

// In the scheduler's forked child: replaces the process with the worker
// command; returns kWorkerExitSetup only if that fails.
int exec_worker(const std::string& binary, const WorkerSettings& settings);

// The body of `lrtune study worker`: opens the study's store and runs the one
// worker loop with the LibTorch runner until the source has nothing left or
// a stop is requested. Returns the process's exit code (kWorkerExitSetup when
// it could not start: no data, no GPU; or when a full disk stopped it).
int run_worker_process(const WorkerSettings& settings,
                       const std::function<void(const std::string&)>& log);

// The lrtune executable itself, to start workers with.
std::string self_binary();

}  // namespace lrtune
