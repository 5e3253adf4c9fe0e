// Trial sources that add trials while workers run: the worker loop asks the
// source to grow when nothing is claimable, and the scheduler keeps workers
// going while the source has budget left, across processes.
#include <unistd.h>

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

// Adds trials s0, s1, ... one per grow() until `budget` are in the store, as
// a sampler does; the next id comes from the store, so any number of workers
// may share it (two adding the same id add it once).
class BudgetSource final : public TrialSource {
 public:
  explicit BudgetSource(std::int64_t budget) : budget_(budget) {}
  std::vector<std::string> trial_ids(Store& store) override {
    std::vector<std::string> ids;
    for (const auto& t : store.trials()) ids.push_back(t.spec.id);
    return ids;
  }
  bool grow(Store& store) override {
    const auto n = static_cast<std::int64_t>(store.trials().size());
    if (n >= budget_) return false;
    const std::string id = "s" + std::to_string(n);
    store.add_trial({id, id, {{"lr", 0.01 * static_cast<double>(n + 1)}}, 0, 2});
    return true;
  }
  std::int64_t remaining(Store& store) override {
    return std::max<std::int64_t>(0, budget_ - static_cast<std::int64_t>(store.trials().size()));
  }

 private:
  std::int64_t budget_;
};

class TrialSourceTest : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string db = (tmp.path() / "results.sqlite").string();
  test::FakeRunner runner;

  WorkerOptions options(std::int64_t pid) const {
    WorkerOptions wo;
    wo.host = host_name();
    wo.pid = pid;
    wo.heartbeat_every_s = 0.05;
    return wo;
  }
  void expect_all_done(Store& store, std::size_t n) {
    const auto trials = store.trials();
    ASSERT_EQ(trials.size(), n);
    for (const auto& t : trials) {
      EXPECT_EQ(t.status, RunStatus::done) << t.spec.id;
      EXPECT_EQ(store.epochs(t.spec.id).size(), 2u) << t.spec.id;
    }
  }
};

TEST_F(TrialSourceTest, TheWorkerLoopRunsTrialsTheSourceAddsDuringTheRun) {
  auto store = open_sqlite_store(db);
  BudgetSource source(4);
  const auto summary = run_worker(*store, runner, source, options(1), [] { return false; });
  EXPECT_EQ(summary.finished, 4);
  expect_all_done(*store, 4);
  EXPECT_EQ(source.remaining(*store), 0);
}

TEST_F(TrialSourceTest, TheSchedulerKeepsWorkersGoingWhileTheSourceHasBudget) {
  auto store = open_sqlite_store(db);  // the study starts with no trial at all
  const auto worker = [this](int) {
    install_stop_handlers();
    auto own = open_sqlite_store(db);
    BudgetSource source(5);
    WorkerOptions wo = options(getpid());
    run_worker(*own, runner, source, wo, [] { return stop_requests() > 0; });
    return kWorkerExitOk;
  };
  SchedulerOptions so;
  so.jobs = 2;
  so.host = host_name();
  so.poll_s = 0.02;
  so.progress_every_s = 1e9;
  BudgetSource source(5);
  const auto result = run_scheduler(*store, source, worker, so, [] { return 0; });
  EXPECT_EQ(result.crashed_workers, 0);
  EXPECT_EQ(result.progress.done, 5);
  expect_all_done(*store, 5);
}

}  // namespace
}  // namespace lrtune
