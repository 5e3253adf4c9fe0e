// `lrtune lr-find` through the binary: CSV, figure and suggestions from a
// real range test on tiny data, several tests on one figure, bad flags in one
// line, and nothing written outside its output folder.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

class LrFindCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path out = tmp.path() / "out";
  void SetUp() override { test::write_tiny_cifar(data, 100, 20); }

  int lr_find(const std::string& args, std::string* output) {
    // Run from the temp folder, so anything written outside --out shows there.
    return test::run_command("cd '" + tmp.str() + "' && " + test::lrtune_binary() +
                                 " lr-find --data '" + data.string() +
                                 "' --batch-size 32 --val-size 100 --threads 1 --device cpu "
                                 "--steps 60 --start-lr 1e-5 --end-lr 10 --out '" +
                                 out.string() + "' " + args + " 2>&1",
                             output);
  }
  static std::vector<std::string> lines(const fs::path& file) {
    std::vector<std::string> out;
    std::ifstream in(file);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
};

TEST_F(LrFindCli, WritesCsvFigureAndSuggestions) {
  std::string output;
  ASSERT_EQ(lr_find("--momentum 0.9", &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("suggested: valley "));
  EXPECT_THAT(output, HasSubstr("steepest "));
  EXPECT_THAT(output, HasSubstr("min/10 "));
  const auto csv = lines(out / "lr-find.csv");
  ASSERT_GT(csv.size(), 20u);
  EXPECT_EQ(csv[0], "step,lr,loss,smoothed_loss");
  EXPECT_THAT(csv[1], ::testing::StartsWith("1,1e-05,"));
  EXPECT_GT(fs::file_size(out / "lr-find.png"), 1000u);
  EXPECT_THAT(test::read_file(out / "lr-find.svg"), HasSubstr("valley"));
  // Nothing but the output folder and the data next to it: no run directory.
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(tmp.path())) entries.push_back(e.path().filename());
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"data", "out"}));
}

TEST_F(LrFindCli, CompareDrawsSeveralTestsOnOneFigure) {
  std::string output;
  ASSERT_EQ(lr_find("--compare momentum=0,0.9", &output), 0) << output;
  EXPECT_TRUE(fs::exists(out / "lr-find-momentum=0.csv"));
  EXPECT_TRUE(fs::exists(out / "lr-find-momentum=0.9.csv"));
  const std::string svg = test::read_file(out / "lr-find.svg");
  EXPECT_THAT(svg, HasSubstr("momentum=0.9"));
  EXPECT_THAT(output, HasSubstr("[momentum=0] "));
  // `lrtune report` on the folder: its section, with every test and its settings.
  ASSERT_EQ(test::run_command(test::lrtune_binary() + " report '" + out.string() + "' 2>&1",
                              &output), 0) << output;
  const std::string md = test::read_file(out / "report" / "report.md");
  EXPECT_THAT(md, HasSubstr("## LR range test: " + out.string()));
  EXPECT_THAT(md, HasSubstr("settings: batch\\_size=32 val\\_size=100"));
  EXPECT_THAT(md, HasSubstr("| momentum=0 | "));
  EXPECT_THAT(md, HasSubstr("| momentum=0.9 | "));
  EXPECT_TRUE(fs::exists(out / "report" / "index.html"));
}

TEST_F(LrFindCli, BadInputGivesOneLine) {
  std::string output;
  EXPECT_EQ(lr_find("--ramp cubic", &output), 2) << output;
  EXPECT_THAT(output, HasSubstr("--ramp"));
  EXPECT_NE(lr_find("--start-lr 0", &output), 0);
  EXPECT_THAT(output, HasSubstr("--start-lr"));
  EXPECT_NE(lr_find("--compare nosuchkey=1,2", &output), 0);
  EXPECT_THAT(output, HasSubstr("nosuchkey"));
  EXPECT_FALSE(fs::exists(out / "lr-find.csv"));
}

// Each refused before anything starts: one line, status 2 for a flag (never
// a crash: `momentum=` once segfaulted), and no output folder at all.
TEST_F(LrFindCli, BadCompareListsAndRatesAreRefusedBeforeAnythingStarts) {
  std::string output;
  for (const std::string& args :
       {"--compare momentum=", "--compare momentum=0.9,0.9", "--compare lr=0.1,1",
        "--compare epochs=1,2", "--end-lr inf", "--start-lr 1e-300 --end-lr 1e300",
        "--end-lr 1e300", "--end-lr nan"}) {
    const int status = lr_find(args, &output);
    EXPECT_TRUE(status == 1 || status == 2) << args << ": status " << status << "\n" << output;
    EXPECT_THAT(output, ::testing::StartsWith("lrtune: error: ")) << args;
    EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << args << "\n" << output;
    EXPECT_FALSE(fs::exists(out)) << args;
  }
  EXPECT_EQ(lr_find("--compare momentum=", &output), 2);
  EXPECT_THAT(output, HasSubstr("--compare momentum=: an empty value"));
}

}  // namespace
}  // namespace lrtune
