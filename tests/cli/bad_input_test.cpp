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
  EXPECT_THAT(text, HasSubstr("threads: must be in [0.0, 1024.0], got 100000"));
  EXPECT_FALSE(fs::exists(out / "checkpoint.pt"));
}

TEST_F(BadInput, StudyNamedAfterTheCurrentOrParentFolderIsRefused) {
  for (const char* name : {".", "..", "..."}) {
    SCOPED_TRACE(name);
    std::string text;
    EXPECT_EQ(run("study run '" + study_file(name).string() + "' --dry-run", &text), 1);
    EXPECT_THAT(text, HasSubstr("name: '" + std::string(name) + "' is the current or parent folder"));
    EXPECT_FALSE(fs::exists(tmp.path() / "results.sqlite"));
    EXPECT_FALSE(fs::exists(tmp.path() / "studies-out" / "results.sqlite"));
  }
}

}  // namespace
}  // namespace lrtune
