// The schedules with PyTorch's semantics, as tables of (epoch, step) -> rate
// (and momentum), edges included. The expected values are what PyTorch 1.13's
// own schedulers give for the same settings (OneCycleLR, CyclicLR and
// CosineAnnealingWarmRestarts stepped per step, LinearLR, PolynomialLR and
// ReduceLROnPlateau per epoch), written out here.
#include <cmath>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "optim/schedule.h"

namespace lrtune {
namespace {
using json = nlohmann::json;

struct Row {
  std::int64_t epoch, step;
  double lr, momentum;  // momentum < 0: the kind sets none
};

void expect_rows(const TrainConfig& cfg, std::int64_t steps, const std::vector<Row>& rows) {
  const auto s = make_schedule(cfg, {cfg.epochs, steps});
  for (const auto& r : rows) {
    EXPECT_NEAR(s->lr(r.epoch, r.step), r.lr, 1e-12)
        << cfg.schedule << " epoch " << r.epoch << " step " << r.step;
    const auto m = s->momentum(r.epoch, r.step);
    if (r.momentum < 0) {
      EXPECT_FALSE(m) << cfg.schedule;
    } else {
      ASSERT_TRUE(m) << cfg.schedule;
      EXPECT_NEAR(*m, r.momentum, 1e-12) << cfg.schedule << " epoch " << r.epoch;
    }
  }
}

TrainConfig schedule(const std::string& kind, double lr, std::int64_t epochs) {
  TrainConfig c;
  c.schedule = kind;
  c.lr = lr;
  c.epochs = epochs;
  c.validate("test");
  return c;
}

TEST(ScheduleKinds, OneCycleCosineTwoPhases) {
  // max lr 0.1 over 10 epochs of 10 steps: 100 steps, the peak at step 29.
  expect_rows(schedule("onecycle", 0.1, 10), 10,
              {{0, 0, 0.004, 0.95},
               {1, 5, 0.0545986676121, 0.897293054570729},
               {2, 9, 0.1, 0.85},
               {3, 0, 0.099949653528452, 0.850050346672934},
               {6, 4, 0.0500002, 0.9},
               {9, 9, 4e-07, 0.95}});
}

TEST(ScheduleKinds, OneCycleLinearThreePhases) {
  TrainConfig c = schedule("onecycle", 0.1, 10);
  c.set("three_phase", true);
  c.set("anneal_strategy", "linear");
  expect_rows(c, 10,
              {{0, 0, 0.004, 0.95},
               {1, 5, 0.053655172413793, 0.898275862068965},
               {2, 9, 0.1, 0.85},
               {4, 5, 0.047034482758621, 0.905172413793103},
               {5, 8, 0.004, 0.95},
               {7, 0, 0.002829385365854, 0.95},
               {9, 9, 4e-07, 0.95}});
  c.set("cycle_momentum", false);
  expect_rows(c, 10, {{0, 0, 0.004, -1}});
}

TEST(ScheduleKinds, CyclicTriangular2HalvesEachCycle) {
  TrainConfig c = schedule("cyclic", 0.01, 3);
  c.set("max_lr", 0.1);
  c.set("step_size_up", 4);
  c.set("cyclic_mode", "triangular2");
  // 10 steps an epoch: global steps 0, 2, 4, 6, 8, 10, 12, 17.
  expect_rows(c, 10,
              {{0, 0, 0.01, 0.9},
               {0, 2, 0.055, 0.85},
               {0, 4, 0.1, 0.8},
               {0, 6, 0.055, 0.85},
               {0, 8, 0.01, 0.9},
               {1, 0, 0.0325, 0.875},
               {1, 2, 0.055, 0.85},
               {1, 7, 0.015625, 0.89375}});
}

TEST(ScheduleKinds, CyclicExpRangeWithAnotherWayDown) {
  TrainConfig c = schedule("cyclic", 0.01, 3);
  c.set("max_lr", 0.1);
  c.set("step_size_up", 3);
  c.set("step_size_down", 5);
  c.set("cyclic_mode", "exp_range");
  c.set("cyclic_gamma", 0.99);
  expect_rows(c, 10,
              {{0, 0, 0.01, 0.9},
               {0, 2, 0.068806, 0.83466},
               {0, 3, 0.09732691, 0.8029701},
               {0, 5, 0.0613534626946, 0.842940597006},
               {0, 8, 0.01, 0.9},
               {1, 1, 0.090580442883284, 0.810466174574128},
               {2, 0, 0.068889299507001, 0.834567444992222}});
}

TEST(ScheduleKinds, CosineRestartsLengthenEachCycle) {
  TrainConfig c = schedule("cosine_restarts", 0.1, 8);
  c.set("t_0", 2);
  c.set("t_mult", 2);
  c.set("min_lr", 0.001);
  // 4 steps an epoch: the rate at epoch e + step/4, restarts at epochs 2 and 6.
  expect_rows(c, 4,
              {{0, 0, 0.1, -1},
               {0, 2, 0.085501785668734, -1},
               {1, 3, 0.004767963140691, -1},
               {2, 0, 0.1, -1},
               {3, 1, 0.07800072653447, -1},
               {5, 3, 0.00195112862004, -1},
               {6, 0, 0.1, -1},
               {7, 2, 0.091657745808976, -1}});
  TrainConfig same = schedule("cosine_restarts", 0.1, 7);
  same.set("t_0", 3);
  expect_rows(same, 2,
              {{0, 0, 0.1, -1}, {1, 1, 0.05, -1}, {3, 0, 0.1, -1}, {5, 1, 0.006698729810778, -1},
               {6, 0, 0.1, -1}});
}

TEST(ScheduleKinds, LinearWithPyTorchDefaultsAndAsADecayToZero) {
  const TrainConfig c = schedule("linear", 0.1, 8);  // start 1/3, end 1, over 5 epochs
  const std::vector<double> want = {0.033333333333333, 0.046666666666667, 0.06, 0.073333333333333,
                                    0.086666666666667, 0.1, 0.1, 0.1};
  for (std::size_t e = 0; e < want.size(); ++e)
    EXPECT_NEAR(learning_rate(c, static_cast<std::int64_t>(e), 3, 10), want[e], 1e-12) << e;
  TrainConfig decay = schedule("linear", 0.1, 6);
  decay.set("start_factor", 1.0);
  decay.set("end_factor", 0.0);
  decay.set("total_iters", 4);
  const std::vector<double> down = {0.1, 0.075, 0.05, 0.025, 0.0, 0.0};
  for (std::size_t e = 0; e < down.size(); ++e)
    EXPECT_NEAR(learning_rate(decay, static_cast<std::int64_t>(e), 0, 10), down[e], 1e-12) << e;
}

TEST(ScheduleKinds, PolynomialReachesZeroAtTotalIters) {
  TrainConfig c = schedule("polynomial", 0.1, 6);
  c.set("total_iters", 4);
  c.set("power", 2.0);
  const std::vector<double> want = {0.1, 0.05625, 0.025, 0.00625, 0.0, 0.0};
  for (std::size_t e = 0; e < want.size(); ++e)
    EXPECT_NEAR(learning_rate(c, static_cast<std::int64_t>(e), 0, 10), want[e], 1e-12) << e;
}

// Feeds one metric value per epoch; the rate of the next epoch after each.
std::vector<double> plateau_rates(const TrainConfig& cfg, const std::vector<double>& values,
                                  double EpochMetrics::*field) {
  auto s = make_schedule(cfg, {cfg.epochs, 10});
  std::vector<double> out;
  for (std::size_t e = 0; e < values.size(); ++e) {
    EpochMetrics m;
    m.epoch = static_cast<std::int64_t>(e + 1);
    m.*field = values[e];
    s->observe(m);
    out.push_back(s->lr(static_cast<std::int64_t>(e + 1), 0));
  }
  return out;
}

TEST(ScheduleKinds, PlateauReducesAfterPatienceWithCooldownAndFloor) {
  TrainConfig c = schedule("plateau", 0.1, 20);
  c.set("factor", 0.5);
  c.set("patience", 1);
  c.set("cooldown", 1);
  c.set("min_lr", 0.02);
  const auto got = plateau_rates(c, {1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.5, 0.6, 0.7, 0.8, 0.9},
                                 &EpochMetrics::val_loss);
  const std::vector<double> want = {0.1,  0.1,  0.1,   0.05,  0.05, 0.05,
                                    0.05, 0.05, 0.025, 0.025, 0.025};
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-15) << i;
}

TEST(ScheduleKinds, PlateauMaximisesAnAccuracyWithAnAbsoluteThreshold) {
  TrainConfig c = schedule("plateau", 0.1, 20);
  c.set("plateau_metric", "val_acc");
  c.set("patience", 0);
  c.set("threshold", 0.01);
  c.set("threshold_mode", "abs");
  const auto got = plateau_rates(c, {0.5, 0.505, 0.52, 0.52, 0.6, 0.6}, &EpochMetrics::val_acc);
  const std::vector<double> want = {0.1, 0.01, 0.01, 0.001, 0.001, 0.0001};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-15) << i;
}

TEST(ScheduleKinds, PlateauStateRestoresTheSameRates) {
  TrainConfig c = schedule("plateau", 0.1, 20);
  c.set("patience", 0);
  auto first = make_schedule(c, {20, 10});
  EpochMetrics m;
  for (double loss : {1.0, 1.1}) {
    m.val_loss = loss;
    first->observe(m);
  }
  auto resumed = make_schedule(c, {20, 10});
  resumed->load_state(nlohmann::json::parse(first->state().dump()));  // through a checkpoint's JSON
  EXPECT_DOUBLE_EQ(resumed->lr(2, 0), first->lr(2, 0));
  EXPECT_DOUBLE_EQ(resumed->lr(2, 0), 0.01);
  for (auto* s : {first.get(), resumed.get()}) {
    m.val_loss = 1.2;
    s->observe(m);
  }
  EXPECT_DOUBLE_EQ(resumed->lr(3, 0), first->lr(3, 0));
  EXPECT_DOUBLE_EQ(resumed->lr(3, 0), 0.001);
}

TEST(ScheduleKinds, BadKeysAreRefused) {
  TrainConfig c;
  c.schedule = "onecycle";
  c.set("anneal_strategy", "cosine");
  EXPECT_THROW(c.validate("test"), ConfigError);
  c = TrainConfig();
  c.schedule = "cyclic";
  c.lr = 0.5;  // above max_lr 0.1
  EXPECT_THROW(c.validate("test"), ConfigError);
  c = TrainConfig();
  c.schedule = "plateau";
  c.set("plateau_metric", "lr");
  EXPECT_THROW(c.validate("test"), ConfigError);
}

TrainConfig piecewise(const json& starts, const json& lr, const json& momentum, std::int64_t epochs) {
  TrainConfig c;
  c.schedule = "piecewise";
  c.lr = 0.5;
  c.epochs = epochs;
  c.set("piecewise_epochs", starts);
  c.set("piecewise_lr", lr);
  c.set("piecewise_momentum", momentum);
  return c;
}

TEST(ScheduleKinds, PiecewiseHoldsEachStretchsRateAndMomentum) {
  TrainConfig c = piecewise({1, 4, 8}, {0.1, 0.05, 0.01}, {0.9, 0.8, 0.5}, 10);
  c.validate("test");
  // Epochs here are 0-based: stretch 2 starts at the 4th epoch (index 3).
  expect_rows(c, 10,
              {{0, 0, 0.1, 0.9}, {2, 9, 0.1, 0.9}, {3, 0, 0.05, 0.8}, {6, 9, 0.05, 0.8},
               {7, 0, 0.01, 0.5}, {9, 9, 0.01, 0.5}});
  // No momentum list: the optimizer keeps its own. No rates: lr throughout.
  expect_rows(piecewise({1, 3}, {0.2, 0.02}, json::array(), 4), 5,
              {{0, 0, 0.2, -1}, {1, 4, 0.2, -1}, {2, 0, 0.02, -1}, {3, 4, 0.02, -1}});
  expect_rows(piecewise({1}, json::array(), json::array(), 3), 5, {{0, 0, 0.5, -1}, {2, 4, 0.5, -1}});
}

TEST(ScheduleKinds, PiecewiseWritesOutAnotherSchedule) {
  // Step decay written out stretch by stretch gives its rate at every step.
  TrainConfig step;
  step.schedule = "multistep";
  step.lr = 0.1;
  step.epochs = 6;
  step.set("milestones", json{2, 4});
  step.set("gamma", 0.1);
  TrainConfig written = piecewise({1, 3, 5}, {0.1, 0.01, 0.001}, json::array(), 6);
  written.validate("test");
  for (std::int64_t e = 0; e < 6; ++e)
    for (std::int64_t k = 0; k < 3; ++k)
      EXPECT_NEAR(learning_rate(written, e, k, 3), learning_rate(step, e, k, 3), 1e-15) << e;
}

TEST(ScheduleKinds, PiecewiseMistakesAreOneLineEach) {
  auto message = [](const TrainConfig& c) {
    try {
      c.validate("s.toml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(message(piecewise({1, 5, 3}, {0.1, 0.2, 0.3}, json::array(), 9)),
            "s.toml: piecewise_epochs: must be in increasing order, got 5 then 3");
  EXPECT_EQ(message(piecewise({2, 5}, {0.1, 0.2}, json::array(), 9)),
            "s.toml: piecewise_epochs: must start with epoch 1 (the first stretch begins the run)");
  EXPECT_EQ(message(piecewise({1, 12}, {0.1, 0.2}, json::array(), 9)),
            "s.toml: piecewise_epochs: epoch 12 is beyond the run's 9 epochs");
  EXPECT_EQ(message(piecewise({1, 5}, {0.1}, json::array(), 9)),
            "s.toml: piecewise_lr: has 1 entry; give one rate per piecewise_epochs entry (2 entries)");
  EXPECT_EQ(message(piecewise({1, 5}, {0.1, 0.0}, json::array(), 9)),
            "s.toml: piecewise_lr: rates must be above 0");
  EXPECT_EQ(message(piecewise({1, 5}, {0.1, 0.2}, {0.9, 1.0}, 9)),
            "s.toml: piecewise_momentum: values must be in [0, 1)");
  // Lists are read from TOML and from the command line alike.
  TrainConfig c;
  EXPECT_THROW(c.set("piecewise_lr", json{0.1, "fast"}, "s.toml"), ConfigError);
  apply_text(c, "piecewise_lr", "0.1,0.05,1", "--piecewise-lr");
  EXPECT_EQ(c.real_list("piecewise_lr"), (std::vector<double>{0.1, 0.05, 1.0}));
}

}  // namespace
}  // namespace lrtune
