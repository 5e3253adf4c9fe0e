// TensorBoard through the binary: a tiny real study exported (one run per
// trial), `study run --tensorboard` live, and `train --tensorboard` killed
// and resumed without a step written twice. Events are read by an
// independent decoder (tests/tools/tfrecord_split.py, protoc --decode_raw).
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/tensorboard.h"
#include "store/store.h"
#include "support/background_run.h"
#include "support/recovery_support.h"
#include "support/tensorboard_support.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
namespace fs = std::filesystem;

using test::lrtune;

struct TensorBoardCli : ::testing::Test {
  test::TempDir tmp;
  fs::path data = tmp.path() / "cifar";
  void SetUp() override {
    if (const std::string why = test::event_decoder_missing(); !why.empty()) GTEST_SKIP() << why;
    test::write_tiny_cifar(data, 60, 100);
  }
  fs::path study_file() {
    const fs::path file = tmp.path() / "tb.toml";
    std::ofstream(file) << "name = \"tb\"\n[base]\nepochs = 2\nbatch_size = 25\nval_size = 50\n"
                           "device = \"cpu\"\nmomentum = 0.9\n[[sweep]]\ngrid = { lr = [0.01, 0.02] }\n";
    return file;
  }
  // How many times each scalar step appears in the run folder's event files.
  std::map<std::int64_t, int> steps_of(const fs::path& folder) {
    std::map<std::int64_t, int> steps;
    int n = 0;
    for (const auto& file : test::event_files(folder))
      for (const auto& r : test::decode_event_file(file, tmp.path() / ("rec" + std::to_string(n++))))
        if (test::decoded_scalar(r, "val/acc")) ++steps[test::decoded_step(r).value_or(-1)];
    return steps;
  }
};

TEST_F(TensorBoardCli, AStudyExportsOneRunPerTrialAndFollowsLive) {
  const fs::path out = tmp.path() / "study", live = tmp.path() / "live", logs = tmp.path() / "logs";
  std::string text;
  ASSERT_EQ(test::run_command(lrtune("study run " + study_file().string() + " --data " + data.string() +
                                     " --threads-per-job 1 --out " + out.string() +
                                     " --tensorboard " + live.string()), &text), 0) << text;
  ASSERT_EQ(test::run_command(lrtune("export tensorboard " + out.string() + " --out " + logs.string()),
                              &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("2 TensorBoard run(s)"));
  EXPECT_THAT(text, HasSubstr("tensorboard --logdir " + logs.string()));
  for (const fs::path& dir : {logs, live}) {
    for (const char* label : {"lr=0.01", "lr=0.02"}) {
      const std::map<std::int64_t, int> want{{1, 1}, {2, 1}};
      EXPECT_EQ(steps_of(dir / label), want) << dir / label;
      std::string all;
      for (const auto& r : test::decode_event_file(test::event_files(dir / label).at(0), tmp.path() / "r"))
        all += r;
      EXPECT_THAT(all, HasSubstr("_hparams_/session_start_info"));
      EXPECT_THAT(all, HasSubstr("_hparams_/session_end_info"));
    }
    ASSERT_EQ(test::event_files(dir).size(), 1u) << dir;  // the experiment
    std::string x;
    for (const auto& r : test::decode_event_file(test::event_files(dir)[0], tmp.path() / "x")) x += r;
    EXPECT_THAT(x, HasSubstr("_hparams_/experiment"));
    EXPECT_THAT(x, HasSubstr("1: \"lr\""));
  }
}

TEST_F(TensorBoardCli, TrainLiveKilledAndResumedWritesEveryStepOnce) {
  const fs::path run = tmp.path() / "myrun", logs = tmp.path() / "logs";
  const std::string flags = "--data " + data.string() + " --val-size 50 --batch-size 25 --threads 1 "
                            "--device cpu --epochs 4 --out " + run.string() + " --tensorboard " + logs.string();
  {
    test::Background first("train " + flags);
    ASSERT_TRUE(first.wait_for_lines(run / "metrics.csv", 2)) << first.output();
    first.kill_hard();
  }
  // The state a kill between an epoch's row and its checkpoint leaves, made
  // certain: epoch C + 1 recorded and written to TensorBoard, checkpoint C.
  // The resume redoes epoch C + 1 and must not write its step again.
  const std::int64_t done = test::record_row_ahead(run);
  ASSERT_LT(done, 4);
  {
    auto store = open_sqlite_store((run / "results.sqlite").string());
    report::TensorBoardLive tb({logs.string(), "myrun", false});
    tb.update(*store);
  }
  std::map<std::int64_t, int> steps;
  for (std::int64_t e = 1; e <= done + 1; ++e) steps[e] = 1;
  ASSERT_EQ(steps_of(logs / "myrun"), steps);

  std::string text;
  ASSERT_EQ(test::run_command(lrtune("train --resume " + run.string() + " --tensorboard " + logs.string()),
                              &text), 0) << text;
  if (done > 0) EXPECT_THAT(text, HasSubstr("resuming after epoch " + std::to_string(done)));
  EXPECT_EQ(steps_of(logs / "myrun"), (std::map<std::int64_t, int>{{1, 1}, {2, 1}, {3, 1}, {4, 1}}));
}

TEST_F(TensorBoardCli, HelpAndErrors) {
  std::string text;
  ASSERT_EQ(test::run_command(lrtune("export tensorboard --help"), &text), 0);
  for (const char* s : {"--out", "tensorboard --logdir", "HParams", "step = epoch"})
    EXPECT_THAT(text, HasSubstr(s));
  EXPECT_EQ(test::run_command(lrtune("export tensorboard " + tmp.str() + "/nothing --out " + tmp.str() + "/l"),
                              &text), 1);
  EXPECT_THAT(text, HasSubstr("lrtune: error: " + tmp.str() + "/nothing: no results.sqlite here"));
  std::ofstream(tmp.path() / "file") << "x";
  EXPECT_EQ(test::run_command(lrtune("train --data " + data.string() + " --out " + tmp.str() +
                                     "/run --tensorboard " + tmp.str() + "/file/logs"), &text), 1);
  EXPECT_THAT(text, HasSubstr("cannot create the TensorBoard folder"));
  EXPECT_FALSE(fs::exists(tmp.path() / "run"));  // stopped before the run began
}

}  // namespace
}  // namespace lrtune
