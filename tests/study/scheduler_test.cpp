// The worker loop and the scheduler, driven by a fake trial runner: parallel
// workers, failures, clean stops, and trials of dead or stalled workers taken over.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/process.h"
#include "store/store.h"
#include "study/scheduler.h"
#include "study/worker.h"
#include "support/test_support.h"
#include "study/fake_runner.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
using test::FakeRunner;
using Act = FakeRunner::Act;

class StudySchedulerTest : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string db = (tmp.path() / "results.sqlite").string();
  FakeRunner runner;
  std::vector<std::string> ids;
  GridSource grid{{}};
  double stale_after_s = 60;
  // The store's clock for every handle of this test, worker processes
  // included (they are forked, so they see the value of the moment they start).
  static inline double clock_s = 1000;

  std::unique_ptr<Store> open() const {
    return open_sqlite_store(db, {"", [] { return clock_s; }});
  }

  // Trials labelled t0, t1, ... (id = label), each with `epochs` epochs.
  void add_trials(int n, std::int64_t epochs) {
    auto store = open();
    for (int i = 0; i < n; ++i) {
      const std::string id = "t" + std::to_string(i);
      store->add_trial({id, id, {{"lr", 0.01 * (i + 1)}}, 0, epochs});
      ids.push_back(id);
    }
    grid = GridSource(ids);
  }

  WorkerOptions worker_options(std::int64_t pid) const {
    WorkerOptions wo;
    wo.host = host_name();
    wo.pid = pid;
    wo.stale_after_s = stale_after_s;
    wo.heartbeat_every_s = 0.05;
    return wo;
  }

  // Runs in each forked worker process.
  std::function<int(int)> worker_body() {
    return [this](int) {
      install_stop_handlers();
      auto store = open();
      run_worker(*store, runner, grid, worker_options(getpid()),
                 [] { return stop_requests() > 0; });
      return kWorkerExitOk;
    };
  }

  SchedulerResult schedule(int jobs, const std::function<int()>& stop = [] { return 0; },
                           int max_crashes = 2) {
    auto store = open();
    SchedulerOptions so;
    so.jobs = jobs;
    so.host = host_name();
    so.stale_after_s = stale_after_s;
    so.poll_s = 0.02;
    so.progress_every_s = 1e9;
    so.max_crashes = max_crashes;
    return run_scheduler(*store, grid, worker_body(), so, stop);
  }

  // Every epoch 1..total exactly once, with the canned values.
  void expect_complete(const std::string& id) {
    auto store = open();
    const auto t = store->trial(id);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->status, RunStatus::done) << id;
    const auto rows = store->epochs(id);
    ASSERT_EQ(static_cast<std::int64_t>(rows.size()), t->spec.epochs_total) << id;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto want = FakeRunner::metrics(*t, static_cast<std::int64_t>(i + 1));
      EXPECT_EQ(rows[i].epoch, want.epoch);
      EXPECT_EQ(rows[i].val_acc, want.val_acc);
    }
  }
};

TEST_F(StudySchedulerTest, WorkerRecordsDoneDivergedAndFailed) {
  add_trials(3, 3);
  runner.plans["t1"] = {Act::diverge, 2};
  runner.plans["t2"] = {Act::fail, 2};
  auto store = open();
  const auto summary = run_worker(*store, runner, grid, worker_options(1), [] { return false; });
  EXPECT_EQ(summary.finished, 3);
  EXPECT_EQ(summary.failed, 1);
  expect_complete("t0");
  EXPECT_EQ(store->trial("t1")->status, RunStatus::diverged);
  EXPECT_EQ(store->trial("t1")->epochs_done, 2);
  EXPECT_EQ(store->trial("t1")->error, "loss became nan");
  EXPECT_EQ(store->trial("t2")->status, RunStatus::failed);
  EXPECT_EQ(store->trial("t2")->error, "out of memory (fake)");
  EXPECT_EQ(store->trial("t2")->epochs_done, 1);
}

TEST_F(StudySchedulerTest, WorkerStopKeepsEpochsAndTheNextRunResumes) {
  add_trials(1, 40);
  auto store = open();
  auto summary = run_worker(*store, runner, grid, worker_options(1),
                            [&] { return store->trial("t0")->epochs_done >= 3; });
  EXPECT_TRUE(summary.stopped);
  auto t = store->trial("t0");
  EXPECT_EQ(t->status, RunStatus::pending);
  EXPECT_EQ(t->epochs_done, 3);
  summary = run_worker(*store, runner, grid, worker_options(1), [] { return false; });
  EXPECT_FALSE(summary.stopped);
  expect_complete("t0");
  EXPECT_EQ(store->trial("t0")->attempts, 2);
}

TEST_F(StudySchedulerTest, WorkerLeavesATrialAnotherWorkerTookOver) {
  add_trials(1, 1);
  runner.plans["t0"] = {Act::hang, 1};
  auto store = open();
  WorkerSummary summary;
  std::thread worker([&] {
    summary = run_worker(*store, runner, grid, worker_options(1), [] { return false; });
  });
  auto other = open();
  // Once the worker holds the trial, its heartbeat goes stale: another takes it.
  ASSERT_TRUE(test::wait_until([&] { return other->trial("t0")->status == RunStatus::running; }));
  clock_s += stale_after_s + 1;
  const auto taken = other->claim_trial(ids, "other-host", 99, stale_after_s);
  worker.join();
  ASSERT_TRUE(taken);
  EXPECT_EQ(summary.lost, 1);
  EXPECT_EQ(summary.finished, 0);
  const auto t = other->trial("t0");
  EXPECT_EQ(t->status, RunStatus::running);
  EXPECT_EQ(t->host, "other-host");
}

TEST_F(StudySchedulerTest, RunsJobsInParallelProcesses) {
  add_trials(6, 4);
  runner.record_dir = tmp.path();
  // Each trial, once started, waits until as many trials run as can (3 jobs),
  // then notes how many run: three workers must run side by side, never more.
  runner.on_start = [this](const TrialRecord&) {
    auto store = open();
    const auto count = [&](RunStatus s) {
      int n = 0;
      for (const auto& t : store->trials()) n += t.status == s;
      return n;
    };
    const bool reached = test::wait_until([&] {
      return count(RunStatus::running) >= std::min(3, count(RunStatus::running) + count(RunStatus::pending));
    }, 60);
    // Not reached within the bound: -1, which fails the test below at once.
    std::ofstream(tmp.path() / "running-at-start", std::ios::app)
        << (reached ? count(RunStatus::running) : -1) << "\n";
  };
  const auto result = schedule(3);
  EXPECT_FALSE(result.interrupted);
  EXPECT_EQ(result.progress.done, 6);
  EXPECT_EQ(result.crashed_workers, 0);
  for (const auto& id : ids) expect_complete(id);
  std::ifstream in(tmp.path() / "running-at-start");
  int most = 0, least = 3, seen = 0;
  for (int n; in >> n; ++seen) {
    most = std::max(most, n);
    least = std::min(least, n);
  }
  EXPECT_EQ(seen, 6);
  EXPECT_GE(least, 1) << "a trial waited 60 s for the others to start";
  EXPECT_EQ(most, 3);
}

TEST_F(StudySchedulerTest, AFailingTrialDoesNotStopTheStudy) {
  add_trials(4, 2);
  runner.plans["t1"] = {Act::fail, 1};
  const auto result = schedule(2);
  EXPECT_EQ(result.progress.done, 3);
  EXPECT_EQ(result.progress.failed, 1);
  auto store = open();
  EXPECT_THAT(store->trial("t1")->error, HasSubstr("out of memory"));
  for (const char* id : {"t0", "t2", "t3"}) expect_complete(id);
}

TEST_F(StudySchedulerTest, AKilledWorkersTrialIsTakenOverAndResumed) {
  add_trials(3, 5);
  runner.plans["t1"] = {Act::kill_once, 3};
  const auto result = schedule(2);
  EXPECT_EQ(result.crashed_workers, 1);
  EXPECT_EQ(result.progress.done, 3);
  for (const auto& id : ids) expect_complete(id);
  auto store = open();
  EXPECT_EQ(store->trial("t1")->attempts, 2);  // resumed once, after epoch 2
}

TEST_F(StudySchedulerTest, ATrialThatKeepsKillingItsWorkerFails) {
  add_trials(2, 3);
  runner.plans["t0"] = {Act::kill_always, 2};
  const auto result = schedule(1, [] { return 0; }, /*max_crashes=*/2);
  EXPECT_EQ(result.crashed_workers, 2);
  auto store = open();
  const auto t = store->trial("t0");
  EXPECT_EQ(t->status, RunStatus::failed);
  EXPECT_THAT(t->error, HasSubstr("died 2 times"));
  EXPECT_THAT(t->error, HasSubstr("signal 9"));
  expect_complete("t1");
}

TEST_F(StudySchedulerTest, StopRequestStopsWorkersKeepingTheirEpochs) {
  add_trials(3, 200);
  // Each trial stores its first epoch, then waits for the stop: the two
  // running when it comes are known, and the third cannot have started.
  for (const auto& id : ids) runner.plans[id] = {Act::hold, 1};
  // Ctrl-C once two trials have an epoch stored.
  auto store = open();
  const auto started = [&] {
    int n = 0;
    for (const auto& t : store->trials()) n += t.epochs_done > 0;
    return n;
  };
  const auto result = schedule(2, [&] { return started() >= 2 ? 1 : 0; });
  EXPECT_TRUE(result.interrupted);
  int with_epochs = 0;
  for (const auto& t : store->trials()) {
    EXPECT_EQ(t.status, RunStatus::pending) << t.spec.id;
    with_epochs += t.epochs_done > 0;
  }
  EXPECT_EQ(with_epochs, 2);  // the two that ran; the third never started
  // Running again finishes them, each epoch exactly once.
  runner.plans.clear();
  EXPECT_EQ(schedule(2).progress.done, 3);
  for (const auto& id : ids) expect_complete(id);
}

TEST_F(StudySchedulerTest, TakesBackTrialsOfDeadLocalWorkersAtOnce) {
  add_trials(3, 2);
  // t0 held by a live worker elsewhere, t1 by a process of this host that is gone.
  auto store = open();
  ASSERT_TRUE(store->claim_trial({"t0"}, "other-host", 1, 60));
  const pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  ASSERT_TRUE(store->claim_trial({"t1"}, host_name(), gone, 60));
  const auto result = schedule(2);
  EXPECT_EQ(result.running_elsewhere, 1);
  EXPECT_EQ(store->trial("t0")->status, RunStatus::running);
  expect_complete("t1");
  expect_complete("t2");
}

TEST_F(StudySchedulerTest, TakesOverTrialsWithAStaleHeartbeat) {
  add_trials(2, 2);
  auto store = open();
  ASSERT_TRUE(store->claim_trial({"t0"}, "other-host", 1, stale_after_s));
  clock_s += stale_after_s + 1;  // and then it stalled
  const auto result = schedule(1);
  EXPECT_EQ(result.running_elsewhere, 0);
  expect_complete("t0");
  expect_complete("t1");
  EXPECT_EQ(store->trial("t0")->host, host_name());
}

}  // namespace
}  // namespace lrtune
