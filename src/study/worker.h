// The worker loop, the one path every study trial runs through: claim a pack
// of trials from the study's source (a single trial is a pack of one), beat
// their heartbeats, record each one's epochs and outcome; until the source
// has nothing left or a stop is requested.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "store/store.h"
#include "study/runner.h"
#include "study/trial_source.h"

namespace lrtune {

struct WorkerOptions {
  std::string host;
  std::int64_t pid = 0;
  double stale_after_s = 60;      // a heartbeat this old (s) frees a trial for others
  double heartbeat_every_s = 5;   // seconds between heartbeats
  int pack_size = 1;              // trials trained together at most (>= 1)
  // With nothing to claim while trials still run elsewhere: wait (polling
  // every heartbeat_every_s) until they end or one's heartbeat goes stale and
  // it is taken over here, instead of ending. For workers joining from other
  // hosts, where no scheduler takes a dead worker's trial back.
  bool wait_for_running = false;
  std::function<void(const std::string&)> log;  // nullptr = silent
  // The trainers' lines (TrialContext::on_log), transient ones included.
  // nullptr: the others go to `log`, each prefixed with its trial's label.
  std::function<void(const std::string& line, bool transient)> train_log;
  // After the epochs stored for trial `id` changed (a row put, later rows
  // dropped on resume): followers of the store (a CSV copy) catch up.
  std::function<void(const std::string& id)> on_epochs_changed;
};

struct WorkerSummary {
  int finished = 0;  // done, diverged or failed
  int failed = 0;
  int lost = 0;      // taken over by another worker while this one stalled
  bool stopped = false;
  bool no_space = false;  // a full disk stopped it; its trials went back to pending
  // The store stayed out of reach: it stopped, its trials left to be taken
  // over once their heartbeats are stale.
  bool store_unavailable = false;
  // What ended the last trial that failed, or stopped the worker for a full
  // disk or an unreachable store, as it was thrown (null when nothing did).
  std::exception_ptr error;
};

// Info key set on the trials of a pack whose worker died: each runs alone
// next, so one bad trial cannot take its pack mates down with it again.
constexpr const char* kRunAloneKey = "run_alone";

// `stop` is polled between steps; when it turns true the current trials keep
// their last completed epoch and go back to pending. Trials with equal
// pack keys are claimed together, up to opts.pack_size; a trial taken over by
// another worker (stale heartbeat) stops alone, the rest of its pack goes on.
WorkerSummary run_worker(Store& store, PackTrialRunner& runner, TrialSource& source,
                         const WorkerOptions& opts, const std::function<bool()>& stop);

}  // namespace lrtune
