// Median and ASHA decisions on hand-built curves (losses: lower is better).
#include "search/pruner.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace lrtune::search {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Curve done(std::vector<double> loss) { return Curve{std::move(loss), true}; }
Curve running(std::vector<double> loss) { return Curve{std::move(loss), false}; }

TEST(Percentile, IsNumpysLinearPercentileWithoutNaN) {
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 3}, 50), 3);
  EXPECT_DOUBLE_EQ(percentile({1, kNaN, 3}, 50), 2);
  EXPECT_DOUBLE_EQ(percentile({0, 10}, 25), 2.5);
  EXPECT_TRUE(std::isnan(percentile({kNaN}, 50)));
}

TEST(MedianPruner, StopsATrialWorseThanTheMedianAtThatEpoch) {
  const MedianPruner median(2, 0);
  const std::vector<Curve> others = {done({1.0, 0.8, 0.6}), done({1.2, 0.9, 0.7}),
                                     done({0.9, 0.5, 0.4})};
  // Medians at epochs 1, 2: 1.0 and 0.8.
  EXPECT_FALSE(median.prune(running({0.95}), others, 1));
  EXPECT_TRUE(median.prune(running({1.1}), others, 1));
  // Its best so far counts, not its last epoch.
  EXPECT_FALSE(median.prune(running({0.7, 0.85}), others, 2));
  EXPECT_TRUE(median.prune(running({1.1, 0.85}), others, 2));
  // Beyond the epochs any complete trial has: nothing to compare with.
  EXPECT_FALSE(median.prune(running({2, 2, 2, 2}), others, 4));
  // A trial with nothing but diverged epochs stops.
  EXPECT_TRUE(median.prune(running({kNaN}), others, 1));
}

TEST(MedianPruner, WaitsForStartupTrialsAndWarmUpEpochs) {
  const std::vector<Curve> one = {done({0.5, 0.4}), running({0.1, 0.1})};
  EXPECT_FALSE(MedianPruner(2, 0).prune(running({9}), one, 1)) << "one complete trial, 2 needed";
  EXPECT_TRUE(MedianPruner(1, 0).prune(running({9}), one, 1));
  EXPECT_FALSE(MedianPruner(1, 1).prune(running({9}), one, 1)) << "epoch 1 is warm-up";
  EXPECT_TRUE(MedianPruner(1, 1).prune(running({9, 9}), one, 2));
}

TEST(AshaPruner, RungsSitAtMinTimesEtaToTheK) {
  EXPECT_EQ(AshaPruner(1, 3).rungs(30), (std::vector<std::int64_t>{1, 3, 9, 27}));
  EXPECT_EQ(AshaPruner(2, 2).rungs(16), (std::vector<std::int64_t>{2, 4, 8, 16}));
}

TEST(AshaPruner, PromotesTheTopThirdOfARungWithoutWaiting) {
  const AshaPruner asha(1, 3);
  // Decisions only at rung epochs.
  EXPECT_FALSE(asha.prune(running({9, 9}), {done({0.1, 0.1})}, 2));
  // Alone at a rung: it goes on.
  EXPECT_FALSE(asha.prune(running({5}), {}, 1));
  // With one other: the best of the two goes on (1/3 of 2 rounds to the best).
  EXPECT_TRUE(asha.prune(running({5}), {running({4})}, 1));
  EXPECT_FALSE(asha.prune(running({3}), {running({4})}, 1));
  // Six at the rung, itself included: the best two go on.
  const std::vector<Curve> five = {done({1}), running({2}), running({3}), running({4}), running({5})};
  EXPECT_FALSE(asha.prune(running({1.5}), five, 1));
  EXPECT_TRUE(asha.prune(running({2.5}), five, 1));
  // At rung 3 only the trials that reached epoch 3 compete.
  const std::vector<Curve> mixed = {running({1}), done({1, 1, 0.2}), done({1, 1, 0.9})};
  EXPECT_FALSE(asha.prune(running({1, 1, 0.1}), mixed, 3));
  EXPECT_TRUE(asha.prune(running({1, 1, 0.5}), mixed, 3));
  // A diverged epoch at a rung stops the trial.
  EXPECT_TRUE(asha.prune(running({kNaN}), {}, 1));
  // ... and, as in Optuna, competes with no one after: with two diverged
  // trials counted, 5 would be the second best of six and go on.
  const std::vector<Curve> diverged = {running({kNaN}), running({kNaN}), running({4}), running({6}),
                                       running({8})};
  EXPECT_TRUE(asha.prune(running({5}), diverged, 1));
  EXPECT_FALSE(asha.prune(running({3.5}), diverged, 1));
}

}  // namespace
}  // namespace lrtune::search
