// The pack worker loop: claim a pack, beat every trial's heartbeat, record
// each trial's epochs and outcome.
#include "study/pack_worker.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/errors.h"

namespace lrtune {
namespace {

// One thread beating the heartbeats of all trials of a pack; notes those the
// store says another worker now holds.
class PackHeartbeat {
 public:
  PackHeartbeat(Store& store, std::vector<std::string> ids, double every_s)
      : ids_(std::move(ids)), lost_(new std::atomic<bool>[ids_.size()]) {
    for (std::size_t i = 0; i < ids_.size(); ++i) lost_[i] = false;
    thread_ = std::thread([this, &store, every_s] {
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
    });
  }
  ~PackHeartbeat() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool lost(std::size_t i) const { return lost_[i]; }

 private:
  std::vector<std::string> ids_;
  std::unique_ptr<std::atomic<bool>[]> lost_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

class PackClaimer {
 public:
  PackClaimer(Store& store, PackTrialRunner& runner, const WorkerOptions& opts, int pack_size)
      : store_(store), runner_(runner), opts_(opts), pack_size_(std::max(1, pack_size)) {}

  // The first claimable trial, then as many trials sharing its key as fit.
  std::vector<TrialRecord> claim() {
    std::vector<TrialRecord> pack;
    auto first = take(opts_.ids);
    if (!first) return pack;
    pack.push_back(*first);
    const std::string key = runner_.pack_key(*first);
    if (key.empty() || pack_size_ == 1) return pack;
    std::vector<std::string> same;
    for (const auto& id : opts_.ids)
      if (id != first->spec.id && key_of(id) == key) same.push_back(id);
    while (static_cast<int>(pack.size()) < pack_size_) {
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
  const std::string& key_of(const std::string& id) {
    auto it = keys_.find(id);
    if (it != keys_.end()) return it->second;
    const auto rec = store_.trial(id);
    return keys_[id] = rec ? runner_.pack_key(*rec) : std::string();
  }

  Store& store_;
  PackTrialRunner& runner_;
  const WorkerOptions& opts_;
  int pack_size_;
  std::map<std::string, std::string> keys_;  // a trial's key never changes
};

}  // namespace

WorkerSummary run_pack_worker(Store& store, PackTrialRunner& runner, const WorkerOptions& opts,
                              int pack_size, const std::function<bool()>& stop) {
  WorkerSummary summary;
  auto log = [&](const std::string& line) {
    if (opts.log) opts.log(line);
  };
  PackClaimer claimer(store, runner, opts, pack_size);
  while (!stop()) {
    const std::vector<TrialRecord> pack = claimer.claim();
    if (pack.empty()) break;
    std::vector<std::string> ids, tags;
    std::vector<TrialContext> contexts(pack.size());
    for (std::size_t i = 0; i < pack.size(); ++i) {
      const std::string& id = pack[i].spec.id;
      ids.push_back(id);
      tags.push_back("[" + pack[i].spec.label + "] ");
      log(tags[i] + (pack[i].attempts > 1 ? "resuming" : "starting") + " trial " + id +
          (pack.size() > 1 ? " (pack of " + std::to_string(pack.size()) + ")" : ""));
      auto& ctx = contexts[i];
      ctx.trial_dir = store.trial_dir(id);  // checkpoints live where the store keeps them
      ctx.on_checkpoint = [&store, id](const std::string& f) { store.save_checkpoint(id, f); };
      ctx.on_epoch = [&store, id](const EpochMetrics& m) { store.put_epoch(id, m); };
      ctx.on_resume = [&store, id](std::int64_t last) { store.truncate_epochs(id, last); };
      ctx.on_log = [&log, tag = tags[i]](const std::string& line) { log(tag + line); };
      ctx.on_info = [&store, id](const nlohmann::json& info) { store.set_trial_info(id, info); };
    }

    std::vector<TrialResult> results(pack.size());
    std::string error;
    std::vector<bool> lost(pack.size());
    {
      PackHeartbeat beat(store, ids, opts.heartbeat_every_s);
      for (std::size_t i = 0; i < pack.size(); ++i)
        contexts[i].should_stop = [&beat, &stop, i] { return beat.lost(i) || stop(); };
      try {
        results = runner.run(pack, contexts);
        if (results.size() != pack.size()) throw Error("pack runner returned a wrong result count");
      } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "unknown error";
      }
      for (std::size_t i = 0; i < pack.size(); ++i) lost[i] = beat.lost(i) || !store.holds(ids[i]);
    }
    for (std::size_t i = 0; i < pack.size(); ++i) {
      if (lost[i]) {
        ++summary.lost;
        log(tags[i] + "another worker took this trial over (heartbeat was stale); leaving it");
      } else if (!error.empty()) {
        store.finish_trial(ids[i], RunStatus::failed, error);
        ++summary.finished;
        ++summary.failed;
        log(tags[i] + "failed: " + error);
      } else if (results[i].status == RunStatus::running) {
        store.release_trial(ids[i]);
        log(tags[i] + "stopped after epoch " + std::to_string(results[i].epochs_completed) +
            "; it resumes from there next time");
        summary.stopped = true;
      } else {
        store.finish_trial(ids[i], results[i].status, results[i].message);
        ++summary.finished;
        log(tags[i] + to_string(results[i].status) +
            (results[i].message.empty() ? "" : ": " + results[i].message));
      }
    }
    if (summary.stopped) break;
  }
  summary.stopped = summary.stopped || stop();
  return summary;
}

}  // namespace lrtune
