// Report table numbers against values computed by hand from a fabricated study.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/series.h"
#include "report/study.h"
#include "report/summary.h"
#include "report/tables.h"
#include "support/fake_store.h"

namespace lrtune::report {
namespace {

using ::testing::HasSubstr;

std::map<std::string, TrialSummary> summaries() {
  auto store = test::fabricated_study();
  std::map<std::string, TrialSummary> out;
  for (const auto& t : store->trials()) out[t.spec.id] = summarize_trial(t, store->epochs(t.spec.id));
  return out;
}

TEST(ReportSummary, DoneTrialMatchesHandComputedValues) {
  auto s = summaries().at("a1");  // val .40 .55 .72 .81 .80, test .41 .54 .70 .79 .82
  EXPECT_EQ(s.status(), RunStatus::done);
  EXPECT_DOUBLE_EQ(*s.best_val_acc, 0.81);
  EXPECT_EQ(s.best_val_epoch, 4);
  EXPECT_DOUBLE_EQ(*s.test_at_best_val, 0.79);
  EXPECT_DOUBLE_EQ(*s.final_test_acc, 0.82);
  EXPECT_EQ(s.first_epoch_at[0], 2);  // >= 50%
  EXPECT_EQ(s.first_epoch_at[1], 3);  // >= 70%
  EXPECT_EQ(s.first_epoch_at[2], 4);  // >= 80%
  EXPECT_DOUBLE_EQ(s.wall_seconds, 50);
  EXPECT_EQ(status_text(s), "done");
}

TEST(ReportSummary, DivergedTrialNamesItsEpoch) {
  auto s = summaries().at("b");  // val .20 .10; training loss NaN from epoch 2
  EXPECT_EQ(s.diverged_epoch, 2);
  EXPECT_EQ(status_text(s), "diverged @ep 2");
  EXPECT_DOUBLE_EQ(*s.best_val_acc, 0.20);
  EXPECT_EQ(s.best_val_epoch, 1);
  EXPECT_DOUBLE_EQ(*s.test_at_best_val, 0.21);
  EXPECT_DOUBLE_EQ(*s.final_test_acc, 0.10);
  for (const auto& e : s.first_epoch_at) EXPECT_FALSE(e.has_value());
}

TEST(ReportSummary, DivergenceAfterTheLastStoredEpochWhenNoRowShowsIt) {
  TrialRecord t;
  t.status = RunStatus::diverged;
  std::vector<EpochMetrics> rows(3);
  for (int i = 0; i < 3; ++i) rows[i].epoch = i + 1;
  EXPECT_EQ(divergence_epoch(t, rows), 4);
  t.status = RunStatus::done;
  EXPECT_FALSE(divergence_epoch(t, rows).has_value());
}

TEST(ReportSummary, RunningTrialUsesFinishedEpochsAndEarliestTie) {
  auto s = summaries().at("c");  // val .30 .50 .50, test .31 .52 .49, 3 of 10 epochs
  EXPECT_EQ(status_text(s), "running 3/10");
  EXPECT_DOUBLE_EQ(*s.best_val_acc, 0.50);
  EXPECT_EQ(s.best_val_epoch, 2);
  EXPECT_DOUBLE_EQ(*s.test_at_best_val, 0.52);
  EXPECT_DOUBLE_EQ(*s.final_test_acc, 0.49);
  EXPECT_EQ(s.first_epoch_at[0], 2);  // exactly 50% counts as reaching it
  EXPECT_DOUBLE_EQ(s.wall_seconds, 30);
}

TEST(ReportSummary, PendingTrialHasNoNumbers) {
  auto s = summaries().at("d");
  EXPECT_EQ(status_text(s), "pending");
  EXPECT_FALSE(s.best_val_acc.has_value());
  EXPECT_FALSE(s.final_test_acc.has_value());
  EXPECT_DOUBLE_EQ(s.wall_seconds, 0);
}

TEST(ReportSummary, EpochOrderDoesNotMatter) {
  auto store = test::fabricated_study();
  auto rows = store->epochs("a1");
  std::reverse(rows.begin(), rows.end());
  auto s = summarize_trial(*store->trial("a1"), rows);
  EXPECT_DOUBLE_EQ(*s.final_test_acc, 0.82);
  EXPECT_EQ(s.first_epoch_at[1], 3);
}

TEST(ReportSummary, RepeatGroupsShareTheLabelWithoutSeed) {
  EXPECT_EQ(group_key("lr=0.1 seed=2"), "lr=0.1");
  EXPECT_EQ(group_key("repeat=1 momentum=0.9 nesterov=on"), "momentum=0.9 nesterov=on");
  EXPECT_EQ(group_key("lr=0.1"), "lr=0.1");
}

TEST(ReportSummary, GroupMeanAndSampleStd) {
  auto all = summaries();
  auto groups = summarize_groups({all.at("a1"), all.at("a2"), all.at("b")});
  ASSERT_EQ(groups.size(), 2u);
  const auto& g = groups[0];
  EXPECT_EQ(g.label, "lr=0.1");
  EXPECT_EQ(g.trials, 2u);
  // best .81 and .83; test at best .79 and .80; final test .82 and .80
  EXPECT_NEAR(g.best_val_acc.mean, 0.82, 1e-12);
  EXPECT_NEAR(g.best_val_acc.std, 0.0141421356, 1e-9);
  EXPECT_NEAR(g.test_at_best_val.mean, 0.795, 1e-12);
  EXPECT_NEAR(g.test_at_best_val.std, 0.0070710678, 1e-9);
  EXPECT_NEAR(g.final_test_acc.mean, 0.81, 1e-12);
  EXPECT_EQ(groups[1].diverged, 1u);
  EXPECT_EQ(groups[1].best_val_acc.n, 1u);
  EXPECT_DOUBLE_EQ(groups[1].best_val_acc.std, 0);
}

TEST(ReportSummary, TableRowsShowPercentAndDashes) {
  auto all = summaries();
  Table t = trial_table({all.at("a1"), all.at("d")});
  ASSERT_EQ(t.header.size(), 10u);
  std::vector<std::string> a1;
  for (const auto& c : t.rows[0]) a1.push_back(c.text);
  EXPECT_EQ(a1, (std::vector<std::string>{"lr=0.1 seed=1", "done", "81.00", "4", "79.00", "82.00",
                                          "2", "3", "4", "50s"}));
  EXPECT_EQ(t.rows[1][2].text, "—");
  EXPECT_EQ(t.rows[1][2].sort, "");
  std::string md = markdown_table(t);
  EXPECT_THAT(md, HasSubstr("| lr=0.1 seed=1 | done | 81.00 | 4 | 79.00 | 82.00 | 2 | 3 | 4 | 50s |"));
}

TEST(ReportSummary, CsvHasFullPrecisionAndOneRowPerTrial) {
  auto all = summaries();
  std::string csv = trials_csv({all.at("a1"), all.at("b"), all.at("e")});
  EXPECT_THAT(csv, HasSubstr("a1,lr=0.1 seed=1,done,,5,5,0.81,4,0.79,0.82,2,3,4,50,\n"));
  EXPECT_THAT(csv, HasSubstr("b,lr=0.5,diverged,2,2,5,0.2,1,0.21,0.1,,,,20,\n"));
  EXPECT_THAT(csv, HasSubstr(",out of memory <oops>\n"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
}

TEST(ReportSummary, SeriesAverageRepeatsWithMinMaxBand) {
  auto store = test::fabricated_study();
  StudyData d = load_study(*store, "runs/lr");
  ASSERT_GE(d.series.size(), 2u);
  const Series& s = d.series[0];
  EXPECT_EQ(s.label, "lr=0.1");
  EXPECT_EQ(s.n, 2u);
  const auto& v = s.of(Metric::val_acc);  // epoch 2: .55 and .60
  EXPECT_NEAR(v.mean[1], 0.575, 1e-12);
  EXPECT_DOUBLE_EQ(v.lo[1], 0.55);
  EXPECT_DOUBLE_EQ(v.hi[1], 0.60);
  EXPECT_EQ(s.legend(), "lr=0.1 (mean of 2)");
  const Series& b = d.series[1];
  EXPECT_EQ(b.legend(), "lr=0.5 (diverged @ep 2)");
  EXPECT_DOUBLE_EQ(b.marker_value(Metric::val_acc), 0.10);
  EXPECT_DOUBLE_EQ(b.marker_value(Metric::train_loss), 2.3 * (1 - 0.25) + 0.05);  // epoch 1
  EXPECT_EQ(d.series[2].legend(), "lr=0.01 (running 3/10)");
  EXPECT_NE(d.series[0].colour, d.series[1].colour);
}

TEST(ReportSummary, StudyWithSeveralSweepsGetsOneSectionPerSweep) {
  test::FakeStore store;
  store.add("p", "part1 lr=0.1", RunStatus::done, 2, {{0.5, 0.5}, {0.6, 0.6}});
  store.add("q", "part1 lr=0.01", RunStatus::done, 2, {{0.3, 0.3}, {0.4, 0.4}});
  store.add("r", "part2 momentum=0.9", RunStatus::done, 2, {{0.7, 0.7}, {0.8, 0.8}});
  nlohmann::json points = {
      {{"sweep", "part1"}, {"label", "part1 lr=0.1"}, {"id", "p"}},
      {{"sweep", "part1"}, {"label", "part1 lr=0.01"}, {"id", "q"}},
      {{"sweep", "part2"}, {"label", "part2 momentum=0.0"}, {"id", "q"}},  // shared trial
      {{"sweep", "part2"}, {"label", "part2 momentum=0.9"}, {"id", "r"}},
      {{"sweep", "part3"}, {"label", "part3 gone"}, {"id", "missing"}}};
  store.info = StudyInfo{"quick", "", {{"points", points}}};
  auto sections = sweep_sections(read_study(store, "runs/quick"));
  ASSERT_EQ(sections.size(), 2u);  // part3 has no stored trial
  EXPECT_EQ(sections[0].name, "quick: part1");
  EXPECT_EQ(sections[1].name, "quick: part2");
  ASSERT_EQ(sections[1].trials.size(), 2u);
  EXPECT_EQ(sections[1].trials[0].label(), "momentum=0.0");
  EXPECT_DOUBLE_EQ(*sections[1].trials[0].best_val_acc, 0.4);
  EXPECT_EQ(sections[1].series[1].label, "momentum=0.9");
  // One sweep, or none named: the study stays whole, labels as stored.
  store.info->spec = nlohmann::json::object();
  sections = sweep_sections(read_study(store, "runs/quick"));
  ASSERT_EQ(sections.size(), 1u);
  EXPECT_EQ(sections[0].trials[0].label(), "part1 lr=0.1");
}

}  // namespace
}  // namespace lrtune::report
