// The trainer on tiny generated data: it learns, it detects divergence, and a
// resumed run ends exactly where an uninterrupted one does.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/cifar10.h"
#include "support/test_support.h"
#include "support/train_support.h"
#include "train/trainer.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;

struct TinyData : test::TinyCifar {
  explicit TinyData(int per_file = 100, int n_test = 200) : TinyCifar(per_file, n_test) {}
};

TrainConfig tiny_config() { return test::tiny_train_config(); }

std::vector<EpochMetrics> train_collect(const TrainConfig& cfg, const ImageDataset& data,
                                        const std::string& ckpt, RunOutcome* outcome = nullptr,
                                        std::function<bool()> stop = nullptr) {
  return test::train_epochs(cfg, data, ckpt, std::move(stop), outcome);
}

TEST(Trainer, LearnsAnEasyProblem) {
  TinyData d;
  TrainConfig cfg = tiny_config();
  RunOutcome out;
  auto rows = train_collect(cfg, d.data, (d.dir.path() / "ck.pt").string(), &out);
  ASSERT_EQ(out.status, RunStatus::done);
  ASSERT_EQ(rows.size(), 6u);
  // Chance is 0.1: an untrained network cannot pass 0.9 on held-out images.
  EXPECT_GT(rows.back().val_acc, 0.9);
  EXPECT_GE(rows.back().val_acc, rows.front().val_acc);
  EXPECT_GT(rows.back().test_acc, 0.9);
  EXPECT_LT(rows.back().train_loss, 0.5 * rows.front().train_loss);
  for (const auto& r : rows) {
    EXPECT_GT(r.images_per_s, 0);
    EXPECT_GT(r.seconds, 0);
    EXPECT_DOUBLE_EQ(r.lr, 0.02);
  }
}

TEST(Trainer, HugeLearningRateIsRecordedAsDiverged) {
  TinyData d;
  TrainConfig cfg = tiny_config();
  cfg.lr = 1e6;
  RunOutcome out;
  auto rows = train_collect(cfg, d.data, (d.dir.path() / "ck.pt").string(), &out);
  EXPECT_EQ(out.status, RunStatus::diverged);
  ASSERT_FALSE(rows.empty());
  EXPECT_LT(rows.size(), 6u);
  EXPECT_EQ(out.epochs_completed, static_cast<int64_t>(rows.size()));
  EXPECT_FALSE(std::isfinite(rows.back().train_loss));
}

TEST(Trainer, ResumeEqualsUninterruptedRun) {
  TinyData d;
  TrainConfig cfg = tiny_config();
  cfg.epochs = 4;
  cfg.warmup_epochs = 1;
  cfg.schedule = "multistep";
  cfg.set("milestones", nlohmann::json::array({2}));
  auto straight = train_collect(cfg, d.data, (d.dir.path() / "a.pt").string());

  // Stop in the middle of epoch 3 (steps 0..13 per epoch), then resume.
  const std::string ckpt = (d.dir.path() / "b.pt").string();
  int polls = 0;
  RunOutcome first;
  auto part = train_collect(cfg, d.data, ckpt, &first, [&] { return ++polls > 2 * 13 + 5; });
  EXPECT_EQ(first.status, RunStatus::running);
  ASSERT_EQ(part.size(), 2u);
  std::int64_t resumed_from = -1;
  TrainHooks hooks;
  std::vector<EpochMetrics> rest;
  hooks.on_epoch = [&](const EpochMetrics& m) { rest.push_back(m); };
  hooks.on_resume = [&](std::int64_t e) { resumed_from = e; };
  RunOutcome second = run_training(cfg, d.data, ckpt, hooks);
  EXPECT_EQ(second.status, RunStatus::done);
  EXPECT_EQ(resumed_from, 2);
  ASSERT_EQ(rest.size(), 2u);
  part.insert(part.end(), rest.begin(), rest.end());
  ASSERT_EQ(part.size(), straight.size());
  for (size_t i = 0; i < part.size(); ++i) {
    EXPECT_EQ(part[i].epoch, straight[i].epoch);
    EXPECT_EQ(part[i].lr, straight[i].lr);
    EXPECT_EQ(part[i].train_loss, straight[i].train_loss) << "epoch " << i + 1;
    EXPECT_EQ(part[i].val_acc, straight[i].val_acc);
    EXPECT_EQ(part[i].test_loss, straight[i].test_loss);
  }
}

TEST(Trainer, CheckpointFromAnotherConfigurationIsRefused) {
  TinyData d;
  TrainConfig cfg = tiny_config();
  cfg.epochs = 1;
  const std::string ckpt = (d.dir.path() / "c.pt").string();
  train_collect(cfg, d.data, ckpt);
  cfg.lr = 0.5;
  cfg.epochs = 2;
  EXPECT_THROW(train_collect(cfg, d.data, ckpt), StoreError);
}

}  // namespace
}  // namespace lrtune
