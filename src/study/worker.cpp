// The worker loop and its heartbeat thread.
#include "study/worker.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace lrtune {
namespace {

// Beats while a trial runs; notes when the store says someone else holds it.
class Heartbeat {
 public:
  Heartbeat(Store& store, const std::string& id, double every_s)
      : thread_([this, &store, id, every_s] {
          std::unique_lock lock(mu_);
          const auto period = std::chrono::duration<double>(every_s);
          while (!cv_.wait_for(lock, period, [this] { return done_; })) {
            lock.unlock();
            bool held = true;
            try {
              store.heartbeat(id);
              held = store.holds(id);
            } catch (const std::exception&) {
              // A busy database is not a lost trial; the next beat tries again.
            }
            if (!held) lost_ = true;
            lock.lock();
          }
        }) {}

  ~Heartbeat() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  bool lost() const { return lost_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> lost_{false};
  std::thread thread_;  // last: starts after the members it uses exist
};

}  // namespace

WorkerSummary run_worker(Store& store, TrialRunner& runner, const WorkerOptions& opts,
                         const std::function<bool()>& stop) {
  WorkerSummary summary;
  auto log = [&](const std::string& line) {
    if (opts.log) opts.log(line);
  };
  while (!stop()) {
    auto claimed = store.claim_trial(opts.ids, opts.host, opts.pid, opts.stale_after_s);
    if (!claimed) break;
    const TrialRecord& trial = *claimed;
    const std::string& id = trial.spec.id;
    const std::string tag = "[" + trial.spec.label + "] ";
    log(tag + (trial.attempts > 1 ? "resuming" : "starting") + " trial " + id);

    TrialContext ctx;
    ctx.trial_dir = store.trial_dir(id);  // checkpoints live where the store keeps them
    ctx.on_checkpoint = [&](const std::string& file) { store.save_checkpoint(id, file); };
    ctx.on_epoch = [&](const EpochMetrics& m) { store.put_epoch(id, m); };
    ctx.on_resume = [&](std::int64_t last) { store.truncate_epochs(id, last); };
    ctx.on_log = [&](const std::string& line) { log(tag + line); };
    ctx.on_info = [&](const nlohmann::json& info) { store.set_trial_info(id, info); };

    TrialResult result;
    std::string error;
    bool lost = false;
    {
      Heartbeat beat(store, id, opts.heartbeat_every_s);
      ctx.should_stop = [&] { return beat.lost() || stop(); };
      try {
        result = runner.run(trial, ctx);
      } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "unknown error";
      }
      lost = beat.lost() || !store.holds(id);
    }
    if (lost) {
      ++summary.lost;
      log(tag + "another worker took this trial over (heartbeat was stale); leaving it");
      continue;
    }
    if (!error.empty()) {
      store.finish_trial(id, RunStatus::failed, error);
      ++summary.finished;
      ++summary.failed;
      log(tag + "failed: " + error);
    } else if (result.status == RunStatus::running) {
      store.release_trial(id);
      log(tag + "stopped after epoch " + std::to_string(result.epochs_completed) +
          "; it resumes from there next time");
      summary.stopped = true;
      break;
    } else {
      store.finish_trial(id, result.status, result.message);
      ++summary.finished;
      log(tag + to_string(result.status) +
          (result.message.empty() ? "" : ": " + result.message));
    }
  }
  summary.stopped = summary.stopped || stop();
  return summary;
}

}  // namespace lrtune
