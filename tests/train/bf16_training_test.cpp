// bf16 on the CPU (precision = "bf16"): the trainer learns on tiny data, a
// resumed run ends exactly where an uninterrupted one does, and the numbers
// are bf16's own. On a CPU without AVX512-BF16 or AMX the same run is refused
// before it starts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/autocast.h"
#include "support/test_support.h"
#include "support/train_support.h"
#include "train/trainer.h"

namespace lrtune {
namespace {

TrainConfig tiny_bf16(std::int64_t epochs) {
  TrainConfig c = test::tiny_train_config();
  c.epochs = epochs;
  c.seed = 5;
  c.precision = "bf16";
  return c;
}

struct Bf16Training : ::testing::Test {
  test::TinyCifar d{100, 200};
  std::string path(const std::string& name) const { return d.path(name); }
};

TEST_F(Bf16Training, LearnsAndDiffersFromFp32) {
  const TrainConfig cfg = tiny_bf16(5);
  if (!this_cpu_bf16_support().native()) {
    EXPECT_THROW(test::train_epochs(cfg, d.data, path("a.pt")), ConfigError);
    return;
  }
  RunOutcome out;
  const auto rows = test::train_epochs(cfg, d.data, path("a.pt"), nullptr, &out);
  ASSERT_EQ(out.status, RunStatus::done);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_GT(rows.back().val_acc, 0.9);  // chance is 0.1
  EXPECT_GT(rows.back().test_acc, 0.9);
  EXPECT_LT(rows.back().train_loss, 0.5 * rows.front().train_loss);

  TrainConfig fp32 = cfg;
  fp32.precision = "fp32";
  const auto ref = test::train_epochs(fp32, d.data, path("f.pt"));
  ASSERT_EQ(ref.size(), rows.size());
  EXPECT_NE(ref.front().train_loss, rows.front().train_loss);  // bf16 really ran
  EXPECT_NEAR(ref.front().train_loss, rows.front().train_loss, 0.05 * ref.front().train_loss);
}

TEST_F(Bf16Training, ResumeEqualsUninterruptedRun) {
  const TrainConfig cfg = tiny_bf16(3);
  if (!this_cpu_bf16_support().native()) {
    EXPECT_THROW(test::train_epochs(cfg, d.data, path("a.pt")), ConfigError);
    return;
  }
  const auto straight = test::train_epochs(cfg, d.data, path("a.pt"));
  int polls = 0;  // 2 epochs of 13 steps, then stopped during the third
  RunOutcome first;
  auto part = test::train_epochs(cfg, d.data, path("b.pt"), [&] { return ++polls > 2 * 13 + 4; }, &first);
  ASSERT_EQ(first.status, RunStatus::running);
  ASSERT_EQ(part.size(), 2u);
  const auto rest = test::train_epochs(cfg, d.data, path("b.pt"));
  part.insert(part.end(), rest.begin(), rest.end());
  ASSERT_EQ(part.size(), straight.size());
  for (std::size_t i = 0; i < part.size(); ++i) {
    EXPECT_EQ(part[i].train_loss, straight[i].train_loss) << "epoch " << i + 1;
    EXPECT_EQ(part[i].val_acc, straight[i].val_acc) << "epoch " << i + 1;
    EXPECT_EQ(part[i].test_loss, straight[i].test_loss) << "epoch " << i + 1;
  }
}

}  // namespace
}  // namespace lrtune
