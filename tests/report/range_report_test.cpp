// lr-find folders in reports: the summary file read back with its curves,
// clear errors for damaged folders, and the section in report.md and
// index.html (Chromium drawing it: report_test.cpp).
#include <cmath>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "report/range_report.h"
#include "report/report.h"
#include "support/fake_store.h"
#include "support/range_support.h"
#include "support/test_support.h"

namespace lrtune::report {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(RangeReport, SummaryReadsBackWithItsCurves) {
  test::TempDir dir;
  const auto written = test::write_range_folder(dir.path() / "find", {"momentum=0", "momentum=0.9"});
  ASSERT_TRUE(is_range_folder((dir.path() / "find").string()));
  EXPECT_FALSE(is_range_folder(dir.str()));
  const RangeFolder f = read_range_folder((dir.path() / "find").string());
  EXPECT_EQ(f.settings, "momentum=0.9");
  EXPECT_EQ(f.steps, 60);
  ASSERT_EQ(f.tests.size(), 2u);
  for (std::size_t t = 0; t < 2; ++t) {
    const auto& got = f.tests[t];
    const auto& want = written.tests[t];
    EXPECT_EQ(got.curve.label, want.curve.label);
    EXPECT_EQ(got.points, 50);
    EXPECT_TRUE(got.stopped);
    ASSERT_EQ(got.curve.lr.size(), 50u);
    EXPECT_NEAR(got.curve.lr[49], want.curve.lr[49], 1e-9);
    EXPECT_NEAR(got.curve.smoothed[10], want.curve.smoothed[10], 1e-9);
    EXPECT_DOUBLE_EQ(got.curve.valley, want.curve.valley);
    EXPECT_DOUBLE_EQ(got.curve.steepest, want.curve.steepest);
  }
  EXPECT_TRUE(std::isnan(f.tests[0].curve.minimum_tenth));  // "none" survives the file
  EXPECT_DOUBLE_EQ(f.tests[1].curve.minimum_tenth, 0.001);
}

void expect_error(const fs::path& dir, const std::string& what) {
  try {
    read_range_folder(dir.string());
    ADD_FAILURE() << "no error for " << what;
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(dir.string())) << what;
    EXPECT_THAT(e.what(), HasSubstr(what));
  }
}

TEST(RangeReport, DamagedFoldersAreRefusedNamingTheFile) {
  test::TempDir dir;
  const fs::path find = dir.path() / "find";
  test::write_range_folder(find);
  const std::string summary = test::read_file(find / "lr-find.json");

  fs::remove(find / "lr-find.csv");
  expect_error(find, "lr-find.csv: cannot read");
  test::write_range_folder(find);
  std::ofstream(find / "lr-find.csv") << "step,lr,loss,smoothed_loss\n1,0.1,x,2\n";
  expect_error(find, "lr-find.csv:2: expected 4 numbers");
  std::ofstream(find / "lr-find.json") << summary.substr(0, summary.size() / 2);
  expect_error(find, "malformed lr-find summary");
  std::string other = summary;
  other.replace(other.find("lrtune-lr-find"), 14, "something-else");
  std::ofstream(find / "lr-find.json") << other;
  expect_error(find, "not an lr-find summary");
  other = summary;
  other.replace(other.find("\"lr-find.csv\""), 13, "\"../secret.csv\"");
  std::ofstream(find / "lr-find.json") << other;
  expect_error(find, "must be a file name in the same folder");
}

TEST(RangeReport, ReportShowsTheRangeTestBesideAStudy) {
  test::TempDir dir;
  const fs::path find = dir.path() / "find";
  test::write_range_folder(find, {"momentum=0", "momentum=0.9"});
  ReportOptions o;
  o.dirs = {"runs/a", find.string()};
  o.out = (dir.path() / "report").string();
  o.figures = true;
  auto open = [](const std::string& d) {
    if (d != "runs/a") throw StoreError(d + ": opened as a study");  // never for the lr-find folder
    return test::fabricated_study("part 1");
  };
  const auto result = write_report(o, open);
  EXPECT_EQ(result.studies, 2u);
  const std::string md = test::read_file(dir.path() / "report" / "report.md");
  EXPECT_THAT(md, HasSubstr("## part 1"));
  EXPECT_THAT(md, HasSubstr("## LR range test: " + find.string()));
  EXPECT_THAT(md, HasSubstr("60 steps per test, lr 1e-05 to 10 (exponential ramp); settings: "
                            "momentum=0.9"));
  EXPECT_THAT(md, HasSubstr("| momentum=0 | 50 | 1e-05 | 0.962 | diverged | 0.0123 | 0.0456 | — |"));
  EXPECT_THAT(md, HasSubstr("| momentum=0.9 | 50 | 1e-05 | 0.962 | diverged | 0.0246 | 0.0912 | 0.001 |"));
  EXPECT_THAT(md, HasSubstr("(lr-find-find/lr-find.png)"));
  EXPECT_TRUE(fs::exists(dir.path() / "report" / "lr-find-find" / "lr-find.png"));
  EXPECT_TRUE(fs::exists(dir.path() / "report" / "lr-find-find" / "lr-find.svg"));
  const std::string html = test::read_file(dir.path() / "report" / "index.html");
  EXPECT_THAT(html, HasSubstr("id=\"range-lr-find-find\""));
  EXPECT_THAT(html, HasSubstr("\"ranges\":[{\"anchor\":\"range-lr-find-find\""));
  EXPECT_THAT(html, HasSubstr("\"marks\":{\"min/10\":null,\"steepest\":0.0456,\"valley\":0.0123}"));
}

}  // namespace
}  // namespace lrtune::report
