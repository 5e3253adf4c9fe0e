// Schedules as tables of (epoch, step) -> rate, edges included.
#include <cmath>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "optim/schedule.h"

namespace lrtune {
namespace {

struct Row {
  int64_t epoch, step;
  double lr;
};

void expect_table(const TrainConfig& cfg, int64_t steps, const std::vector<Row>& rows) {
  for (const auto& r : rows)
    EXPECT_NEAR(learning_rate(cfg, r.epoch, r.step, steps), r.lr, 1e-12)
        << cfg.schedule << " epoch " << r.epoch << " step " << r.step;
}

TEST(Schedule, ConstantNeverChanges) {
  TrainConfig c;
  c.lr = 0.1;
  expect_table(c, 10, {{0, 0, 0.1}, {7, 9, 0.1}, {99, 3, 0.1}});
}

TEST(Schedule, MultiStepDecaysFromTheMilestoneEpochOn) {
  TrainConfig c;  // the reference's part 5: 50/100/150, gamma 0.2
  c.lr = 0.01;
  c.schedule = "multistep";
  c.epochs = 200;
  expect_table(c, 352, {{0, 0, 0.01},
                        {49, 351, 0.01},
                        {50, 0, 0.002},
                        {99, 351, 0.002},
                        {100, 0, 0.0004},
                        {150, 0, 0.00008},
                        {199, 351, 0.00008}});
}

TEST(Schedule, StepAndExponential) {
  TrainConfig c;
  c.lr = 1.0;
  c.schedule = "step";
  c.set("step_size", 3);
  c.set("gamma", 0.5);
  expect_table(c, 4, {{0, 0, 1.0}, {2, 3, 1.0}, {3, 0, 0.5}, {5, 3, 0.5}, {6, 0, 0.25}});
  c.schedule = "exponential";
  expect_table(c, 4, {{0, 2, 1.0}, {1, 0, 0.5}, {3, 3, 0.125}});
}

TEST(Schedule, CosineGoesFromLrToMinLrPerStep) {
  TrainConfig c;
  c.lr = 0.1;
  c.set("min_lr", 0.001);
  c.schedule = "cosine";
  c.epochs = 10;
  const int64_t steps = 5;
  EXPECT_NEAR(learning_rate(c, 0, 0, steps), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate(c, 5, 0, steps), 0.001 + 0.099 * 0.5, 1e-12);  // halfway
  const double last = learning_rate(c, 9, 4, steps);
  EXPECT_GT(last, 0.001);
  EXPECT_LT(last, 0.0011);
  EXPECT_LT(learning_rate(c, 3, 2, steps), learning_rate(c, 3, 1, steps));  // moves within an epoch
}

TEST(Schedule, WarmupRampsPerStepThenHandsOver) {
  TrainConfig c;
  c.lr = 0.01;
  c.warmup_epochs = 2;
  const int64_t steps = 5;  // 10 warm-up steps: lr * 1/10 ... lr * 10/10
  expect_table(c, steps, {{0, 0, 0.001}, {0, 4, 0.005}, {1, 0, 0.006}, {1, 4, 0.01}, {2, 0, 0.01}});
}

TEST(Schedule, FractionalWarmupAndWarmupInFrontOfMultiStep) {
  TrainConfig c;
  c.lr = 0.3;
  c.warmup_epochs = 0.5;
  expect_table(c, 4, {{0, 0, 0.15}, {0, 1, 0.3}, {0, 2, 0.3}});
  c.warmup_epochs = 1;
  c.schedule = "multistep";
  c.set("milestones", nlohmann::json::array({1}));
  c.set("gamma", 0.1);
  expect_table(c, 2, {{0, 0, 0.15}, {0, 1, 0.3}, {1, 0, 0.03}});
}

// A resumed run asks for (epoch, step) afresh: the rate must not depend on
// anything but those numbers, so asking out of order changes nothing.
TEST(Schedule, ResumeAtAnyStepGivesTheSameRate) {
  TrainConfig c;
  c.lr = 0.05;
  c.schedule = "cosine";
  c.warmup_epochs = 1.5;
  c.epochs = 6;
  std::vector<double> straight;
  for (int64_t e = 0; e < 6; ++e)
    for (int64_t s = 0; s < 7; ++s) straight.push_back(learning_rate(c, e, s, 7));
  for (int64_t k = 41; k >= 0; k -= 5)
    EXPECT_DOUBLE_EQ(learning_rate(c, k / 7, k % 7, 7), straight[k]);
}

// Kinds count steps as epoch * steps_per_epoch + step: a run too long for that
// (an epochs value no validation bounded) is refused, not overflowed.
TEST(Schedule, RefusesMoreStepsThanItCanCount) {
  for (const char* kind : {"constant", "cosine", "onecycle", "cyclic"}) {
    TrainConfig c;
    c.schedule = kind;
    c.epochs = INT64_MAX;
    EXPECT_THROW(make_schedule(c, {c.epochs, 352}), ConfigError) << kind;
    c.epochs = (std::int64_t{1} << 53) / 352;
    EXPECT_NO_THROW(make_schedule(c, {c.epochs, 352})) << kind;
  }
}

}  // namespace
}  // namespace lrtune
