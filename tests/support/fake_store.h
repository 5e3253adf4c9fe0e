// An in-memory Store, and a fabricated study in it for report tests: reports
// read only through the Store interface, so no database is needed.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace lrtune::test {

// Keeps the whole Store contract (tests/store/store_conformance_test.cpp runs
// the same cases against it as against SQLite), on a manual clock.
class FakeStore : public Store {
 public:
  std::optional<StudyInfo> info;
  std::vector<TrialRecord> records;
  std::map<std::string, std::vector<EpochMetrics>> rows;
  double clock = 1000.0;  // the store's clock: tests move it by hand
  std::string dir = "fake-store";  // trial_dir() root

  void put_study(const StudyInfo& i) override { info = i; }
  std::optional<StudyInfo> study() override { return info; }
  void add_trial(const TrialSpec& spec) override {
    if (!find(spec.id)) {
      records.push_back(TrialRecord{spec});
      records.back().status = RunStatus::pending;
    }
  }
  std::vector<TrialRecord> trials() override {
    auto out = records;
    for (auto& r : out) r.epochs_done = static_cast<std::int64_t>(rows[r.spec.id].size());
    return out;
  }
  std::optional<TrialRecord> trial(const std::string& id) override {
    for (const auto& r : trials())
      if (r.spec.id == id) return r;
    return std::nullopt;
  }
  std::optional<TrialRecord> claim_trial(const std::vector<std::string>& ids,
                                         const std::string& host, std::int64_t pid,
                                         double stale_after_s) override {
    for (const auto& id : ids) {
      TrialRecord* r = find(id);
      if (!r) continue;
      const bool free = r->status == RunStatus::pending ||
                        (r->status == RunStatus::running && clock - r->heartbeat_at > stale_after_s);
      if (!free) continue;
      r->status = RunStatus::running;
      r->host = host;
      r->pid = pid;
      r->heartbeat_at = clock;
      if (r->started_at == 0) r->started_at = clock;
      r->ended_at = 0;
      r->error.clear();
      ++r->attempts;
      ++r->lease;
      claims[id] = r->lease;
      return trial(id);
    }
    return std::nullopt;
  }
  void heartbeat(const std::string& id) override {
    if (TrialRecord* r = writable(id)) r->heartbeat_at = clock;
  }
  void finish_trial(const std::string& id, RunStatus status, const std::string& error) override {
    if (TrialRecord* r = writable(id)) {
      r->status = status;
      r->error = error;
      r->ended_at = r->heartbeat_at = clock;
    }
    claims.erase(id);
  }
  void release_trial(const std::string& id) override {
    if (TrialRecord* r = writable(id)) r->status = RunStatus::pending;
    claims.erase(id);
  }
  bool holds(const std::string& id) override {
    auto it = claims.find(id);
    TrialRecord* r = find(id);
    return it != claims.end() && r && r->status == RunStatus::running && r->lease == it->second;
  }
  bool release_orphan(const std::string& id, const std::string& host, std::int64_t pid) override {
    TrialRecord* r = find(id);
    if (!r || r->status != RunStatus::running || r->host != host || r->pid != pid) return false;
    r->status = RunStatus::pending;
    return true;
  }
  int retry_failed(const std::vector<std::string>& ids) override {
    int n = 0;
    for (auto& r : records)
      if (r.status == RunStatus::failed && std::find(ids.begin(), ids.end(), r.spec.id) != ids.end()) {
        r.status = RunStatus::pending;
        r.error.clear();
        ++n;
      }
    return n;
  }
  void set_trial_info(const std::string& id, const nlohmann::json& i) override {
    if (TrialRecord* r = find(id)) r->info = i;
  }
  void put_epoch(const std::string& id, const EpochMetrics& m) override {
    if (claims.count(id) && !holds(id))
      throw StoreError("fake store: trial " + id + " was taken over; epoch not recorded");
    if (!find(id)) throw StoreError("fake store: no trial " + id);
    auto& list = rows[id];
    auto it = std::find_if(list.begin(), list.end(), [&](const EpochMetrics& e) { return e.epoch >= m.epoch; });
    if (it != list.end() && it->epoch == m.epoch) *it = m;  // replace, as SQLite does
    else list.insert(it, m);
  }
  void truncate_epochs(const std::string& id, std::int64_t last_epoch) override {
    auto& list = rows[id];
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const EpochMetrics& e) { return e.epoch > last_epoch; }),
               list.end());
  }
  std::vector<EpochMetrics> epochs(const std::string& id) override {
    auto it = rows.find(id);
    return it == rows.end() ? std::vector<EpochMetrics>{} : it->second;
  }
  double now() override { return clock; }
  std::string trial_dir(const std::string& id) override { return dir + "/trials/" + id; }
  void save_checkpoint(const std::string& id, const std::string&) override { saved.insert(id); }
  bool fetch_checkpoint(const std::string& id, const std::string&) override {
    return saved.count(id) > 0;
  }

  std::map<std::string, std::int64_t> claims;  // trial id -> lease of this object's claim
  std::set<std::string> saved;                 // trials with a saved checkpoint

  // Adds a trial with the given status and (val_acc, test_acc) per epoch;
  // other metrics are derived so every figure has something to draw.
  void add(const std::string& id, const std::string& label, RunStatus status,
           std::int64_t epochs_total, const std::vector<std::pair<double, double>>& val_test,
           double seconds_per_epoch = 10, std::int64_t first_bad_epoch = 0, double lr0 = 0.1) {
    TrialSpec spec;
    spec.id = id;
    spec.label = label;
    spec.epochs_total = epochs_total;
    records.push_back(TrialRecord{spec});
    records.back().status = status;
    auto& list = rows[id];
    for (std::size_t i = 0; i < val_test.size(); ++i) {
      EpochMetrics m;
      m.epoch = static_cast<std::int64_t>(i + 1);
      m.val_acc = val_test[i].first;
      m.test_acc = val_test[i].second;
      m.train_acc = std::min(1.0, val_test[i].first + 0.05);
      m.train_loss = 2.3 * (1 - m.train_acc) + 0.05;
      m.val_loss = 2.3 * (1 - m.val_acc) + 0.1;
      m.test_loss = m.val_loss;
      m.lr = lr0 / static_cast<double>(i + 1);
      m.seconds = seconds_per_epoch;
      if (first_bad_epoch && m.epoch >= first_bad_epoch)
        m.train_loss = std::numeric_limits<double>::quiet_NaN();
      list.push_back(m);
    }
  }

 private:
  TrialRecord* find(const std::string& id) {
    for (auto& r : records)
      if (r.spec.id == id) return &r;
    return nullptr;
  }
  // The record, unless this object claimed it and has lost the lease since.
  TrialRecord* writable(const std::string& id) {
    if (claims.count(id) && !holds(id)) return nullptr;
    return find(id);
  }
};

// A study with every case a report must handle: repeats, a divergence, a
// still-running trial, a pending one, a failed one, and a hostile label.
inline std::unique_ptr<FakeStore> fabricated_study(const std::string& name = "lr sweep") {
  auto s = std::make_unique<FakeStore>();
  s->info = StudyInfo{name, "Learning rates <b>0.01</b> to 0.5", {}};
  s->add("a1", "lr=0.1 seed=1", RunStatus::done, 5,
         {{0.40, 0.41}, {0.55, 0.54}, {0.72, 0.70}, {0.81, 0.79}, {0.80, 0.82}});
  s->add("a2", "lr=0.1 seed=2", RunStatus::done, 5,
         {{0.42, 0.40}, {0.60, 0.61}, {0.69, 0.68}, {0.75, 0.74}, {0.83, 0.80}}, 12);
  s->add("b", "lr=0.5", RunStatus::diverged, 5, {{0.20, 0.21}, {0.10, 0.10}}, 10, 2);
  // Rates from 1e-4 to 0.1: the learning-rate chart goes logarithmic.
  s->add("c", "lr=0.01", RunStatus::running, 10, {{0.30, 0.31}, {0.50, 0.52}, {0.50, 0.49}}, 10, 0,
         1e-4);
  s->add("d", "lr=0.001", RunStatus::pending, 10, {});
  s->add("e", "lr=1", RunStatus::failed, 5, {{0.10, 0.10}});
  s->records.back().error = "out of memory <oops>";
  s->add("x", "<script>alert(1)</script> <img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">",
         RunStatus::done, 5, {{0.3, 0.3}, {0.4, 0.4}, {0.5, 0.5}, {0.6, 0.6}, {0.65, 0.66}});
  return s;
}

}  // namespace lrtune::test
