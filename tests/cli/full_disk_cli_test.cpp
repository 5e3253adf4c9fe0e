// A full disk: one line, exit 1, no temporary file left, the epochs before
// kept, and the run resumes once there is room (a study gives its trial back).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/recovery_support.h"
#include "support/tmpfs_mount.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
using namespace test;  // support/recovery_support.h
namespace fs = std::filesystem;

struct FullDisk : test::RecoveryFixture {};

TEST_F(FullDisk, TrainStopsInOneLineAndResumesOnceThereIsRoom) {
  const fs::path disk = tmp.path() / "disk", dir = disk / "run";
  test::TmpfsMount mount(disk, "3m");  // room for one checkpoint (2.2 MB), not two
  if (!mount.mounted()) GTEST_SKIP() << mount.skip_reason();

  std::string text;
  EXPECT_EQ(test::run_command(lrtune("train " + train_flags() + " --out " + dir.string()), &text), 1)
      << text;
  EXPECT_EQ(count(text, "lrtune: error: "), 1u) << text;
  EXPECT_THAT(text, HasSubstr(": No space left on device\n"));
  EXPECT_THAT(text, Not(HasSubstr("terminate")));
  EXPECT_FALSE(fs::exists(dir / "checkpoint.pt.tmp"));
  EXPECT_EQ(lines_of(dir / "metrics.csv").size(), 3u);  // epochs 1 and 2

  ASSERT_TRUE(mount.grow("20m"));
  ASSERT_EQ(test::run_command(lrtune("train --resume " + dir.string()), &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("resuming after epoch 1"));
  EXPECT_EQ(lines_of(dir / "metrics.csv").size(), 4u);
  EXPECT_EQ(stored_epochs(dir).size(), 3u);
}

TEST_F(FullDisk, StudyReleasesTheTrialForTheNextRun) {
  const fs::path disk = tmp.path() / "disk", dir = disk / "study";
  test::TmpfsMount mount(disk, "3m");
  if (!mount.mounted()) GTEST_SKIP() << mount.skip_reason();

  std::string text;
  test::run_command(study_command(dir, "0.02"), &text);
  EXPECT_THAT(text, HasSubstr("No space left on device")) << text;
  EXPECT_THAT(text, Not(HasSubstr("terminate")));
  {
    auto store = open_sqlite_store((dir / "results.sqlite").string());
    const auto trials = store->trials();
    ASSERT_EQ(trials.size(), 1u);
    EXPECT_EQ(trials[0].status, RunStatus::pending) << to_string(trials[0].status);
    EXPECT_FALSE(fs::exists(dir / "trials" / trials[0].spec.id / "checkpoint.pt.tmp"));
  }

  ASSERT_TRUE(mount.grow("20m"));
  ASSERT_EQ(test::run_command(study_command(dir, "0.02"), &text), 0) << text;
  EXPECT_EQ(stored_epochs(dir).size(), 3u);
}

}  // namespace
}  // namespace lrtune
