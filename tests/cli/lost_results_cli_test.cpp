// A run or study whose results database was lost: its epochs are restored
// (from metrics.csv) or redone, never reported done with nothing recorded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/recovery_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
using namespace test;  // support/recovery_support.h
namespace fs = std::filesystem;

struct LostResults : test::RecoveryFixture {};

TEST_F(LostResults, StudyRedoesTrialsWhoseEpochsTheDatabaseLost) {
  std::string text;
  ASSERT_EQ(test::run_command(study_command(out), &text), 0) << text;
  std::vector<std::string> ids;
  const auto before = stored_epochs(out, &ids);
  ASSERT_EQ(before.size(), 6u);

  remove_database(out);
  ASSERT_EQ(test::run_command(study_command(out), &text), 0) << text;
  EXPECT_EQ(count(text, "checkpoint.pt.orphaned"), 2u) << text;
  expect_same_results(stored_epochs(out), before);
  for (const auto& id : ids) EXPECT_TRUE(fs::exists(out / "trials" / id / "checkpoint.pt.orphaned"));
}

TEST_F(LostResults, TrainRebuildsTheDatabaseFromMetricsCsv) {
  const fs::path dir = tmp.path() / "run";
  const std::int64_t done = train_and_kill(dir, 2);
  ASSERT_GE(done, 1);
  const auto rows = lines_of(dir / "metrics.csv");
  remove_database(dir);

  std::string text;
  ASSERT_EQ(test::run_command(lrtune("train --resume " + dir.string()), &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("restored them from metrics.csv"));
  EXPECT_THAT(text, HasSubstr("resuming after epoch " + std::to_string(done)));
  const auto after = lines_of(dir / "metrics.csv");
  ASSERT_EQ(after.size(), 6u) << text;
  for (std::int64_t e = 1; e <= done; ++e) EXPECT_EQ(after[e], rows[e]);  // as they were, not redone
  EXPECT_EQ(stored_epochs(dir).size(), 5u);
}

TEST_F(LostResults, TrainWithNeitherDatabaseNorCsvRedoesFromScratch) {
  const fs::path dir = tmp.path() / "run";
  ASSERT_GE(train_and_kill(dir, 2), 1);
  remove_database(dir);
  fs::remove(dir / "metrics.csv");

  std::string text;
  ASSERT_EQ(test::run_command(lrtune("train --resume " + dir.string()), &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("checkpoint.pt.orphaned"));
  EXPECT_THAT(text, Not(HasSubstr("resuming after epoch")));
  EXPECT_TRUE(fs::exists(dir / "checkpoint.pt.orphaned"));
  EXPECT_EQ(lines_of(dir / "metrics.csv").size(), 6u);
  EXPECT_EQ(stored_epochs(dir).size(), 5u);
}

}  // namespace
}  // namespace lrtune
