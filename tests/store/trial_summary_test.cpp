// The one trial summary (store/trial_summary.h) that status tables, reports
// and exports share, and the one "best epoch" (core/metrics.h) they and the
// search objectives use: non-finite numbers ignored alike everywhere.
#include "store/trial_summary.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "support/fake_store.h"

namespace lrtune {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

EpochMetrics epoch(std::int64_t n, double val_acc, double test_acc, double seconds) {
  EpochMetrics m;
  m.epoch = n;
  m.val_acc = val_acc;
  m.test_acc = test_acc;
  m.seconds = seconds;
  return m;
}

TEST(BestEpoch, HighestOrLowestFiniteValueTheEarliestOfEquals) {
  const std::vector<EpochMetrics> epochs = {epoch(1, 0.5, 0.4, 1), epoch(2, kNaN, 0.4, 1),
                                            epoch(3, 0.7, 0.6, 1), epoch(4, 0.7, 0.5, 1)};
  ASSERT_NE(best_epoch(epochs, &EpochMetrics::val_acc), nullptr);
  EXPECT_EQ(best_epoch(epochs, &EpochMetrics::val_acc)->epoch, 3);
  EXPECT_EQ(best_epoch(epochs, &EpochMetrics::val_acc, /*lowest=*/true)->epoch, 1);
  EXPECT_EQ(best_epoch({epoch(1, kNaN, 0, 1)}, &EpochMetrics::val_acc), nullptr);
  EXPECT_EQ(best_epoch({}, &EpochMetrics::val_acc), nullptr);
}

TEST(TrialSummary, NonFiniteAccuraciesAndSecondsAreLeftOut) {
  TrialRecord t;
  t.spec = {"a", "lr=0.1", {}, 0, 5};
  t.status = RunStatus::running;
  // Out of order, as a store may hand them; one epoch's time lost (NaN).
  const TrialSummary s = summarize_trial(
      t, {epoch(3, 0.72, 0.70, 10), epoch(1, 0.40, kNaN, kNaN), epoch(2, kNaN, 0.5, 10)});
  EXPECT_EQ(s.trial.epochs_done, 3);
  EXPECT_DOUBLE_EQ(s.wall_seconds, 20);
  EXPECT_DOUBLE_EQ(s.mean_epoch_s, 20.0 / 3);
  EXPECT_DOUBLE_EQ(*s.best_val_acc, 0.72);
  EXPECT_EQ(s.best_val_epoch, 3);
  EXPECT_DOUBLE_EQ(*s.test_at_best_val, 0.70);
  EXPECT_DOUBLE_EQ(*s.final_test_acc, 0.70);
  EXPECT_EQ(*s.first_epoch_at[1], 3);  // val >= 0.7 first at epoch 3
  EXPECT_FALSE(s.first_epoch_at[2]);
}

TEST(TrialSummary, CurrentTrialsFollowTheStudysListElseAll) {
  test::FakeStore store;
  store.add("a", "a", RunStatus::done, 1, {});
  store.add("b", "b", RunStatus::done, 1, {});
  store.add("old", "old", RunStatus::done, 1, {});
  EXPECT_EQ(current_trials(store).size(), 3u);  // no study: a run folder's trials
  store.info = StudyInfo{"s", "", {}, {"b", "a", "gone"}};
  const auto current = current_trials(store);
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].spec.id, "b");
  EXPECT_EQ(current[1].spec.id, "a");
  EXPECT_EQ(select_trials(store, {}).size(), 3u);
}

TEST(EpochLines, OneSummaryAndOneProgressLineForSingleRunsAndPacks) {
  EpochMetrics m = epoch(3, 0.5, 0.4, 12.5);
  m.images_per_s = 2345;
  EXPECT_EQ(epoch_summary_line(m, 15).substr(0, 10), "epoch 3/15");
  EXPECT_EQ(epoch_summary_line(m, 15).find("pack"), std::string::npos);
  EXPECT_NE(epoch_summary_line(m, 15, 4).find("(pack of 4)"), std::string::npos);
  const std::string progress = epoch_progress_line(3, 15, 12800, 45000, 5.0, 1.2345);
  EXPECT_EQ(progress, "epoch 4/15  [12,800/45,000]  2,560 img/s  loss 1.2345  training left 13s");
  EXPECT_NE(epoch_progress_line(3, 15, 12800, 45000, 5.0, 1.2345, true).find("img/s per trial"),
            std::string::npos);
}

}  // namespace
}  // namespace lrtune
