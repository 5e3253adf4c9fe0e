// Schedules that change the momentum per step or learn from results, through
// the trainer: a run stopped mid-epoch and resumed gets exactly the rates and
// numbers of an uninterrupted one (reduce-on-plateau's state is in the
// checkpoint), with every optimizer whose momentum a schedule can cycle.
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "support/train_support.h"
#include "train/trainer.h"

namespace lrtune {
namespace {

TrainConfig tiny(const std::string& schedule, const std::string& optimizer) {
  TrainConfig c;
  c.schedule = schedule;
  c.optimizer = optimizer;
  c.lr = optimizer == "sgd" ? 0.05 : 0.003;
  c.val_size = 100;
  c.batch_size = 50;
  c.eval_batch_size = 100;
  c.epochs = 4;
  c.device = "cpu";
  c.threads = 1;
  c.seed = 3;
  return c;
}

void expect_resume_equals_straight(const TrainConfig& cfg, const test::TinyCifar& d,
                                   const std::string& name) {
  const auto straight = test::train_epochs(cfg, d.data, d.path(name + "-a.pt"));
  ASSERT_EQ(straight.size(), 4u) << name;
  const std::string ckpt = d.path(name + "-b.pt");
  const std::int64_t steps = (5 * 60 - cfg.val_size + cfg.batch_size - 1) / cfg.batch_size;
  int polls = 0;  // one poll a step: stop in the middle of epoch 3
  auto rows = test::train_epochs(cfg, d.data, ckpt, [&] { return ++polls > 2 * steps + 2; });
  ASSERT_EQ(rows.size(), 2u) << name;
  const auto rest = test::train_epochs(cfg, d.data, ckpt);
  rows.insert(rows.end(), rest.begin(), rest.end());
  ASSERT_EQ(rows.size(), straight.size()) << name;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].lr, straight[i].lr) << name << " epoch " << i + 1;
    EXPECT_EQ(rows[i].train_loss, straight[i].train_loss) << name << " epoch " << i + 1;
    EXPECT_EQ(rows[i].val_loss, straight[i].val_loss) << name << " epoch " << i + 1;
  }
}

TEST(ScheduleTraining, OneCycleAndCyclicResumeExactlyWithEveryOptimizer) {
  test::TinyCifar d(/*per_file=*/60, /*n_test=*/50);
  for (const char* optimizer : {"sgd", "adam", "adamw", "rmsprop"}) {
    expect_resume_equals_straight(tiny("onecycle", optimizer), d, std::string("1c-") + optimizer);
  }
  TrainConfig cyc = tiny("cyclic", "sgd");
  cyc.set("max_lr", 0.1);
  cyc.set("step_size_up", 3);
  expect_resume_equals_straight(cyc, d, "cyclic");
}

TEST(ScheduleTraining, PlateauKeepsWhatItLearntAcrossAResume) {
  test::TinyCifar d(/*per_file=*/60, /*n_test=*/50);
  TrainConfig c = tiny("plateau", "sgd");
  c.set("plateau_metric", "train_acc");
  c.set("patience", 0);
  c.set("threshold_mode", "abs");
  c.set("threshold", 1.0);  // no accuracy improves by 1: after the first epoch, every one is bad
  c.set("factor", 0.5);
  const auto rows = test::train_epochs(c, d.data, d.path("p.pt"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_DOUBLE_EQ(rows[0].lr, 0.05);
  EXPECT_DOUBLE_EQ(rows[1].lr, 0.05);    // epoch 1 set the best
  EXPECT_DOUBLE_EQ(rows[2].lr, 0.025);   // epoch 2 did not beat it
  EXPECT_DOUBLE_EQ(rows[3].lr, 0.0125);  // nor did epoch 3
  expect_resume_equals_straight(c, d, "plateau");
}

}  // namespace
}  // namespace lrtune
