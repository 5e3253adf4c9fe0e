// Packs on tiny generated data: they learn as well as the same trials alone,
// a diverged copy leaves the others alone, and copies checkpoint and resume
// (in a pack or alone) in run_training's format.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/cifar10.h"
#include "support/test_support.h"
#include "train/pack_trainer.h"
#include "train/trainer.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;

// 300 training-file images (200 train + 100 validation) and 100 test images:
// small enough for packs of three to train a few epochs in seconds.
struct TinyData : test::TinyCifar {
  TinyData() : TinyCifar(60, 100) {}
};

// One thread: on a busy two-core machine, two OpenMP threads mostly wait for each other.
constexpr int kThreads = 1;

TrainConfig tiny_config(double lr, double momentum, bool nesterov, std::int64_t seed) {
  TrainConfig c;
  c.val_size = 100;
  c.batch_size = 16;
  c.eval_batch_size = 100;
  c.lr = lr;
  c.set("momentum", momentum);
  c.set("nesterov", nesterov);
  c.epochs = 5;
  c.device = "cpu";
  c.threads = kThreads;
  c.seed = seed;
  return c;
}

struct PackResult {
  std::vector<std::vector<EpochMetrics>> rows;
  std::vector<RunOutcome> outcomes;
  std::vector<std::int64_t> resumed;
};

PackResult train_pack(const std::vector<TrainConfig>& configs, const ImageDataset& data,
                      const std::vector<std::string>& paths, const PackOptions& options = {},
                      std::function<bool(std::size_t)> stop = nullptr) {
  PackResult r;
  r.rows.resize(configs.size());
  r.resumed.assign(configs.size(), -1);
  PackHooks hooks;
  hooks.on_epoch = [&](std::size_t k, const EpochMetrics& m) { r.rows[k].push_back(m); };
  hooks.on_resume = [&](std::size_t k, std::int64_t last) { r.resumed[k] = last; };
  hooks.should_stop = std::move(stop);
  apply_threads(kThreads);
  r.outcomes = run_pack(configs, data, paths, hooks, options);
  return r;
}

TEST(PackTrainer, LearnsAsWellAsTheSameTrialsAlone) {
  TinyData d;
  const std::vector<TrainConfig> configs = {tiny_config(0.02, 0.9, true, 11),
                                            tiny_config(0.05, 0.5, false, 12)};
  const auto pack = train_pack(configs, d.data, {d.path("a.pt"), d.path("b.pt")});
  for (std::size_t k = 0; k < configs.size(); ++k) {
    std::vector<EpochMetrics> alone;
    TrainHooks hooks;
    hooks.on_epoch = [&](const EpochMetrics& m) { alone.push_back(m); };
    const RunOutcome o = run_training(configs[k], d.data, d.path("alone.pt"), hooks);
    fs::remove(d.path("alone.pt"));
    ASSERT_EQ(o.status, RunStatus::done);
    ASSERT_EQ(pack.outcomes[k].status, RunStatus::done);
    ASSERT_EQ(pack.rows[k].size(), 5u);
    // Dropout masks differ between a pack and a lone run: compare in
    // distribution (both learn the easy problem), not bit for bit.
    EXPECT_GT(alone.back().val_acc, 0.9);
    EXPECT_GT(pack.rows[k].back().val_acc, 0.9) << "copy " << k;
    EXPECT_GT(pack.rows[k].back().test_acc, 0.9) << "copy " << k;
    EXPECT_LT(pack.rows[k].back().train_loss, 0.5 * pack.rows[k].front().train_loss);
    EXPECT_DOUBLE_EQ(pack.rows[k].back().lr, configs[k].lr);
  }
}

TEST(PackTrainer, PackOfOneFollowsRunTraining) {
  TinyData d;
  TrainConfig cfg = tiny_config(0.02, 0.9, true, 11);
  cfg.epochs = 1;
  std::vector<EpochMetrics> alone;
  TrainHooks hooks;
  hooks.on_epoch = [&](const EpochMetrics& m) { alone.push_back(m); };
  apply_threads(kThreads);
  run_training(cfg, d.data, d.path("alone.pt"), hooks);
  const auto pack = train_pack({cfg}, d.data, {d.path("pack.pt")});
  // Same init, split, order, augmentation and dropout streams: only the
  // kernels' rounding differs.
  ASSERT_EQ(pack.rows[0].size(), 1u);
  EXPECT_NEAR(pack.rows[0][0].train_loss, alone[0].train_loss, 1e-3);
  EXPECT_NEAR(pack.rows[0][0].val_loss, alone[0].val_loss, 1e-3);
}

TEST(PackTrainer, DivergedCopyStopsAndSparesTheOthers) {
  TinyData d;
  std::vector<TrainConfig> configs = {tiny_config(0.02, 0.9, true, 11),
                                      tiny_config(1e6, 0.9, false, 13),
                                      tiny_config(0.05, 0.5, false, 12)};
  for (auto& c : configs) c.epochs = 2;
  PackOptions no_dropout;
  no_dropout.dropout = 0;
  const auto wild = train_pack(configs, d.data, {d.path("a"), d.path("w"), d.path("c")}, no_dropout);
  EXPECT_EQ(wild.outcomes[1].status, RunStatus::diverged);
  ASSERT_EQ(wild.rows[1].size(), 1u);
  EXPECT_FALSE(std::isfinite(wild.rows[1].back().train_loss));
  EXPECT_FALSE(fs::exists(d.path("w")));  // no checkpoint of a diverged epoch
  // The same pack with a tame trial in the middle: the others' numbers do not change.
  configs[1].lr = 0.01;
  const auto tame = train_pack(configs, d.data, {d.path("a2"), d.path("t2"), d.path("c2")},
                               no_dropout);
  EXPECT_EQ(tame.outcomes[1].status, RunStatus::done);
  for (std::size_t k : {0u, 2u}) {
    EXPECT_EQ(wild.outcomes[k].status, RunStatus::done);
    ASSERT_EQ(wild.rows[k].size(), 2u);
    ASSERT_EQ(tame.rows[k].size(), 2u);
    for (std::size_t e = 0; e < 2; ++e) {
      EXPECT_DOUBLE_EQ(wild.rows[k][e].train_loss, tame.rows[k][e].train_loss) << k << " " << e;
      EXPECT_DOUBLE_EQ(wild.rows[k][e].val_loss, tame.rows[k][e].val_loss) << k << " " << e;
      EXPECT_DOUBLE_EQ(wild.rows[k][e].test_acc, tame.rows[k][e].test_acc) << k << " " << e;
    }
  }
}

TEST(PackTrainer, StopsResumesAndMatchesAnUninterruptedPack) {
  TinyData d;
  std::vector<TrainConfig> configs = {tiny_config(0.02, 0.9, true, 11),
                                      tiny_config(0.05, 0.5, false, 12)};
  for (auto& c : configs) c.epochs = 3;
  const auto whole = train_pack(configs, d.data, {d.path("w0"), d.path("w1")});
  // Stop copy 1 after its first epoch and copy 0 after its second.
  int epochs_seen[2] = {0, 0};
  PackResult first;
  {
    PackHooks hooks;
    first.rows.resize(2);
    hooks.on_epoch = [&](std::size_t k, const EpochMetrics& m) {
      first.rows[k].push_back(m);
      ++epochs_seen[k];
    };
    hooks.should_stop = [&](std::size_t k) { return epochs_seen[k] >= (k == 0 ? 2 : 1); };
    first.outcomes = run_pack(configs, d.data, {d.path("p0"), d.path("p1")}, hooks);
  }
  EXPECT_EQ(first.outcomes[0].status, RunStatus::running);
  EXPECT_EQ(first.outcomes[0].epochs_completed, 2);
  EXPECT_EQ(first.outcomes[1].epochs_completed, 1);
  // The copies now start at different epochs; the pack freezes copy 0 until copy 1 catches up.
  const auto second = train_pack(configs, d.data, {d.path("p0"), d.path("p1")});
  EXPECT_EQ(second.resumed[0], 2);
  EXPECT_EQ(second.resumed[1], 1);
  ASSERT_EQ(second.rows[0].size(), 1u);
  ASSERT_EQ(second.rows[1].size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(second.outcomes[k].status, RunStatus::done);
    const auto& last = second.rows[k].back();
    EXPECT_EQ(last.epoch, 3);
    EXPECT_NEAR(last.train_loss, whole.rows[k].back().train_loss, 1e-5) << "copy " << k;
    EXPECT_NEAR(last.val_loss, whole.rows[k].back().val_loss, 1e-5) << "copy " << k;
  }
}

TEST(PackTrainer, CheckpointsAreRunTrainingCheckpoints) {
  TinyData d;
  TrainConfig cfg = tiny_config(0.02, 0.9, true, 11);
  cfg.epochs = 2;
  PackHooks hooks;
  int calls = 0;
  hooks.on_epoch = [&](std::size_t, const EpochMetrics&) { ++calls; };
  hooks.should_stop = [&](std::size_t) { return calls >= 1; };
  apply_threads(kThreads);
  run_pack({cfg}, d.data, {d.path("c.pt")}, hooks);
  ASSERT_TRUE(fs::exists(d.path("c.pt")));
  fs::copy_file(d.path("c.pt"), d.path("twin.pt"));
  // run_training picks the pack's checkpoint up, momentum buffers included: its
  // second epoch is the one the pack of one gives (same streams; only rounding differs).
  std::vector<EpochMetrics> rows;
  std::int64_t resumed = -1;
  TrainHooks th;
  th.on_epoch = [&](const EpochMetrics& m) { rows.push_back(m); };
  th.on_resume = [&](std::int64_t last) { resumed = last; };
  const RunOutcome o = run_training(cfg, d.data, d.path("c.pt"), th);
  EXPECT_EQ(resumed, 1);
  EXPECT_EQ(o.status, RunStatus::done);
  ASSERT_EQ(rows.size(), 1u);
  const auto packed = train_pack({cfg}, d.data, {d.path("twin.pt")});
  ASSERT_EQ(packed.rows[0].size(), 1u);
  EXPECT_NEAR(rows[0].train_loss, packed.rows[0][0].train_loss, 1e-3);
  EXPECT_NEAR(rows[0].val_loss, packed.rows[0][0].val_loss, 1e-3);
  // And a pack resumes from run_training's file (here: already complete).
  const auto again = train_pack({cfg}, d.data, {d.path("c.pt")});
  EXPECT_EQ(again.resumed[0], 2);
  EXPECT_EQ(again.outcomes[0].status, RunStatus::done);
  EXPECT_TRUE(again.rows[0].empty());
}

TEST(PackTrainer, RejectsTrialsThatCannotShareAPack) {
  TinyData d;
  TrainConfig a = tiny_config(0.02, 0.9, true, 11), b = a;
  b.batch_size = 64;
  EXPECT_THROW(train_pack({a, b}, d.data, {d.path("a"), d.path("b")}), ConfigError);
  TrainConfig c = a;
  c.precision = "bf16";
  EXPECT_NE(pack_key(a), pack_key(c));
  EXPECT_THROW(train_pack({a, c}, d.data, {d.path("a"), d.path("c")}), ConfigError);
  EXPECT_EQ(pack_key(a), pack_key(tiny_config(0.5, 0.0, false, 99)));
}

}  // namespace
}  // namespace lrtune
