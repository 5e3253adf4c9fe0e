// The worker loop with a fake pack runner: packs formed by key and size, each
// trial's own epochs and outcome recorded, a stop that releases them all, and
// a pack whose worker dies charging none of its trials.
#include <unistd.h>

#include <atomic>
#include <future>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/process.h"
#include "store/store.h"
#include "study/fake_runner.h"
#include "study/scheduler.h"
#include "study/trial_source.h"
#include "study/worker.h"
#include "support/test_support.h"

namespace lrtune {
namespace {

// Runs a pack's trials one after another with FakeRunner; the key is the
// config's "group" (no group: never packed).
class FakePackRunner : public PackTrialRunner {
 public:
  test::FakeRunner single;
  std::vector<std::vector<std::string>> packs;  // labels, per call
  bool throw_on_pack = false;
  // Throws StoreUnavailableError after this many trials of a call ran (-1 = never).
  int store_gone_after = -1;

  std::string pack_key(const TrialRecord& t) override {
    return t.spec.config.value("group", std::string());
  }
  std::vector<TrialResult> run(const std::vector<TrialRecord>& trials,
                               const std::vector<TrialContext>& contexts) override {
    packs.emplace_back();
    for (const auto& t : trials) packs.back().push_back(t.spec.label);
    if (throw_on_pack && trials.size() > 1) throw std::runtime_error("device lost (fake)");
    std::vector<TrialResult> out;
    for (std::size_t i = 0; i < trials.size(); ++i) {
      if (static_cast<int>(i) == store_gone_after)
        throw StoreUnavailableError("db: no connection again within 300s (--store-retry)");
      out.push_back(single.run(trials[i], contexts[i]));
    }
    return out;
  }
};

class PackWorkerTest : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string db = (tmp.path() / "results.sqlite").string();
  std::unique_ptr<Store> store = open_sqlite_store(db);
  FakePackRunner runner;
  std::vector<std::string> ids;

  void add(const std::string& id, const std::string& group, std::int64_t epochs = 2) {
    nlohmann::json config = {{"lr", 0.01}};
    if (!group.empty()) config["group"] = group;
    store->add_trial({id, id, config, 0, epochs});
    ids.push_back(id);
  }
  WorkerSummary run(int pack_size, const std::function<bool()>& stop) {
    GridSource grid(ids);
    return run_worker(*store, runner, grid, options(pack_size), stop);
  }
  WorkerOptions options(int pack_size) const {
    WorkerOptions wo;
    wo.pack_size = pack_size;
    wo.host = host_name();
    wo.pid = 1;
    wo.heartbeat_every_s = 0.05;
    return wo;
  }
  RunStatus status(const std::string& id) { return store->trial(id)->status; }
};

TEST_F(PackWorkerTest, FormsPacksByKeyUpToTheSize) {
  const std::vector<std::pair<std::string, std::string>> trials = {
      {"t0", "a"}, {"t1", "a"}, {"t2", "b"}, {"t3", "a"}, {"t4", "a"}, {"t5", ""}, {"t6", ""}};
  for (const auto& [id, group] : trials) add(id, group);
  const auto summary = run(3, [] { return false; });
  EXPECT_EQ(summary.finished, 7);
  const std::vector<std::vector<std::string>> expected = {
      {"t0", "t1", "t3"}, {"t2"}, {"t4"}, {"t5"}, {"t6"}};
  EXPECT_EQ(runner.packs, expected);
  for (const auto& id : ids) {
    EXPECT_EQ(status(id), RunStatus::done) << id;
    EXPECT_EQ(store->epochs(id).size(), 2u) << id;
  }
}

TEST_F(PackWorkerTest, EachTrialKeepsItsOwnOutcome) {
  add("t0", "a", 3);
  add("t1", "a", 3);
  add("t2", "a", 3);
  runner.single.plans["t1"] = {test::FakeRunner::Act::diverge, 2};
  run(8, [] { return false; });
  ASSERT_EQ(runner.packs.size(), 1u);
  EXPECT_EQ(status("t0"), RunStatus::done);
  EXPECT_EQ(status("t1"), RunStatus::diverged);
  EXPECT_EQ(store->epochs("t1").size(), 2u);
  EXPECT_EQ(status("t2"), RunStatus::done);
  EXPECT_EQ(store->epochs("t2").size(), 3u);
}

TEST_F(PackWorkerTest, APackThatThrowsFailsItsTrialsOnly) {
  add("t0", "a");
  add("t1", "a");
  add("t2", "b");
  runner.throw_on_pack = true;
  const auto summary = run(4, [] { return false; });
  EXPECT_EQ(summary.failed, 2);
  EXPECT_EQ(status("t0"), RunStatus::failed);
  EXPECT_EQ(status("t1"), RunStatus::failed);
  EXPECT_EQ(status("t2"), RunStatus::done);
}

// A store out of reach for longer than its retry time is not the trials'
// fault: none is failed, each keeps its epochs, and the worker stops.
TEST_F(PackWorkerTest, AStoreOutOfReachStopsTheWorkerFailingNoTrial) {
  add("t0", "a", 3);
  add("t1", "a", 3);
  add("t2", "b", 3);
  runner.store_gone_after = 1;  // t0 trained, then the store is gone
  const auto summary = run(2, [] { return false; });
  EXPECT_TRUE(summary.store_unavailable);
  EXPECT_TRUE(summary.stopped);
  EXPECT_EQ(summary.failed, 0);
  EXPECT_EQ(runner.packs.size(), 1u);  // t2 is not started
  for (const auto& id : ids) EXPECT_EQ(status(id), RunStatus::pending) << id;
  EXPECT_EQ(store->epochs("t0").size(), 3u);
  runner.store_gone_after = -1;
  run(2, [] { return false; });  // back: the next worker finishes them
  for (const auto& id : ids) EXPECT_EQ(status(id), RunStatus::done) << id;
}

TEST_F(PackWorkerTest, StopReleasesThePackKeepingEpochs) {
  add("t0", "a", 4);
  add("t1", "a", 4);
  auto stop = [&] { return !store->epochs("t0").empty(); };
  auto summary = run(2, stop);
  EXPECT_TRUE(summary.stopped);
  EXPECT_EQ(status("t0"), RunStatus::pending);
  EXPECT_EQ(status("t1"), RunStatus::pending);
  EXPECT_GE(store->epochs("t0").size(), 1u);
  summary = run(2, [] { return false; });
  EXPECT_EQ(status("t0"), RunStatus::done);
  EXPECT_EQ(status("t1"), RunStatus::done);
  EXPECT_EQ(store->epochs("t1").size(), 4u);
}

// A pack whose worker process dies charges none of its trials (any of them
// may have killed it): each runs alone next, and only the trial that kills
// its worker alone, max_crashes times, fails.
TEST_F(PackWorkerTest, AWorkerThatDiesInAPackChargesOnlyTheTrialThatKillsIt) {
  add("t0", "a", 3);
  add("bad", "a", 3);
  add("t2", "a", 3);
  runner.single.plans["bad"] = {test::FakeRunner::Act::kill_always, 2};
  const auto worker = [this](int) {
    install_stop_handlers();
    auto own = open_sqlite_store(db);
    GridSource grid(ids);
    WorkerOptions wo = options(3);
    wo.pid = getpid();
    run_worker(*own, runner, grid, wo, [] { return stop_requests() > 0; });
    return kWorkerExitOk;
  };
  SchedulerOptions so;
  so.host = host_name();
  so.poll_s = 0.02;
  so.progress_every_s = 1e9;
  so.max_crashes = 2;
  GridSource grid(ids);
  const auto result = run_scheduler(*store, grid, worker, so, [] { return 0; });
  EXPECT_EQ(result.crashed_workers, 3);  // once in the pack, then twice alone
  EXPECT_EQ(status("bad"), RunStatus::failed);
  EXPECT_THAT(store->trial("bad")->error, ::testing::HasSubstr("died 2 times"));
  for (const char* id : {"t0", "t2"}) {
    EXPECT_EQ(status(id), RunStatus::done) << id;
    EXPECT_EQ(store->epochs(id).size(), 3u) << id;
  }
}

// A worker joining from another host: with nothing to claim while a trial
// runs elsewhere it waits, and takes the trial over once that worker has
// died (its heartbeat stale by the store's clock); without waiting it ends.
class WaitingWorkerTest : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string db = (tmp.path() / "results.sqlite").string();
  std::shared_ptr<std::atomic<double>> now = std::make_shared<std::atomic<double>>(1.7e9);
  std::unique_ptr<Store> open() {
    SqliteOptions o;
    o.clock = [now = now] { return now->load(); };
    return open_sqlite_store(db, o);
  }
  std::unique_ptr<Store> store = open();
  std::unique_ptr<Store> elsewhere = open();  // the other host's worker
  FakePackRunner runner;
  GridSource grid{std::vector<std::string>{"t0", "t1"}};

  void SetUp() override {
    for (const char* id : {"t0", "t1"}) store->add_trial({id, id, {{"lr", 0.01}}, 0, 2});
    ASSERT_TRUE(elsewhere->claim_trial({"t0"}, "other-host", 99, 60));  // and then it dies
  }
  WorkerOptions options(bool wait) const {
    WorkerOptions wo;
    wo.host = host_name();
    wo.pid = 1;
    wo.heartbeat_every_s = 0.05;
    wo.stale_after_s = 60;
    wo.wait_for_running = wait;
    return wo;
  }
};

TEST_F(WaitingWorkerTest, AWaitingWorkerTakesOverTheTrialOfAWorkerThatDied) {
  WorkerOptions wo = options(/*wait=*/true);
  std::promise<void> waiting;
  wo.log = [&waiting, said = false](const std::string& line) mutable {
    if (!said && line.find("waiting for 1 trial(s) running elsewhere") != std::string::npos) {
      said = true;
      waiting.set_value();
    }
  };
  auto worker = std::async(std::launch::async,
                           [&] { return run_worker(*store, runner, grid, wo, [] { return false; }); });
  waiting.get_future().wait();  // t1 done, t0 still fresh: the worker waits...
  EXPECT_EQ(store->trial("t1")->status, RunStatus::done);
  EXPECT_EQ(store->trial("t0")->status, RunStatus::running);
  *now = now->load() + 61;      // ...until t0's heartbeat is stale, then takes it over
  worker.get();
  const auto t0 = store->trial("t0");
  EXPECT_EQ(t0->status, RunStatus::done);
  EXPECT_EQ(t0->attempts, 2);
  EXPECT_EQ(store->epochs("t0").size(), 2u);
}

TEST_F(WaitingWorkerTest, AWorkerThatDoesNotWaitEndsLeavingTheTrialRunningElsewhere) {
  run_worker(*store, runner, grid, options(/*wait=*/false), [] { return false; });
  EXPECT_EQ(store->trial("t1")->status, RunStatus::done);
  EXPECT_EQ(store->trial("t0")->status, RunStatus::running);
}

}  // namespace
}  // namespace lrtune
