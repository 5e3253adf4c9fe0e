// The Store conformance suite's fixture: the backends it runs against (SQLite,
// the test fake, PostgreSQL on a throw-away server) and two workers on one study.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/metrics.h"
#include "store/postgres_store.h"
#include "store/store.h"
#include "support/fake_store.h"
#include "support/postgres_server.h"
#include "support/test_support.h"

namespace lrtune::conformance {

inline const std::string kStudy = "conformance";
constexpr double kStale = 60;  // seconds without a heartbeat before a takeover

// One implementation under test: handles on a study, and the manual clock
// they all judge time by. Tests move time only through advance().
class Backend {
 public:
  virtual ~Backend() = default;
  // A new handle, acting as a worker of its own, on `study`: handles on one
  // study see the same data; those on different studies share nothing.
  virtual std::unique_ptr<Store> open(const std::string& study) = 0;
  virtual void advance(double seconds) = 0;
  // Why this backend cannot run here (the case is skipped saying so); "" = it can.
  virtual std::string unavailable() const { return ""; }
};

// Every handle opens the same file; the clock is one shared double.
class SqliteBackend final : public Backend {
 public:
  std::unique_ptr<Store> open(const std::string& study) override {
    SqliteOptions options;
    options.study = study;
    options.clock = [t = time_] { return *t; };
    return open_sqlite_store((tmp_.path() / "results.sqlite").string(), options);
  }
  void advance(double seconds) override { *time_ += seconds; }

 private:
  test::TempDir tmp_;
  std::shared_ptr<double> time_ = std::make_shared<double>(1.7e9);
};

// One shared state per study; each handle has its own claims and local folder.
class FakeBackend final : public Backend {
 public:
  std::unique_ptr<Store> open(const std::string& study) override {
    auto& state = states_[study];
    if (!state) {
      state = std::make_shared<test::FakeStoreState>();
      state->clock = time_;
    }
    auto store = std::make_unique<test::FakeStore>(state);
    store->dir = (tmp_.path() / ("worker-" + std::to_string(++handles_))).string();
    return store;
  }
  void advance(double seconds) override {
    time_ += seconds;
    for (auto& [name, state] : states_) state->clock = time_;
  }

 private:
  test::TempDir tmp_;
  double time_ = 1.7e9;
  int handles_ = 0;
  std::map<std::string, std::shared_ptr<test::FakeStoreState>> states_;
};

// A fresh database on the test process's PostgreSQL server; every handle
// has its own connection and its own local folder, as workers on hosts that
// share no filesystem have, so checkpoints travel through the database.
class PostgresBackend final : public Backend {
 public:
  PostgresBackend() {
    if (auto* server = test::PostgresServer::get(why_)) url_ = server->create_database("conf");
  }
  std::unique_ptr<Store> open(const std::string& study) override {
    PostgresOptions options;
    options.study = study;
    options.clock = [t = time_] { return *t; };
    options.local_dir = (tmp_.path() / ("worker-" + std::to_string(++handles_))).string();
    return open_postgres_store(url_, options);
  }
  void advance(double seconds) override { *time_ += seconds; }
  std::string unavailable() const override { return why_; }

 private:
  test::TempDir tmp_;
  std::string why_, url_;
  int handles_ = 0;
  std::shared_ptr<double> time_ = std::make_shared<double>(1.7e9);
};

struct BackendKind {
  const char* name;
  std::unique_ptr<Backend> (*make)();
};
inline void PrintTo(const BackendKind& kind, std::ostream* os) { *os << kind.name; }

// `a` and `b`: two workers on one study of a fresh backend.
class StoreConformance : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    backend = GetParam().make();
    if (const std::string why = backend->unavailable(); !why.empty()) GTEST_SKIP() << why;
    a = backend->open(kStudy);
    b = backend->open(kStudy);
  }
  void add(std::initializer_list<const char*> ids) {
    for (const char* id : ids) a->add_trial(spec(id));
  }
  static TrialSpec spec(const std::string& id) {
    return {id, "lr=" + id, {{"lr", 0.1}, {"milestones", {50, 100}}}, 2, 30};
  }
  // An epoch whose fields all differ, so a swapped column shows.
  static EpochMetrics row(std::int64_t epoch, double base = 0.5) {
    EpochMetrics m;
    m.epoch = epoch;
    double v = base + static_cast<double>(epoch);
    for (const auto& f : metric_fields()) m.*f.member = (v += 0.125);
    return m;
  }
  static std::vector<std::string> ids_of(const std::vector<TrialRecord>& trials) {
    std::vector<std::string> out;
    for (const auto& t : trials) out.push_back(t.spec.id);
    return out;
  }
  static std::vector<std::int64_t> epochs_of(const std::vector<EpochMetrics>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& m : rows) out.push_back(m.epoch);
    return out;
  }
  // `a` claims `id` and then loses it: `b` takes it over after a stale heartbeat.
  void a_loses(const std::string& id) {
    ASSERT_TRUE(a->claim_trial({id}, "host-a", 1, kStale));
    backend->advance(kStale + 1);
    ASSERT_TRUE(b->claim_trial({id}, "host-b", 2, kStale));
  }

  std::unique_ptr<Backend> backend;
  std::unique_ptr<Store> a, b;
};

using Ids = std::vector<std::string>;
using Epochs = std::vector<std::int64_t>;

}  // namespace lrtune::conformance
