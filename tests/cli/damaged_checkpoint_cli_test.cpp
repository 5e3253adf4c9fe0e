// A damaged checkpoint: `lrtune train --resume` refuses it in one line; a
// study sets it aside and redoes the trial.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/recovery_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
using namespace test;  // support/recovery_support.h
namespace fs = std::filesystem;

struct DamagedCheckpoint : test::RecoveryFixture {};

TEST_F(DamagedCheckpoint, TrainResumeIsRefusedInOneLine) {
  const fs::path dir = tmp.path() / "run";
  train_and_kill_at_epoch_3(dir);
  const auto rows = lines_of(dir / "metrics.csv");
  damage(dir / "checkpoint.pt");

  std::string text;
  EXPECT_EQ(test::run_command(lrtune("train --resume " + dir.string()), &text), 1) << text;
  EXPECT_EQ(text.rfind("lrtune: error: " + (dir / "checkpoint.pt").string() +
                           ": damaged checkpoint (checksum mismatch)", 0), 0u) << text;
  EXPECT_EQ(count(text, "\n"), 1u) << text;
  EXPECT_EQ(lines_of(dir / "metrics.csv"), rows);
}

TEST_F(DamagedCheckpoint, StudySetsItAsideAndRedoesTheTrial) {
  std::string text;
  ASSERT_EQ(test::run_command(study_command(out, "0.02"), &text), 0) << text;
  std::vector<std::string> ids;
  const auto before = stored_epochs(out, &ids);
  ASSERT_EQ(ids.size(), 1u);
  const fs::path trial = out / "trials" / ids[0];
  damage(trial / "checkpoint.pt");
  // A trial to run again: a rerun retries failed trials.
  open_sqlite_store((out / "results.sqlite").string())->finish_trial(ids[0], RunStatus::failed, "test");

  ASSERT_EQ(test::run_command(study_command(out, "0.02"), &text), 0) << text;
  EXPECT_EQ(count(text, "checkpoint.pt.damaged"), 1u) << text;
  EXPECT_TRUE(fs::exists(trial / "checkpoint.pt.damaged"));
  expect_same_results(stored_epochs(out), before);
}

}  // namespace
}  // namespace lrtune
