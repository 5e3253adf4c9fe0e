// One worker's loop: claim a trial, run it with a heartbeat, record its epochs,
// finish it; until nothing is left or a stop is requested.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/store.h"
#include "study/runner.h"

namespace lrtune {

struct WorkerOptions {
  std::vector<std::string> ids;   // the current study file's trials, in order
  std::string host;
  std::int64_t pid = 0;
  double stale_after_s = 60;      // a heartbeat this old (s) frees a trial for others
  double heartbeat_every_s = 5;   // seconds between heartbeats
  std::function<void(const std::string&)> log;  // nullptr = silent
};

struct WorkerSummary {
  int finished = 0;  // done, diverged or failed
  int failed = 0;
  int lost = 0;      // taken over by another worker while this one stalled
  bool stopped = false;
};

// `stop` is polled between steps; when it turns true the current trial keeps
// its last completed epoch and goes back to pending.
WorkerSummary run_worker(Store& store, TrialRunner& runner, const WorkerOptions& opts,
                         const std::function<bool()>& stop);

}  // namespace lrtune
