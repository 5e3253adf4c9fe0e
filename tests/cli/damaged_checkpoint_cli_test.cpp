// A damaged checkpoint is set aside (checkpoint.pt.damaged, kept) and the run
// or trial redone from its first epoch, by `lrtune train --resume` and by a
// study alike.
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

TEST_F(DamagedCheckpoint, TrainResumeSetsItAsideAndRedoesTheRun) {
  const fs::path straight = tmp.path() / "straight", dir = tmp.path() / "run";
  std::string text;
  ASSERT_EQ(test::run_command(lrtune("train " + train_flags(5) + " --out " + straight.string()), &text), 0)
      << text;
  ASSERT_GE(train_and_kill(dir, 2), 1);
  damage(dir / "checkpoint.pt");

  ASSERT_EQ(test::run_command(lrtune("train --resume " + dir.string()), &text), 0) << text;
  EXPECT_THAT(text, HasSubstr((dir / "checkpoint.pt").string() + ": damaged checkpoint (checksum mismatch)"));
  EXPECT_EQ(count(text, "checkpoint.pt.damaged"), 1u) << text;
  EXPECT_THAT(text, Not(HasSubstr("resuming after epoch")));
  EXPECT_TRUE(fs::exists(dir / "checkpoint.pt.damaged"));
  expect_same_results(stored_epochs(dir), stored_epochs(straight));
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
