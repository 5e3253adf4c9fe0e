// An in-memory Store, and a fabricated study in it for report tests: reports
// read only through the Store interface, so no database is needed.
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/files.h"
#include "store/store.h"

namespace lrtune::test {

// What every handle on one fake study sees: the "database".
struct FakeStoreState {
  std::optional<StudyInfo> info;
  std::vector<TrialRecord> records;
  std::map<std::string, std::vector<EpochMetrics>> rows;
  double clock = 1000.0;                           // the store's clock: tests move it by hand
  std::map<std::string, std::string> checkpoints;  // trial id -> bytes of its last checkpoint
  std::map<std::string, std::string> files;        // content hash -> bytes (put_file)
};

// Keeps the whole Store contract (tests/store/store_conformance_test.cpp runs
// the same cases against it as against SQLite), on a manual clock. Handles
// made on one FakeStoreState share the data but not the claims, as two worker
// processes on one database do; each has its own local folder, as workers on
// hosts that share no filesystem have, so checkpoints travel through the store.
class FakeStore : public Store {
 public:
  FakeStore() : FakeStore(std::make_shared<FakeStoreState>()) {}
  explicit FakeStore(std::shared_ptr<FakeStoreState> s) : state(std::move(s)) {}
  FakeStore(const FakeStore&) = delete;
  FakeStore& operator=(const FakeStore&) = delete;

  std::shared_ptr<FakeStoreState> state;
  // The shared data under the names tests fill directly.
  std::optional<StudyInfo>& info = state->info;
  std::vector<TrialRecord>& records = state->records;
  std::map<std::string, std::vector<EpochMetrics>>& rows = state->rows;
  double& clock = state->clock;
  std::string dir = "fake-store";  // this handle's local folder: trial_dir() root
  std::map<std::string, std::int64_t> claims;  // trial id -> lease of this handle's claim

  void put_study(const StudyInfo& i) override { info = i; }
  std::optional<StudyInfo> study() override { return info; }
  void add_trial(const TrialSpec& spec) override {
    if (find(spec.id)) return;
    records.push_back(TrialRecord{spec});
    records.back().info = nlohmann::json::object();  // as a database's default '{}'
  }
  std::vector<TrialRecord> trials() override {
    auto out = records;
    for (auto& r : out) r.epochs_done = epochs_done(r.spec.id);
    return out;
  }
  std::optional<TrialRecord> trial(const std::string& id) override {
    const TrialRecord* r = find(id);
    if (!r) return std::nullopt;
    TrialRecord out = *r;
    out.epochs_done = epochs_done(id);
    return out;
  }
  std::vector<TrialHistory> history() override {
    std::vector<TrialHistory> out;
    if (!info) return out;
    for (const auto& id : info->trial_ids)
      if (auto t = trial(id)) out.push_back({*t, epochs(id)});
    return out;
  }
  std::optional<TrialSpec> add_trial_with(const TrialChooser& choose) override {
    if (!info) throw StoreError("fake store: no study to add a trial to");
    auto spec = choose(history());
    if (!spec) return std::nullopt;
    if (find(spec->id)) throw StoreError("fake store: trial " + spec->id + " is already in the study");
    add_trial(*spec);
    info->trial_ids.push_back(spec->id);
    return spec;
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
  // A handle that lost the lease keeps its claim, so its later writes stay fenced.
  void finish_trial(const std::string& id, RunStatus status, const std::string& error) override {
    TrialRecord* r = writable(id);
    if (!r) return;
    r->status = status;
    r->error = error;
    r->ended_at = r->heartbeat_at = clock;
    claims.erase(id);
  }
  void release_trial(const std::string& id) override {
    TrialRecord* r = writable(id);
    if (!r) return;
    r->status = RunStatus::pending;
    claims.erase(id);
  }
  bool holds(const std::string& id) override {
    auto it = claims.find(id);
    const TrialRecord* r = find(id);
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
    refuse_if_lost(id, "epoch " + std::to_string(m.epoch) + " not recorded");
    if (!find(id)) throw StoreError("fake store: no trial " + id + " in this study");
    auto& list = rows[id];
    auto it = std::find_if(list.begin(), list.end(), [&](const EpochMetrics& e) { return e.epoch >= m.epoch; });
    if (it != list.end() && it->epoch == m.epoch) *it = m;  // replace, as SQLite does
    else list.insert(it, m);
  }
  void truncate_epochs(const std::string& id, std::int64_t last_epoch) override {
    refuse_if_lost(id, "epochs not truncated");
    auto it = rows.find(id);
    if (it == rows.end()) return;
    auto& list = it->second;
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
  // Keeps the file's bytes in the store, as a store without a shared filesystem must.
  void save_checkpoint(const std::string& id, const std::string& local_file) override {
    std::ifstream in(local_file, std::ios::binary);
    if (!in) throw StoreError("fake store: cannot read checkpoint " + local_file);
    state->checkpoints[id].assign(std::istreambuf_iterator<char>(in), {});
  }
  void put_file(const std::string& hash, const std::string& local_file) override {
    std::ifstream in(local_file, std::ios::binary);
    if (!in) throw StoreError("fake store: cannot read " + local_file);
    state->files.emplace(hash, std::string(std::istreambuf_iterator<char>(in), {}));
  }
  std::vector<std::string> file_hashes() override {
    std::vector<std::string> out;
    for (const auto& item : state->files) out.push_back(item.first);
    return out;
  }
  bool fetch_file(const std::string& hash, const std::string& local_file) override {
    auto it = state->files.find(hash);
    if (it == state->files.end()) return false;
    write_file_in_folder(local_file, it->second);
    return true;
  }
  bool fetch_checkpoint(const std::string& id, const std::string& local_file) override {
    auto it = state->checkpoints.find(id);
    if (it == state->checkpoints.end()) return false;
    const auto parent = std::filesystem::path(local_file).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    std::ofstream out(local_file, std::ios::binary | std::ios::trunc);
    out << it->second;
    if (!out.flush()) throw StoreError("fake store: cannot write checkpoint " + local_file);
    return true;
  }

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
    records.back().info = nlohmann::json::object();
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
  std::int64_t epochs_done(const std::string& id) const {
    auto it = rows.find(id);
    return it == rows.end() ? 0 : static_cast<std::int64_t>(it->second.size());
  }
  // The record, unless this handle claimed it and has lost the lease since.
  TrialRecord* writable(const std::string& id) {
    if (claims.count(id) && !holds(id)) return nullptr;
    return find(id);
  }
  void refuse_if_lost(const std::string& id, const std::string& what) {
    if (claims.count(id) && !holds(id))
      throw StoreError("fake store: trial " + id + " was taken over by another worker; " + what);
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
