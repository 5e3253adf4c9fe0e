// Adam, AdamW and RMSprop as registered kinds: two steps on one weight match
// PyTorch's update rules computed by hand, their state survives a checkpoint
// (a resumed run equals an uninterrupted one), they learn, and packs refuse them.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "optim/optimizer.h"
#include "support/test_support.h"
#include "support/train_support.h"
#include "train/pack_trainer.h"
#include "train/trainer.h"

namespace lrtune {
namespace {

// Loss 0.5 * a * w^2, so the gradient at w is a * w.
constexpr double kA = 2.0, kW0 = 1.5;

double two_steps(const TrainConfig& cfg) {
  auto w = torch::tensor({kW0}, torch::dtype(torch::kFloat64).requires_grad(true));
  auto opt = build_optimizer({w}, cfg);
  for (int t = 0; t < 2; ++t) {
    opt->torch().zero_grad();
    (0.5 * kA * w * w).sum().backward();
    opt->torch().step();
  }
  return w.item<double>();
}

// PyTorch's Adam and AdamW (bias-corrected moments); AdamW decays the weight
// by lr * wd before the step, Adam adds wd * w to the gradient.
double adam_by_hand(double lr, double b1, double b2, double eps, double wd, bool decoupled) {
  double w = kW0, m = 0, v = 0;
  for (int t = 1; t <= 2; ++t) {
    double g = kA * w;
    if (decoupled) w *= 1 - lr * wd;
    else g += wd * w;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double m_hat = m / (1 - std::pow(b1, t)), v_hat = v / (1 - std::pow(b2, t));
    w -= lr * m_hat / (std::sqrt(v_hat) + eps);
  }
  return w;
}

// PyTorch's RMSprop with momentum, not centred.
double rmsprop_by_hand(double lr, double alpha, double eps, double mu) {
  double w = kW0, v = 0, buf = 0;
  for (int t = 0; t < 2; ++t) {
    const double g = kA * w;
    v = alpha * v + (1 - alpha) * g * g;
    buf = mu * buf + g / (std::sqrt(v) + eps);
    w -= lr * buf;
  }
  return w;
}

TrainConfig with(const std::string& optimizer, double lr, double wd) {
  TrainConfig cfg;
  cfg.optimizer = optimizer;
  cfg.lr = lr;
  cfg.weight_decay = wd;
  return cfg;
}

TEST(AdaptiveOptimizers, AdamMatchesHandComputation) {
  TrainConfig cfg = with("adam", 0.1, 0.05);
  cfg.set("beta1", 0.8);
  cfg.set("beta2", 0.99);
  EXPECT_NEAR(two_steps(cfg), adam_by_hand(0.1, 0.8, 0.99, 1e-8, 0.05, false), 1e-12);
}

TEST(AdaptiveOptimizers, AdamWDecaysTheWeightApartFromTheGradient) {
  const TrainConfig cfg = with("adamw", 0.1, 0.05);
  const double w = two_steps(cfg);
  EXPECT_NEAR(w, adam_by_hand(0.1, 0.9, 0.999, 1e-8, 0.05, true), 1e-12);
  // The same weight decay as L2 (Adam) gives another weight.
  EXPECT_GT(std::abs(w - two_steps(with("adam", 0.1, 0.05))), 1e-4);
}

TEST(AdaptiveOptimizers, RmspropMatchesHandComputation) {
  TrainConfig cfg = with("rmsprop", 0.01, 0.0);
  cfg.set("alpha", 0.9);
  cfg.set("momentum", 0.5);
  EXPECT_NEAR(two_steps(cfg), rmsprop_by_hand(0.01, 0.9, 1e-8, 0.5), 1e-12);
}

TEST(AdaptiveOptimizers, KeysAreValidated) {
  TrainConfig cfg = with("adam", 0.001, 0.0);
  cfg.set("beta1", 1.0);
  EXPECT_THROW(cfg.validate("test"), ConfigError);
  cfg = with("rmsprop", 0.001, 0.0);
  cfg.set("eps", 0.0);
  EXPECT_THROW(cfg.validate("test"), ConfigError);
}

TrainConfig tiny(const std::string& optimizer) {
  TrainConfig c;
  c.optimizer = optimizer;
  c.lr = 0.002;
  c.val_size = 100;
  c.batch_size = 32;
  c.eval_batch_size = 100;
  c.epochs = 3;
  c.device = "cpu";
  c.threads = 1;
  c.seed = 5;
  return c;
}

// The moments live in the checkpoint: stopping after epoch 1 and resuming
// gives exactly the numbers of the uninterrupted run, and the network learns.
TEST(AdaptiveOptimizers, StateSurvivesACheckpointAndTheyLearn) {
  test::TinyCifar d(/*per_file=*/100, /*n_test=*/100);
  for (const char* name : {"adam", "adamw", "rmsprop"}) {
    TrainConfig cfg = tiny(name);
    if (std::string(name) == "adamw") cfg.weight_decay = 0.01;
    const auto straight = test::train_epochs(cfg, d.data, d.path(std::string(name) + "-a.pt"));
    ASSERT_EQ(straight.size(), 3u) << name;
    EXPECT_LT(straight.back().train_loss, straight.front().train_loss) << name;
    EXPECT_GT(straight.back().val_acc, 0.3) << name;  // chance is 0.1
    const std::string ckpt = d.path(std::string(name) + "-b.pt");
    const std::int64_t steps = (5 * 100 - cfg.val_size + cfg.batch_size - 1) / cfg.batch_size;
    int polls = 0;  // one poll a step: stop in the middle of epoch 2
    auto rows = test::train_epochs(cfg, d.data, ckpt, [&] { return ++polls > steps + 3; });
    ASSERT_EQ(rows.size(), 1u) << name;
    const auto rest = test::train_epochs(cfg, d.data, ckpt);
    rows.insert(rows.end(), rest.begin(), rest.end());
    ASSERT_EQ(rows.size(), straight.size()) << name;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].train_loss, straight[i].train_loss) << name << " epoch " << i + 1;
      EXPECT_EQ(rows[i].val_acc, straight[i].val_acc) << name << " epoch " << i + 1;
    }
  }
}

TEST(AdaptiveOptimizers, PacksRefuseThemWithAMessage) {
  test::TinyCifar d(/*per_file=*/20, /*n_test=*/20);
  const TrainConfig cfg = tiny("adamw");
  try {
    run_pack({cfg, cfg}, d.data, {d.path("a.pt"), d.path("b.pt")}, PackHooks{});
    FAIL() << "a pack of adamw trials trained";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be trained in a pack"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace lrtune
