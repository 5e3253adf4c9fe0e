// Stored trials as the samplers and pruners see them.
#include "search/history.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace lrtune::search {
namespace {

using json = nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

SearchSpec spec(const std::string& objective, const std::string& at = "best") {
  return parse_search(json{{"sampler", "random"}, {"trials", 4}, {"objective", objective}, {"at", at},
                           {"space", {{"lr", {{"log_uniform", {1e-3, 1.0}}}},
                                      {"batch_size", {{"choice", {64, 128}}}}}}},
                      "s.toml");
}

std::vector<EpochMetrics> epochs(std::vector<double> val_acc) {
  std::vector<EpochMetrics> out;
  for (std::size_t i = 0; i < val_acc.size(); ++i) {
    EpochMetrics m;
    m.epoch = static_cast<std::int64_t>(i + 1);
    m.val_acc = val_acc[i];
    m.val_loss = 1 - val_acc[i];
    out.push_back(m);
  }
  return out;
}

TEST(SearchHistory, TheObjectiveIsTheBestOrTheLastEpoch) {
  const auto e = epochs({0.5, 0.7, 0.6});
  EXPECT_DOUBLE_EQ(*trial_objective(e, spec("val_acc")), 0.7);
  EXPECT_DOUBLE_EQ(*trial_objective(e, spec("val_acc", "last")), 0.6);
  EXPECT_DOUBLE_EQ(*trial_objective(e, spec("val_loss")), 1 - 0.7);
  EXPECT_FALSE(trial_objective({}, spec("val_acc")));
  EXPECT_DOUBLE_EQ(*trial_objective(epochs({0.4, kNaN}), spec("val_acc")), 0.4);
  EXPECT_FALSE(trial_objective(epochs({0.4, kNaN}), spec("val_acc", "last")));
}

TEST(SearchHistory, ObservationsByStatus) {
  const SearchSpec s = spec("val_acc");
  const json values = {{"lr", 0.01}, {"batch_size", 128}};
  const auto done = observation_of(values, RunStatus::done, epochs({0.5, 0.7}), s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, Observation::State::complete);
  EXPECT_DOUBLE_EQ(done->loss, -0.7) << "val_acc is maximized: its loss is negated";
  EXPECT_DOUBLE_EQ(done->params.at("lr"), 0.01);
  EXPECT_DOUBLE_EQ(done->params.at("batch_size"), 1) << "a choice's index";
  const auto pruned = observation_of(values, RunStatus::pruned, epochs({0.5, 0.4, 0.45}), s);
  EXPECT_EQ(pruned->state, Observation::State::pruned);
  EXPECT_EQ(pruned->last_epoch, 3);
  EXPECT_DOUBLE_EQ(pruned->last_loss, -0.45);
  EXPECT_EQ(observation_of(values, RunStatus::pending, {}, s)->state, Observation::State::running);
  EXPECT_FALSE(observation_of(values, RunStatus::failed, {}, s));
  const auto diverged = observation_of(values, RunStatus::diverged, epochs({kNaN}), s);
  EXPECT_TRUE(std::isinf(diverged->loss) && diverged->loss > 0) << "the worst loss";
  // A value outside today's space (the space changed) is left out.
  EXPECT_FALSE(observation_of({{"lr", 5.0}}, RunStatus::done, epochs({0.1}), s)->params.count("lr"));
}

TEST(SearchHistory, CurvesForPrunersAreLossesByEpoch) {
  const Curve c = curve_of(epochs({0.5, 0.7}), RunStatus::running, spec("val_acc"));
  EXPECT_EQ(c.loss, (std::vector<double>{-0.5, -0.7}));
  EXPECT_FALSE(c.complete);
  EXPECT_TRUE(curve_of(epochs({0.5}), RunStatus::done, spec("val_loss")).complete);
  EXPECT_DOUBLE_EQ(curve_of(epochs({0.5}), RunStatus::done, spec("val_loss")).loss[0], 0.5);
}

}  // namespace
}  // namespace lrtune::search
