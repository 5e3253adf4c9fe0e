// `lrtune train` as a user runs it: errors, --help, kill -9 and --resume, one
// holder per run, the data's fingerprint, and one epoch on the real data when
// it is present.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/process.h"
#include "support/background_run.h"
#include "support/recovery_support.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
namespace fs = std::filesystem;

using test::Background;
using test::lines_of;
using test::lrtune;

// The metric columns a run is judged by: everything but seconds and images/s.
std::string results_only(const std::string& csv_line) {
  std::stringstream ss(csv_line);
  std::string cell, out;
  for (int i = 0; i < 8 && std::getline(ss, cell, ','); ++i) out += cell + ",";
  return out;
}

struct CliFixture : ::testing::Test {
  test::TempDir tmp;
  fs::path data = tmp.path() / "cifar";
  void SetUp() override { test::write_tiny_cifar(data, 60, 100); }
  std::string tiny_flags() const {
    return "--data " + data.string() +
           " --val-size 50 --batch-size 25 --threads 1 --device cpu --momentum 0.9 --lr 0.02";
  }
};

TEST_F(CliFixture, HelpShowsEveryOptionWithItsDefault) {
  std::string out;
  ASSERT_EQ(test::run_command(lrtune("train --help"), &out), 0);
  for (const char* s : {"--lr NUMBER=0.01", "--momentum", "--nesterov", "--weight-decay", "--epochs INT=15",
                        "--batch-size INT=128", "--schedule", "--milestones", "--warmup-epochs",
                        "--augment TEXT=flipcrop", "--seed", "--device TEXT=auto", "--threads",
                        "--train-subset", "--out", "--resume", "--config"})
    EXPECT_THAT(out, HasSubstr(s));
}

TEST_F(CliFixture, BadInputGivesOneLineAndNoRunDirectory) {
  struct Case {
    std::string args, message;
  } cases[] = {
      {"--lr -1", "lr: must be a positive number"},
      {"--schedule zigzag", "unknown schedule 'zigzag'"},
      {"--epochs many", "cannot read 'many'"},
      {"--data /no/such/dir", "/no/such/dir: no such folder"},
      {"--model vgg", "unknown network 'vgg'"},
  };
  for (const auto& c : cases) {
    const fs::path out_dir = tmp.path() / "run";
    std::string out;
    // Later flags win, so the bad value follows the good ones.
    const int rc = test::run_command(lrtune("train " + tiny_flags() + " --out " + out_dir.string() + " " + c.args), &out);
    EXPECT_NE(rc, 0) << c.args;
    EXPECT_THAT(out, HasSubstr("lrtune: error:")) << c.args;
    EXPECT_THAT(out, HasSubstr(c.message)) << c.args;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_FALSE(fs::exists(out_dir)) << c.args;
  }
  const fs::path toml = tmp.path() / "bad.toml";
  std::ofstream(toml) << "lr = 0.1\nlearning_rate = 0.2\n";
  std::string out;
  EXPECT_NE(test::run_command(lrtune("train --config " + toml.string() + " --out " + (tmp.path() / "r2").string()), &out), 0);
  EXPECT_THAT(out, HasSubstr("bad.toml: learning_rate: unknown key"));
  EXPECT_FALSE(fs::exists(tmp.path() / "r2"));
}

TEST_F(CliFixture, RunDirectoryHoldsConfigMetricsDatabaseAndCheckpoint) {
  const fs::path dir = tmp.path() / "run";
  std::string out;
  ASSERT_EQ(test::run_command(lrtune("train " + tiny_flags() + " --epochs 2 --out " + dir.string()), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("epoch 2/2"));
  EXPECT_THAT(out, HasSubstr("momentum         0.9"));  // the resolved config is printed
  for (const char* f : {"config.json", "metrics.csv", "results.sqlite", "checkpoint.pt"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_EQ(lines_of(dir / "metrics.csv").size(), 3u);
  EXPECT_THAT(lines_of(dir / "config.json").size(), ::testing::Gt(10u));
  // A second run into the same directory is refused, not mixed in.
  EXPECT_NE(test::run_command(lrtune("train " + tiny_flags() + " --out " + dir.string()), &out), 0);
  EXPECT_THAT(out, HasSubstr("--resume"));
  // Resuming a finished run does nothing and keeps the rows.
  EXPECT_EQ(test::run_command(lrtune("train --resume " + dir.string()), &out), 0);
  EXPECT_THAT(out, HasSubstr("already finished"));
  EXPECT_EQ(lines_of(dir / "metrics.csv").size(), 3u);
}

TEST_F(CliFixture, ResumeAfterKillNineEqualsUninterruptedRun) {
  const std::string flags = tiny_flags() + " --epochs 5 --warmup-epochs 1 --schedule multistep --milestones 3";
  const fs::path straight = tmp.path() / "straight", killed = tmp.path() / "killed";
  std::string out;
  ASSERT_EQ(test::run_command(lrtune("train " + flags + " --out " + straight.string()), &out), 0) << out;

  // Killed once epochs 1-2 are stored, and left at the worst moment: a row
  // recorded after the checkpoint's epoch (a kill between the two writes).
  Background run("train " + flags + " --out " + killed.string());
  ASSERT_TRUE(run.wait_for_lines(killed / "metrics.csv", 3)) << run.output();
  const int status = run.kill_hard();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status << run.output();
  const std::int64_t done = test::record_row_ahead(killed);
  ASSERT_GE(done, 1);
  ASSERT_LT(done, 5);

  ASSERT_EQ(test::run_command(lrtune("train --resume " + killed.string()), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("resuming after epoch " + std::to_string(done)));
  const auto a = lines_of(straight / "metrics.csv"), b = lines_of(killed / "metrics.csv");
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);
  for (size_t i = 1; i < a.size(); ++i) EXPECT_EQ(results_only(a[i]), results_only(b[i])) << "epoch " << i;
}

// Two resumes of one run at once would train it twice and interleave their
// rows: the second is refused, naming the holder; a holder that was killed
// (kill -9) gives the run up to the next resume.
TEST_F(CliFixture, ASecondResumeOfARunningRunIsRefused) {
  const fs::path dir = tmp.path() / "run";
  const std::string flags = tiny_flags() + " --epochs 6";
  {
    Background first("train " + flags + " --out " + dir.string());
    ASSERT_TRUE(first.wait_for_lines(dir / "metrics.csv", 3)) << first.output();
    first.kill_hard();  // left `running` by a process that no longer exists
  }

  Background holder("train --resume " + dir.string());
  ASSERT_TRUE(holder.wait_for_output("resuming after epoch")) << holder.output();
  holder.freeze();  // alive and holding the run, doing nothing
  const auto rows = lines_of(dir / "metrics.csv");

  std::string out;
  EXPECT_NE(test::run_command(lrtune("train --resume " + dir.string()), &out), 0);
  EXPECT_THAT(out, HasSubstr("lrtune: error: " + dir.string() + " is being trained by process " +
                             std::to_string(holder.pid()) + " on host " + host_name()));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(lines_of(dir / "metrics.csv"), rows);  // the refused resume touched nothing

  holder.kill_hard();
  ASSERT_EQ(test::run_command(lrtune("train --resume " + dir.string()), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("resuming after epoch"));
  EXPECT_EQ(lines_of(dir / "metrics.csv").size(), 7u);
}

// config.json records which copy of the data the run trained on: the same
// bytes under another folder give the same fingerprint.
TEST_F(CliFixture, ConfigRecordsTheDataFingerprint) {
  const fs::path copy = tmp.path() / "copy";
  fs::copy(data, copy, fs::copy_options::recursive);
  std::string out;
  std::string prints[2];
  for (int i = 0; i < 2; ++i) {
    const fs::path dir = tmp.path() / ("run" + std::to_string(i));
    const std::string flags = tiny_flags() + " --epochs 1 --data " + (i ? copy : data).string();
    ASSERT_EQ(test::run_command(lrtune("train " + flags + " --out " + dir.string()), &out), 0) << out;
    const auto config = nlohmann::json::parse(test::read_file(dir / "config.json"));
    prints[i] = config.at("provenance").value("data_fingerprint", "");
  }
  EXPECT_EQ(prints[0].size(), 16u);
  EXPECT_EQ(prints[0], prints[1]);
}

// A run started without --data keeps no folder of its own: its resume finds
// the data where $LRTUNE_DATA (or ./data) points on the machine it resumes on.
TEST_F(CliFixture, ARunWithoutDataFlagFollowsLrtuneDataOnResume) {
  const fs::path dir = tmp.path() / "run";
  std::string out;
  ASSERT_EQ(test::run_command("LRTUNE_DATA=" + data.string() + " " +
                                  lrtune("train --val-size 50 --batch-size 25 --threads 1 --device cpu "
                                         "--epochs 1 --out " + dir.string()),
                              &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr(") from " + data.string()));
  const auto config = nlohmann::json::parse(test::read_file(dir / "config.json"));
  EXPECT_EQ(config.at("config").at("data"), "");
}

TEST_F(CliFixture, ResumeRefusesToChangeWhatDefinesTheRun) {
  const fs::path dir = tmp.path() / "run";
  std::string out;
  ASSERT_EQ(test::run_command(lrtune("train " + tiny_flags() + " --epochs 1 --out " + dir.string()), &out), 0);
  EXPECT_NE(test::run_command(lrtune("train --resume " + dir.string() + " --lr 0.5"), &out), 0);
  EXPECT_THAT(out, HasSubstr("cannot change 'lr'"));
}

// One epoch on 2,000 real images, when the shared CIFAR-10 copy is present.
TEST(RealData, OneEpochOnASubset) {
  const std::string dir = test::shared_cifar_dir();
  if (!fs::exists(fs::path(dir) / "data_batch_1.bin")) GTEST_SKIP() << "no CIFAR-10 at " << dir;
  test::TempDir tmp;
  std::string out;
  const int rc = test::run_command(
      lrtune("train --data " + dir + " --train-subset 2000 --epochs 1 --lr 0.05 --momentum 0.9 --out " +
             (tmp.path() / "run").string()),
      &out);
  ASSERT_EQ(rc, 0) << out;
  const auto rows = lines_of(tmp.path() / "run" / "metrics.csv");
  ASSERT_EQ(rows.size(), 2u);
  std::stringstream ss(rows[1]);
  std::vector<double> v;
  for (std::string cell; std::getline(ss, cell, ',');) v.push_back(std::stod(cell));
  EXPECT_TRUE(std::isfinite(v[2]));  // train loss
  EXPECT_GT(v[5], 0.12);             // val accuracy above chance after one epoch
}

}  // namespace
}  // namespace lrtune
