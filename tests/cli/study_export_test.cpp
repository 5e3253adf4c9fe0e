// `lrtune study export` where the output cannot be written: a full device
// behind standard output or --out is an error (exit 1, one line), never an
// exit 0 with an empty file, and a failed export leaves no partial file.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A finished study's folder (made by lrtune 0.1: a real results.sqlite), copied.
struct StudyExport : ::testing::Test {
  test::TempDir tmp;
  fs::path study = tmp.path() / "tiny";
  void SetUp() override {
    fs::copy(fs::path(LRTUNE_SOURCE_DIR) / "tests/fixtures/v0.1-results/studies-out/tiny", study,
             fs::copy_options::recursive);
  }
  int run(const std::string& args, std::string* out) {
    // Braces: the redirections in `args` apply to lrtune alone, and its
    // standard error still reaches `out`.
    return test::run_command("{ '" + test::lrtune_binary() + "' study export '" + study.string() +
                                 "' " + args + "; }", out);
  }
};

TEST_F(StudyExport, FullStandardOutputIsAnError) {
  for (const char* format : {"csv", "json"}) {
    SCOPED_TRACE(format);
    std::string out;
    EXPECT_EQ(run(std::string("--format ") + format + " >/dev/full", &out), 1) << out;
    EXPECT_EQ(out, "lrtune: error: standard output: cannot write: No space left on device\n");
  }
}

TEST_F(StudyExport, FullOutputFileIsAnError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  std::string out;
  EXPECT_EQ(run("--format csv --out /dev/full", &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("lrtune: error: /dev/full: cannot write: No space left on device"));
}

TEST_F(StudyExport, OutputFileHoldsWhatStandardOutputShows) {
  std::string printed, out;
  ASSERT_EQ(run("--format csv 2>/dev/null", &printed), 0);
  ASSERT_GT(std::count(printed.begin(), printed.end(), '\n'), 2) << printed;
  const fs::path file = tmp.path() / "epochs.csv";
  ASSERT_EQ(run("--format csv --out '" + file.string() + "'", &out), 0) << out;
  EXPECT_EQ(test::read_file(file), printed);
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  // A folder where the file should go: one line, and the folder untouched.
  fs::create_directories(tmp.path() / "dir.csv");
  EXPECT_EQ(run("--format csv --out '" + (tmp.path() / "dir.csv").string() + "'", &out), 1);
  EXPECT_THAT(out, HasSubstr("lrtune: error: "));
  EXPECT_TRUE(fs::is_directory(tmp.path() / "dir.csv"));
}

}  // namespace
}  // namespace lrtune
