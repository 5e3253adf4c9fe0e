// The worker loop: claim a pack, beat every trial's heartbeat, record each
// trial's epochs and outcome.
#include "study/worker.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/errors.h"

namespace lrtune {
namespace {

// One thread beating the heartbeats of all trials of a pack; notes those the
// store says another worker now holds.
class Heartbeat {
 public:
  Heartbeat(Store& store, std::vector<std::string> ids, double every_s)
      : ids_(std::move(ids)), lost_(new std::atomic<bool>[ids_.size()]) {
    for (std::size_t i = 0; i < ids_.size(); ++i) lost_[i] = false;
    thread_ = std::thread([this, &store, every_s] { beat(store, every_s); });
  }
  ~Heartbeat() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool lost(std::size_t i) const { return lost_[i]; }

 private:
  void beat(Store& store, double every_s) {
    std::unique_lock lock(mu_);
    const auto period = std::chrono::duration<double>(every_s);
    while (!cv_.wait_for(lock, period, [this] { return done_; })) {
      lock.unlock();
      for (std::size_t i = 0; i < ids_.size(); ++i) {
        if (lost_[i]) continue;
        try {
          store.heartbeat(ids_[i]);
          if (!store.holds(ids_[i])) lost_[i] = true;
        } catch (const std::exception&) {
          // A busy database is not a lost trial; the next beat tries again.
        }
      }
      lock.lock();
    }
  }

  std::vector<std::string> ids_;
  std::unique_ptr<std::atomic<bool>[]> lost_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Claims a pack: the first claimable trial of the source, then as many
// trials sharing its pack key as fit.
class PackClaimer {
 public:
  PackClaimer(Store& store, PackTrialRunner& runner, TrialSource& source, const WorkerOptions& opts)
      : store_(store), runner_(runner), source_(source), opts_(opts) {}

  std::vector<TrialRecord> claim() {
    std::vector<TrialRecord> pack;
    const std::vector<std::string> ids = source_.trial_ids(store_);
    const std::set<std::string> alone = must_run_alone(ids);
    auto first = take(ids);
    if (!first) return pack;
    pack.push_back(*first);
    const std::string key = alone.count(first->spec.id) ? "" : runner_.pack_key(*first);
    if (key.empty() || opts_.pack_size <= 1) return pack;
    std::vector<std::string> same;
    for (const auto& id : ids)
      if (id != first->spec.id && !alone.count(id) && key_of(id) == key) same.push_back(id);
    while (static_cast<int>(pack.size()) < opts_.pack_size) {
      auto next = take(same);
      if (!next) break;
      same.erase(std::find(same.begin(), same.end(), next->spec.id));
      pack.push_back(*next);
    }
    return pack;
  }

 private:
  std::optional<TrialRecord> take(const std::vector<std::string>& ids) {
    if (ids.empty()) return std::nullopt;
    return store_.claim_trial(ids, opts_.host, opts_.pid, opts_.stale_after_s);
  }
  // Trials whose last pack's worker died (kRunAloneKey in their info).
  std::set<std::string> must_run_alone(const std::vector<std::string>& ids) {
    std::set<std::string> out;
    if (opts_.pack_size <= 1) return out;
    const std::set<std::string> wanted(ids.begin(), ids.end());
    for (const auto& t : store_.trials())
      if (wanted.count(t.spec.id) && t.info.is_object() && t.info.value(kRunAloneKey, false))
        out.insert(t.spec.id);
    return out;
  }
  const std::string& key_of(const std::string& id) {
    auto it = keys_.find(id);
    if (it != keys_.end()) return it->second;
    const auto rec = store_.trial(id);
    return keys_[id] = rec ? runner_.pack_key(*rec) : std::string();
  }

  Store& store_;
  PackTrialRunner& runner_;
  TrialSource& source_;
  const WorkerOptions& opts_;
  std::map<std::string, std::string> keys_;  // a trial's key never changes
};

// Runs one claimed pack and records each trial's outcome in the store.
class PackRun {
 public:
  PackRun(Store& store, TrialSource& source, const WorkerOptions& opts,
          std::vector<TrialRecord> pack)
      : store_(store), source_(source), opts_(opts), pack_(std::move(pack)),
        pruned_at_(pack_.size(), 0) {
    for (const auto& t : pack_) {
      ids_.push_back(t.spec.id);
      tags_.push_back("[" + t.spec.label + "] ");
    }
  }

  void run(PackTrialRunner& runner, const std::function<bool()>& stop, WorkerSummary& summary) {
    announce();
    std::vector<TrialContext> contexts = make_contexts();
    std::vector<TrialResult> results(pack_.size());
    std::string error;
    std::vector<bool> lost(pack_.size());
    {
      Heartbeat beat(store_, ids_, opts_.heartbeat_every_s);
      for (std::size_t i = 0; i < pack_.size(); ++i)
        contexts[i].should_stop = [this, &beat, &stop, i] {
          return beat.lost(i) || pruned_at_[i] > 0 || stop();
        };
      try {
        results = runner.run(pack_, contexts);
        if (results.size() != pack_.size()) throw Error("pack runner returned a wrong result count");
      } catch (const NoSpaceError& e) {
        no_space_ = e.what();  // not the trials' fault: they go back to pending
        summary.error = std::current_exception();
      } catch (const StoreUnavailableError& e) {
        unavailable_ = e.what();  // nor this: they wait to be taken over
        summary.error = std::current_exception();
      } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "unknown error";
        summary.error = std::current_exception();
      }
      for (std::size_t i = 0; i < pack_.size(); ++i)
        lost[i] = beat.lost(i) || !store_.holds(ids_[i]);
    }
    for (std::size_t i = 0; i < pack_.size(); ++i) record(i, lost[i], error, results[i], summary);
  }

 private:
  void log(const std::string& line) const {
    if (opts_.log) opts_.log(line);
  }

  void epochs_changed(const std::string& id) const {
    if (opts_.on_epochs_changed) opts_.on_epochs_changed(id);
  }

  void announce() const {
    for (std::size_t i = 0; i < pack_.size(); ++i)
      log(tags_[i] + (pack_[i].attempts > 1 ? "resuming" : "starting") + " trial " + ids_[i] +
          (pack_.size() > 1 ? " (pack of " + std::to_string(pack_.size()) + ")" : ""));
  }

  std::vector<TrialContext> make_contexts() {
    std::vector<TrialContext> contexts(pack_.size());
    Store& store = store_;
    for (std::size_t i = 0; i < pack_.size(); ++i) {
      const std::string& id = ids_[i];
      auto& ctx = contexts[i];
      ctx.trial_dir = store.trial_dir(id);  // checkpoints live where the store keeps them
      ctx.on_checkpoint = [&store, id](const std::string& f) { store.save_checkpoint(id, f); };
      ctx.fetch_file = [&store](const std::string& hash, const std::string& f) {
        return store.fetch_file(hash, f);
      };
      ctx.fetch_checkpoint = [&store, id](const std::string& f) {
        return store.fetch_checkpoint(id, f);
      };
      ctx.on_epoch = [this, &store, id, i](const EpochMetrics& m) {
        store.put_epoch(id, m);
        epochs_changed(id);
        if (prune_now(id, m.epoch)) pruned_at_[i] = m.epoch;
      };
      ctx.on_resume = [this, &store, id](std::int64_t last) {
        store.truncate_epochs(id, last);
        epochs_changed(id);
      };
      ctx.stored_epochs = [&store, id] { return leading_epochs(store.epochs(id)); };
      ctx.on_log = [this, tag = tags_[i]](const std::string& line, bool transient) {
        if (opts_.train_log) opts_.train_log(line, transient);
        else if (!transient) log(tag + line);
      };
      ctx.on_info = [&store, id](const nlohmann::json& info) { store.set_trial_info(id, info); };
    }
    return contexts;
  }

  void record(std::size_t i, bool lost, const std::string& error, const TrialResult& result,
              WorkerSummary& summary) {
    const std::string& id = ids_[i];
    if (lost) {
      ++summary.lost;
      log(tags_[i] + "another worker took this trial over (heartbeat was stale); leaving it");
    } else if (!no_space_.empty()) {
      give_back_for_lack_of_space(i, summary);
    } else if (!unavailable_.empty()) {
      leave_for_takeover(i, summary);
    } else if (!error.empty()) {
      store_.finish_trial(id, RunStatus::failed, error);
      ++summary.finished;
      ++summary.failed;
      log(tags_[i] + "failed: " + error);
    } else if (result.status == RunStatus::running && pruned_at_[i] > 0) {
      const std::string why = "pruned after epoch " + std::to_string(pruned_at_[i]);
      store_.finish_trial(id, RunStatus::pruned, why);
      ++summary.finished;
      log(tags_[i] + why + " (" + std::to_string(result.epochs_completed) + " of " +
          std::to_string(pack_[i].spec.epochs_total) + " epochs trained)");
    } else if (result.status == RunStatus::running) {
      store_.release_trial(id);
      log(tags_[i] + "stopped after epoch " + std::to_string(result.epochs_completed) +
          "; it resumes from there next time");
      summary.stopped = true;
    } else {
      store_.finish_trial(id, result.status, result.message);
      ++summary.finished;
      log(tags_[i] + to_string(result.status) +
          (result.message.empty() ? "" : ": " + result.message));
    }
  }

  // The source's pruner, asked after each stored epoch; a store too busy to
  // answer leaves the trial running (the next epoch asks again).
  bool prune_now(const std::string& id, std::int64_t epoch) {
    try {
      return source_.should_prune(store_, id, epoch);
    } catch (const StoreError& e) {
      log("[" + id + "] could not ask the pruner: " + e.what());
      return false;
    }
  }

  // A full disk: the trial keeps its last checkpoint and epochs and goes back
  // to pending (never failed for good), and the worker stops.
  void give_back_for_lack_of_space(std::size_t i, WorkerSummary& summary) {
    try {
      store_.release_trial(ids_[i]);
    } catch (const std::exception& e) {
      // The database may be on the full disk too; the scheduler takes the
      // trial back when this worker has ended.
      log(tags_[i] + "could not give the trial back: " + e.what());
    }
    log(tags_[i] + "stopped: " + no_space_ + "; it resumes from its last checkpoint once there is room");
    summary.stopped = true;
    summary.no_space = true;
  }

  // The store stayed out of reach: the trial keeps its stored epochs and
  // checkpoint and is not failed; given back if the store answers again,
  // else taken over once its heartbeat is stale. The worker stops.
  void leave_for_takeover(std::size_t i, WorkerSummary& summary) {
    try {
      store_.release_trial(ids_[i]);
    } catch (const std::exception& e) {
      log(tags_[i] + "could not give the trial back: " + e.what());
    }
    log(tags_[i] + "stopped: " + unavailable_ + "; it resumes from its last stored epoch, here "
        "or on another worker");
    summary.stopped = true;
    summary.store_unavailable = true;
  }

  Store& store_;
  TrialSource& source_;
  const WorkerOptions& opts_;
  std::string no_space_;  // the message of a full disk, "" when none
  std::string unavailable_;  // the message of a store out of reach, "" when none
  std::vector<TrialRecord> pack_;
  std::vector<std::string> ids_, tags_;
  std::vector<std::int64_t> pruned_at_;  // the epoch its pruner stopped it after; 0 = not
};

// How many of the source's trials run in other workers right now.
int running_elsewhere(Store& store, TrialSource& source) {
  int n = 0;
  for (const auto& id : source.trial_ids(store))
    if (const auto t = store.trial(id); t && t->status == RunStatus::running) ++n;
  return n;
}

// Waits one poll period (heartbeat_every_s) for trials running elsewhere to
// end or go stale; false when none runs (nothing to wait for) or on a stop.
bool wait_for_others(Store& store, TrialSource& source, const WorkerOptions& opts,
                     const std::function<bool()>& stop, bool& said) {
  const int n = running_elsewhere(store, source);
  if (n == 0) return false;
  if (!said && opts.log)
    opts.log("nothing to claim; waiting for " + std::to_string(n) + " trial(s) running elsewhere "
             "(taken over here if a heartbeat is older than " +
             std::to_string(static_cast<int>(opts.stale_after_s)) + " s)");
  said = true;
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration<double>(opts.heartbeat_every_s);
  while (std::chrono::steady_clock::now() < until) {
    if (stop()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace

WorkerSummary run_worker(Store& store, PackTrialRunner& runner, TrialSource& source,
                         const WorkerOptions& opts, const std::function<bool()>& stop) {
  WorkerSummary summary;
  PackClaimer claimer(store, runner, source, opts);
  bool said = false;
  while (!stop() && !summary.stopped) {
    std::vector<TrialRecord> pack = claimer.claim();
    if (pack.empty()) {
      if (source.grow(store)) continue;
      if (opts.wait_for_running && wait_for_others(store, source, opts, stop, said)) continue;
      break;
    }
    said = false;
    PackRun(store, source, opts, std::move(pack)).run(runner, stop, summary);
  }
  summary.stopped = summary.stopped || stop();
  return summary;
}

}  // namespace lrtune
