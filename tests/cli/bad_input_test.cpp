// Bad input on the command line: each refused in one `lrtune: error:` line
// naming the flag or key, exit 2 for flags and 1 for bad files, and nothing
// started or written.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct BadInput : ::testing::Test {
  test::TempDir tmp;
  fs::path out = tmp.path() / "out";
  fs::path study_file(const std::string& name = "ok") {
    const fs::path file = tmp.path() / "s.toml";
    std::ofstream(file) << "name = \"" << name << "\"\n[base]\nepochs = 1\n";
    return file;
  }
  // Runs lrtune from the temp folder; its whole output in `text`.
  int run(const std::string& args, std::string* text) {
    return test::run_command("cd '" + tmp.str() + "' && '" + test::lrtune_binary() + "' " + args,
                             text);
  }
};

TEST_F(BadInput, StudyRunOverridesOutOfRangeAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--epochs 0", "--epochs"},          {"--epochs -3", "--epochs"},
      {"--train-subset -1", "--train-subset"}, {"--threads-per-job 0", "--threads-per-job"},
      {"--threads-per-job -2", "--threads-per-job"}, {"--threads-per-job 100000", "--threads-per-job"},
      {"--pack -1", "--pack"},             {"--stale-after -1", "--stale-after"},
      {"--heartbeat-every 0", "--heartbeat-every"}, {"--heartbeat-every nan", "--heartbeat-every"},
      {"--jobs 0", "--jobs"},
  };
  for (const auto& [flags, name] : cases) {
    SCOPED_TRACE(flags);
    std::string text;
    EXPECT_EQ(run("study run '" + study_file().string() + "' --out '" + out.string() + "' " + flags,
                  &text), 2);
    EXPECT_THAT(text, StartsWith("lrtune: error: " + name));
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    EXPECT_FALSE(fs::exists(out)) << "something was started";
  }
}

TEST_F(BadInput, UnknownFlagIsOneLineWithUsageStatus) {
  std::string text;
  EXPECT_EQ(run("train --no-such-flag 3", &text), 2);
  EXPECT_THAT(text, StartsWith("lrtune: error: "));
  EXPECT_THAT(text, HasSubstr("--no-such-flag"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

TEST_F(BadInput, AbsurdThreadCountsAreRefusedBeforeTraining) {
  std::string text;
  EXPECT_EQ(run("train --threads 100000 --epochs 1 --out '" + out.string() + "'", &text), 1);
  EXPECT_THAT(text, HasSubstr("threads: must be in [0, 1024], got 100000"));
  EXPECT_FALSE(fs::exists(out / "checkpoint.pt"));
}

TEST_F(BadInput, StudyNamedAfterTheCurrentOrParentFolderIsRefused) {
  for (const char* name : {".", "..", "..."}) {
    SCOPED_TRACE(name);
    std::string text;
    EXPECT_EQ(run("study run '" + study_file(name).string() + "' --dry-run", &text), 1);
    // "..." is no parent folder: it is refused for being dots alone.
    EXPECT_THAT(text, HasSubstr("name: '" + std::string(name) +
                                (std::string(name) == "..." ? "' is only dots"
                                                            : "' is the current or parent folder")));
    EXPECT_FALSE(fs::exists(tmp.path() / "results.sqlite"));
    EXPECT_FALSE(fs::exists(tmp.path() / "studies-out" / "results.sqlite"));
  }
}

TEST_F(BadInput, MessagesNameTheRealProblem) {
  std::string text;
  // --epochs -1 is about epochs, not about warmup_epochs measured against it.
  EXPECT_EQ(run("train --epochs -1 --out '" + out.string() + "'", &text), 1);
  EXPECT_THAT(text, StartsWith("lrtune: error: configuration: epochs: must be > 0, got -1"));
  // A seed beyond 64 bits is too large, not negative.
  EXPECT_EQ(run("train --seed 12345678901234567890 --out '" + out.string() + "'", &text), 1);
  EXPECT_THAT(text, HasSubstr("seed: got 12345678901234567890, too large for a 64-bit integer"));
  EXPECT_THAT(text, Not(HasSubstr(">= 0")));
  // report with no folder at all: a usage error that says what to give.
  EXPECT_EQ(run("report", &text), 2);
  EXPECT_THAT(text, StartsWith("lrtune: error: report: no folder given"));
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(BadInput, AFolderWhereABatchFileBelongsIsNamedAsOne) {
  const fs::path data = tmp.path() / "data";
  test::write_tiny_cifar(data, 20, 20);
  fs::remove(data / "data_batch_3.bin");
  fs::create_directories(data / "data_batch_3.bin" / "data_batch_3.bin");
  std::string text;
  EXPECT_EQ(run("data check --data '" + data.string() + "'", &text), 1);
  EXPECT_THAT(text, HasSubstr("data_batch_3.bin: is a folder; a CIFAR-10 binary batch file"));
}

TEST_F(BadInput, ShortBatchFilesAreReadWithAWarningNamingFileAndCount) {
  const fs::path data = tmp.path() / "data";
  test::write_tiny_cifar(data, 20, 30);
  std::string text;
  EXPECT_EQ(run("data check --data '" + data.string() + "'", &text), 0);
  for (int k = 1; k <= 5; ++k)
    EXPECT_THAT(text, HasSubstr("warning: " + (data / ("data_batch_" + std::to_string(k) +
                                                       ".bin")).string() +
                                ": 20 images; the official CIFAR-10 files hold 10,000 each"));
  EXPECT_THAT(text, HasSubstr("test_batch.bin: 30 images"));
  EXPECT_THAT(text, HasSubstr("100 training images, 30 test images"));
  EXPECT_EQ(run("train --data '" + data.string() + "' --epochs 1 --val-size 20 --out '" +
                    out.string() + "'", &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("data_batch_1.bin: 20 images; the official"));
}

TEST_F(BadInput, AHugeGridIsRefusedBeforeItIsExpanded) {
  // 20^8 = 2.56e10 points: expanded first, it would take hours and all memory.
  const fs::path file = tmp.path() / "huge.toml";
  std::ofstream f(file);
  f << "name = \"huge\"\n[[sweep]]\ngrid = { ";
  const char* keys[] = {"lr", "momentum", "weight_decay", "seed", "batch_size", "val_size",
                        "epochs", "train_subset"};
  for (int k = 0; k < 8; ++k) {
    f << (k ? ", " : "") << keys[k] << " = [";
    for (int v = 1; v <= 20; ++v) f << (v > 1 ? ", " : "") << v * 10;
    f << "]";
  }
  f << " }\n";
  f.close();
  std::string text;
  EXPECT_EQ(run("study run '" + file.string() + "' --dry-run", &text), 1);
  EXPECT_THAT(text, HasSubstr("the study has 25,600,000,000 points"));
  EXPECT_THAT(text, HasSubstr("lrtune runs at most 10,000 per study"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

}  // namespace
}  // namespace lrtune
