// Worker processes: start, watch, take back the trials of the dead, stop.
#include "study/scheduler.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "core/errors.h"
#include "core/interrupt.h"
#include "core/process.h"
#include "study/worker.h"

namespace lrtune {
namespace {

std::atomic<int> g_stop_requests{0};

// Counted here; noted in core as well, so that a store waiting to reconnect
// (or any wait that polls interrupted()) ends on the first request.
void on_stop_signal(int) {
  g_stop_requests.fetch_add(1);
  note_stop_request();
}

// This process's clock, for how often progress is printed (staleness is the store's).
double wall_clock() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

class Scheduler {
 public:
  Scheduler(Store& store, TrialSource& source, const std::function<int(int)>& worker,
            const SchedulerOptions& opts)
      : store_(store), source_(source), worker_(worker), opts_(opts) {}

  SchedulerResult run(const std::function<int()>& stop_requests) {
    SchedulerResult result;
    double last_print = -1e9;
    std::tuple<int, int, int> last_counts{-1, -1, -1};
    int signals_seen = 0;
    for (;;) {
      reap(result);
      const int requests = stop_requests();
      if (requests > signals_seen) {
        signals_seen = requests;
        result.interrupted = true;
        stop_workers(requests >= 2);
      }
      const auto [claimable, held_elsewhere] = look_at_store();
      result.running_elsewhere = held_elsewhere;
      if (!result.interrupted && !result.setup_failed) start_workers(claimable);
      if (opts_.on_poll) opts_.on_poll();
      if (live_.empty() && (claimable == 0 || result.interrupted || result.setup_failed)) break;

      const auto counts = quick_counts();
      if (counts != last_counts || wall_clock() - last_print >= opts_.progress_every_s) {
        last_counts = counts;
        last_print = wall_clock();
        const std::string note = source_.progress_note(store_);
        log(progress_line(current_progress()) +
            (note.empty() ? "" : "; " + note));
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(opts_.poll_s));
    }
    result.progress = current_progress();
    return result;
  }

 private:
  // The trials so far, and a search's budget still to draw.
  StudyProgress current_progress() {
    const auto trials = summarize(store_, source_.trial_ids(store_));
    StudyProgress p = progress(trials, opts_.jobs);
    add_undrawn(p, trials, source_.remaining(store_), opts_.jobs);
    return p;
  }

  void log(const std::string& line) {
    if (opts_.log) opts_.log(line);
  }

  std::vector<TrialRecord> current() {
    const std::vector<std::string> ids = source_.trial_ids(store_);
    const std::set<std::string> wanted(ids.begin(), ids.end());
    std::vector<TrialRecord> out;
    for (auto& t : store_.trials())
      if (wanted.count(t.spec.id)) out.push_back(std::move(t));
    return out;
  }

  std::tuple<int, int, int> quick_counts() {
    int finished = 0, running = 0, pending = 0;
    for (const auto& t : current()) {
      finished += is_finished(t.status);
      running += t.status == RunStatus::running;
      pending += t.status == RunStatus::pending;
    }
    return {finished, running, pending};
  }

  // Gives back trials of dead workers on this host; counts what workers can
  // claim now (or the source may still add) and what live workers elsewhere
  // hold. Staleness is judged by the store's clock, as claims are.
  std::pair<int, int> look_at_store() {
    int claimable = static_cast<int>(
        std::min<std::int64_t>(source_.remaining(store_), opts_.jobs));
    int elsewhere = 0;
    const double t = store_.now();
    for (const auto& trial : current()) {
      if (trial.status == RunStatus::pending) {
        ++claimable;
      } else if (trial.status == RunStatus::running) {
        const bool mine = trial.host == opts_.host && live_.count(static_cast<pid_t>(trial.pid));
        if (mine) continue;
        if (trial.host == opts_.host && !process_alive(trial.pid) &&
            store_.release_orphan(trial.spec.id, trial.host, trial.pid)) {
          log("[" + trial.spec.label + "] its worker (process " + std::to_string(trial.pid) +
              ") is gone; the trial resumes from its last epoch");
          ++claimable;
        } else if (t - trial.heartbeat_at > opts_.stale_after_s) {
          ++claimable;
        } else {
          ++elsewhere;
        }
      }
    }
    return {claimable, elsewhere};
  }

  void start_workers(int claimable) {
    int held = 0;
    for (const auto& t : current())
      held += t.status == RunStatus::running && t.host == opts_.host &&
              live_.count(static_cast<pid_t>(t.pid));
    int idle = static_cast<int>(live_.size()) - held;  // started, not yet holding a trial
    while (static_cast<int>(live_.size()) < opts_.jobs && claimable > idle) {
      int slot = 0;
      while (used_slots_.count(slot)) ++slot;
      const pid_t pid = fork_child(
          [this, slot] {
            stop_when_parent_dies();
            return worker_(slot);
          },
          "worker");
      live_[pid] = slot;
      used_slots_.insert(slot);
      ++idle;
    }
  }

  void stop_workers(bool kill_now) {
    if (live_.empty()) return;
    if (kill_now) {
      log("stopping now: killing " + std::to_string(live_.size()) +
          " worker(s); their trials resume from the last completed epoch");
      for (const auto& [pid, slot] : live_) kill(pid, SIGKILL);
      killed_by_us_ = true;
    } else {
      log("stopping: " + std::to_string(live_.size()) +
          " worker(s) finish their current step and keep their last completed epoch "
          "(Ctrl-C again to stop at once)");
      for (const auto& [pid, slot] : live_) kill(pid, SIGTERM);
    }
  }

  void reap(SchedulerResult& result) {
    for (auto it = live_.begin(); it != live_.end();) {
      const pid_t pid = it->first;
      const std::optional<int> ended = poll_child(pid);
      if (!ended) {
        ++it;
        continue;
      }
      const int status = *ended;
      used_slots_.erase(it->second);
      it = live_.erase(it);
      if (WIFEXITED(status) && (WEXITSTATUS(status) == kWorkerExitOk ||
                                WEXITSTATUS(status) == kWorkerExitStopped))
        continue;
      if (WIFEXITED(status) && WEXITSTATUS(status) == kWorkerExitSetup) {
        result.setup_failed = true;
        continue;
      }
      ++result.crashed_workers;
      take_back(pid, describe_exit(status));
    }
  }

  // The trials the dead worker `pid` held go back to pending. A lone trial is
  // charged with the crash; the trials of a pack are not (any one of them may
  // have killed it): each runs alone next, where a crash is its own.
  void take_back(pid_t pid, const std::string& how) {
    std::vector<TrialRecord> held;
    for (auto& t : current())
      if (t.status == RunStatus::running && t.host == opts_.host && t.pid == pid)
        held.push_back(std::move(t));
    for (const auto& t : held) {
      if (!store_.release_orphan(t.spec.id, t.host, t.pid) || killed_by_us_) continue;
      if (held.size() > 1) {
        nlohmann::json info = t.info.is_object() ? t.info : nlohmann::json::object();
        info[kRunAloneKey] = true;
        store_.set_trial_info(t.spec.id, info);
        log("[" + t.spec.label + "] the worker of its pack of " + std::to_string(held.size()) +
            " " + how + "; it runs alone next, so that a trial that kills its worker is found");
        continue;
      }
      const int n = ++crashes_[t.spec.id];
      if (n >= opts_.max_crashes) {
        store_.finish_trial(t.spec.id, RunStatus::failed,
                            "its worker process died " + std::to_string(n) +
                                " times while running it (last: " + how + ")");
        log("[" + t.spec.label + "] failed: its worker died " + std::to_string(n) + " times");
      } else {
        log("[" + t.spec.label + "] worker process " + std::to_string(pid) + " " + how +
            "; the trial resumes from its last completed epoch");
      }
    }
  }

  Store& store_;
  TrialSource& source_;
  const std::function<int(int)>& worker_;
  const SchedulerOptions& opts_;
  std::map<pid_t, int> live_;  // worker pid -> slot
  std::set<int> used_slots_;
  std::map<std::string, int> crashes_;
  bool killed_by_us_ = false;
};

}  // namespace

SchedulerResult run_scheduler(Store& store, TrialSource& source,
                              const std::function<int(int)>& worker, const SchedulerOptions& opts,
                              const std::function<int()>& stop_requests) {
  return Scheduler(store, source, worker, opts).run(stop_requests);
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESTART;  // the flag is polled; nothing should fail with EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int stop_requests() { return g_stop_requests.load(); }

void stop_when_parent_dies() {
#ifdef __linux__
  const pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) raise(SIGTERM);  // it died before prctl took effect
#endif
}

}  // namespace lrtune
