// An in-memory Store holding a fabricated study, for report tests: reports
// read only through the Store interface, so no database is needed.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace lrtune::test {

class FakeStore : public Store {
 public:
  std::optional<StudyInfo> info;
  std::vector<TrialRecord> records;
  std::map<std::string, std::vector<EpochMetrics>> rows;

  void put_study(const StudyInfo& i) override { info = i; }
  std::optional<StudyInfo> study() override { return info; }
  void add_trial(const TrialSpec& spec) override {
    if (!trial(spec.id)) records.push_back(TrialRecord{spec});
  }
  std::vector<TrialRecord> trials() override {
    auto out = records;
    for (auto& r : out) r.epochs_done = static_cast<std::int64_t>(rows[r.spec.id].size());
    return out;
  }
  std::optional<TrialRecord> trial(const std::string& id) override {
    for (const auto& r : records)
      if (r.spec.id == id) return r;
    return std::nullopt;
  }
  std::optional<TrialRecord> claim_trial(const std::vector<std::string>&, const std::string&,
                                         std::int64_t, double) override {
    return std::nullopt;
  }
  void heartbeat(const std::string&) override {}
  void finish_trial(const std::string& id, RunStatus status, const std::string& error) override {
    for (auto& r : records)
      if (r.spec.id == id) {
        r.status = status;
        r.error = error;
      }
  }
  void release_trial(const std::string&) override {}
  // Nothing is ever claimed here, so nothing is held by a dead worker.
  bool holds(const std::string&) override { return true; }
  bool release_orphan(const std::string&, const std::string&, std::int64_t) override { return false; }
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
    for (auto& r : records)
      if (r.spec.id == id) r.info = i;
  }
  void put_epoch(const std::string& id, const EpochMetrics& m) override { rows[id].push_back(m); }
  void truncate_epochs(const std::string&, std::int64_t) override {}
  std::vector<EpochMetrics> epochs(const std::string& id) override { return rows[id]; }

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
      rows[id].push_back(m);
    }
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
