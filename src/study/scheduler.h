// The parent of a study run: keeps up to `jobs` worker processes busy, takes
// back the trials of workers that die, shows progress, and stops them cleanly.
//
// Workers are processes, not threads: LibTorch's thread count is per process,
// and a crash or `kill -9` must lose only that worker's current epoch.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/store.h"
#include "study/summary.h"
#include "study/trial_source.h"

namespace lrtune {

// Exit codes of a worker process the scheduler understands.
constexpr int kWorkerExitOk = 0;
// An error, in its log (such as a results store out of reach).
constexpr int kWorkerExitError = 1;
// Could not start (no data, bad flags) or cannot go on (a full disk): do not retry.
constexpr int kWorkerExitSetup = 3;
// Stopped by a signal (Ctrl-C, SIGTERM) at a safe point, its trial given back.
constexpr int kWorkerExitStopped = 130;

struct SchedulerOptions {
  int jobs = 1;
  std::string host;              // this machine, as workers record it
  double stale_after_s = 60;     // must match the workers'
  double poll_s = 0.5;           // seconds between looks at workers and store
  double progress_every_s = 30;  // progress line at least this often (and on change)
  // A trial whose worker dies this often while running it alone is marked
  // failed. The trials of a pack whose worker dies are not charged: each runs
  // alone next (kRunAloneKey), so that the one that kills its worker is found.
  int max_crashes = 2;
  std::function<void(const std::string&)> log;
  // Called once per poll, after the look at the store (e.g. to follow new epochs).
  std::function<void()> on_poll;
};

struct SchedulerResult {
  StudyProgress progress;     // at the end
  bool interrupted = false;   // a stop was requested
  bool setup_failed = false;  // a worker exited with kWorkerExitSetup
  int crashed_workers = 0;
  int running_elsewhere = 0;  // trials held by live workers of other processes
};

// `worker` runs in a forked child; its return value is the child's exit code
// (it may exec instead). Workers are started while the source's trials can be
// claimed or the source may add more. `stop_requests` counts Ctrl-C/SIGTERM:
// the first asks workers to stop at the next step, the second kills them.
SchedulerResult run_scheduler(Store& store, TrialSource& source,
                              const std::function<int(int slot)>& worker,
                              const SchedulerOptions& opts,
                              const std::function<int()>& stop_requests);

// Installs SIGINT/SIGTERM handlers that count into stop_requests().
void install_stop_handlers();
int stop_requests();

// Linux: the calling (child) process gets SIGTERM when its parent dies, so
// workers never outlive a killed `lrtune study run`.
void stop_when_parent_dies();

}  // namespace lrtune
