// A report shows a study's current trials only: trials of an earlier version
// of its study file (a quick `--epochs 2` try, an old base configuration) are
// never averaged with current trials of the same label. And it warns once when
// the current trials were trained on different copies of the data.
#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/provenance.h"
#include "report/assets.h"
#include "report/report.h"
#include "report/study.h"
#include "support/fake_store.h"
#include "support/test_support.h"

namespace lrtune::report {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;

// part1 as last run: lr=0.1 and lr=0.01 for 5 epochs. The store also holds a
// 2-epoch try of lr=0.1 from an earlier run of the file, with the same label.
std::unique_ptr<test::FakeStore> study_with_an_old_try(const std::string& print_a = "",
                                                       const std::string& print_b = "") {
  auto s = std::make_unique<test::FakeStore>();
  s->add("try", "lr=0.1", RunStatus::done, 2, {{0.11, 0.12}, {0.13, 0.14}});
  s->records.back().info = {{kDataFingerprintKey, "0000000000000old"}};
  s->add("a", "lr=0.1", RunStatus::done, 5,
         {{0.40, 0.41}, {0.55, 0.54}, {0.72, 0.70}, {0.81, 0.79}, {0.80, 0.82}});
  if (!print_a.empty()) s->records.back().info = {{kDataFingerprintKey, print_a}};
  s->add("b", "lr=0.01", RunStatus::done, 5,
         {{0.30, 0.31}, {0.50, 0.52}, {0.50, 0.49}, {0.60, 0.61}, {0.62, 0.60}});
  if (!print_b.empty()) s->records.back().info = {{kDataFingerprintKey, print_b}};
  s->info = StudyInfo{"part1", "Learning rates", {}, {"b", "a"}};  // current ids, in file order
  return s;
}

TEST(ReportStudyVersions, OnlyTheCurrentTrialsAreRead) {
  auto store = study_with_an_old_try();
  const StudyRecords r = read_study(*store, "runs/part1");
  ASSERT_EQ(r.trials.size(), 2u);
  EXPECT_EQ(r.trials[0].spec.id, "b");  // the study file's order
  EXPECT_EQ(r.trials[1].spec.id, "a");
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs[1].size(), 5u);
}

TEST(ReportStudyVersions, AnOldTryIsNeverAveragedWithTheRealTrialOfItsLabel) {
  auto store = study_with_an_old_try();
  const StudyData d = make_study(read_study(*store, "runs/part1"));
  EXPECT_FALSE(d.has_repeats());
  for (const auto& s : d.series) {
    EXPECT_EQ(s.n, 1u) << s.label << " mixes trials";
    if (s.label == "lr=0.1") EXPECT_EQ(s.epochs.size(), 5u) << "the 2-epoch try was drawn";
  }
  for (const auto& g : d.groups) EXPECT_EQ(g.trials, 1u) << g.label;
  ASSERT_EQ(d.trials.size(), 2u);
  ASSERT_TRUE(d.trials[1].best_val_acc.has_value());
  EXPECT_DOUBLE_EQ(*d.trials[1].best_val_acc, 0.81);
}

TEST(ReportStudyVersions, TheWrittenReportHasNoRepeatsFromOldTrials) {
  if (page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
  test::TempDir dir;
  ReportOptions o;
  o.dirs = {"runs/part1"};
  o.compare = {{"runs/part1", "lr=0.1"}};
  o.out = dir.str();
  o.figures = false;
  write_report(o, [](const std::string&) -> std::unique_ptr<Store> { return study_with_an_old_try(); });
  const std::string md = test::read_file(dir.path() / "report.md");
  EXPECT_THAT(md, Not(HasSubstr("Repeats")));
  EXPECT_THAT(md, Not(HasSubstr("13.00")));  // the try's best validation accuracy
  EXPECT_THAT(md, HasSubstr("2 trials: 2 done"));
  const std::string compared = test::read_file(dir.path() / "compare" / "trials.csv");
  EXPECT_EQ(std::count(compared.begin(), compared.end(), '\n'), 2) << compared;  // header + a
}

TEST(ReportStudyVersions, TrialsOnDifferentCopiesOfTheDataGiveOneWarning) {
  auto mixed = study_with_an_old_try("1111111111111111", "2222222222222222");
  const StudyRecords r = read_study(*mixed, "runs/part1");
  EXPECT_THAT(r.data_warning, HasSubstr("2 different copies of the data"));
  EXPECT_THAT(r.data_warning, HasSubstr("1111111111111111: 1 trial"));
  EXPECT_THAT(r.data_warning, Not(HasSubstr("old")));  // the old try is not part of the study
  EXPECT_EQ(make_study(r).warning, r.data_warning);

  // One copy for every current trial: no warning, although the old try used another.
  auto same = study_with_an_old_try("1111111111111111", "1111111111111111");
  EXPECT_EQ(read_study(*same, "runs/part1").data_warning, "");

  if (page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
  test::TempDir dir;
  ReportOptions o;
  o.dirs = {"runs/part1"};
  o.out = dir.str();
  o.figures = false;
  std::vector<std::string> log;
  write_report(
      o,
      [](const std::string&) -> std::unique_ptr<Store> {
        return study_with_an_old_try("1111111111111111", "2222222222222222");
      },
      [&](const std::string& line) { log.push_back(line); });
  EXPECT_EQ(std::count_if(log.begin(), log.end(),
                          [](const std::string& l) { return l.find("warning:") != std::string::npos; }),
            1);
  EXPECT_THAT(test::read_file(dir.path() / "report.md"), HasSubstr("different copies of the data"));
  EXPECT_THAT(test::read_file(dir.path() / "index.html"), HasSubstr("different copies of the data"));
}

}  // namespace
}  // namespace lrtune::report
