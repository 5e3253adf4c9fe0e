// Status table, progress line and the per-epoch export (CSV and JSON).
#include <cmath>
#include <limits>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/store.h"
#include "study/summary.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;

class StudySummaryTest : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::unique_ptr<Store> store = open_sqlite_store((tmp.path() / "results.sqlite").string());

  void SetUp() override {
    store->add_trial({"a", "lr=0.1", {{"lr", 0.1}, {"nesterov", true}, {"milestones", {5, 10}}}, 0, 4});
    store->add_trial({"b", "lr=0.5", {{"lr", 0.5}, {"nesterov", false}, {"milestones", {5, 10}}}, 0, 4});
    store->add_trial({"c", "lr=0.01", {{"lr", 0.01}, {"nesterov", false}, {"milestones", {5, 10}}}, 0, 4});
    store->add_trial({"old", "lr=0.3", {{"lr", 0.3}}, 0, 4});
    const double val[] = {0.5, 0.7, 0.6};
    for (int e = 1; e <= 3; ++e) {
      EpochMetrics m;
      m.epoch = e;
      m.lr = 0.1;
      m.val_acc = val[e - 1];
      m.test_acc = val[e - 1] - 0.05;
      m.seconds = 10;
      store->put_epoch("a", m);
    }
    EpochMetrics bad;
    bad.epoch = 1;
    bad.train_loss = std::numeric_limits<double>::quiet_NaN();
    bad.seconds = 10;
    store->put_epoch("b", bad);
    store->claim_trial({"b"}, "h", 1, 60);
    store->finish_trial("b", RunStatus::diverged, "loss became nan");
    store->claim_trial({"a"}, "h", 1, 60);
  }
  std::vector<std::string> ids = {"a", "b", "c"};
};

TEST_F(StudySummaryTest, SummariesFindTheBestEpochAndTimeLeft) {
  const auto s = summarize(*store, ids);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].best_val_acc, 0.7);
  EXPECT_EQ(s[0].best_val_epoch, 2);
  EXPECT_DOUBLE_EQ(*s[0].test_at_best_val, 0.65);
  EXPECT_EQ(s[0].seconds_left, 10);  // 1 epoch left at 10 s
  EXPECT_EQ(s[1].seconds_left, 0);   // finished
  EXPECT_EQ(s[2].seconds_left, 40);  // 4 epochs at the study's mean
  EXPECT_FALSE(s[2].best_val_acc.has_value());
  const auto p = progress(s, 2);
  EXPECT_EQ(p.running, 1);
  EXPECT_EQ(p.diverged, 1);
  EXPECT_EQ(p.pending, 1);
  EXPECT_EQ(p.epochs_done, 4);
  EXPECT_EQ(p.epochs_total, 4 + 1 + 4);  // a diverged trial counts as complete
  EXPECT_EQ(p.seconds_left, 25);         // 50 s of work on two lanes
  EXPECT_THAT(progress_line(p), HasSubstr("1/3 trials finished (1 diverged), 1 running, 1 waiting"));
}

// A search with budget left: its undrawn trials count as long as the finished
// one took (1 epoch of 10 s each), on two lanes.
TEST_F(StudySummaryTest, ASearchsUndrawnTrialsCountInTheTotalAndTheTimeLeft) {
  const auto s = summarize(*store, ids);
  StudyProgress p = progress(s, 2);
  add_undrawn(p, s, 4, 2);
  EXPECT_EQ(p.undrawn, 4);
  EXPECT_EQ(p.epochs_total, 9 + 4);
  EXPECT_EQ(p.seconds_left, 25 + 4 * 10 / 2);
  EXPECT_THAT(progress_line(p), HasSubstr("1/7 trials finished (1 diverged), 1 running, 1 waiting, "
                                          "4 not drawn yet; epoch 4/13"));
}

// `study status` of a stopped search: its closing line counts the budget,
// never "3/3 trials finished" with most of it still to draw.
TEST_F(StudySummaryTest, StatusTableOfAStoppedSearchCountsItsUndrawnBudget) {
  EXPECT_THAT(status_table(summarize(*store, ids), 1, 999999997),
              HasSubstr("1/1000000000 trials finished (1 diverged), 1 running, 1 waiting, "
                        "999999997 not drawn yet"));
}

TEST_F(StudySummaryTest, StatusTableShowsEveryColumnAndOnlyCurrentTrials) {
  const std::string table = status_table(summarize(*store, ids), 1);
  EXPECT_THAT(table, HasSubstr("label"));
  EXPECT_THAT(table, HasSubstr("time left"));
  EXPECT_THAT(table, HasSubstr("lr=0.1   running"));
  EXPECT_THAT(table, HasSubstr("3/4"));
  EXPECT_THAT(table, HasSubstr("0.7000"));
  EXPECT_THAT(table, HasSubstr("0.6500"));
  EXPECT_THAT(table, HasSubstr("lr=0.5: diverged: loss became nan"));
  EXPECT_THAT(table, Not(HasSubstr("lr=0.3")));
  EXPECT_THAT(status_table(summarize(*store, {}), 1), HasSubstr("lr=0.3"));
}

// On a cluster, which worker runs a trial: host:pid of its claim, shown only
// while some trial runs (the table that ends `study run` has no such column).
TEST_F(StudySummaryTest, StatusTableNamesTheWorkerOfEachRunningTrial) {
  store->claim_trial({"c"}, "node-7", 4242, 60);
  std::istringstream running(status_table(summarize(*store, ids), 1));
  std::vector<std::string> lines;
  for (std::string line; std::getline(running, line);) lines.push_back(line);
  ASSERT_GE(lines.size(), 4u);
  EXPECT_THAT(lines[0], testing::EndsWith("worker"));
  EXPECT_THAT(lines[1], testing::StartsWith("lr=0.1 "));
  EXPECT_THAT(lines[1], testing::EndsWith("  h:1"));
  EXPECT_THAT(lines[2], testing::EndsWith("  -"));  // diverged: no worker
  EXPECT_THAT(lines[3], testing::EndsWith("  node-7:4242"));

  store->finish_trial("a", RunStatus::done, "");
  store->finish_trial("c", RunStatus::done, "");
  const std::string finished = status_table(summarize(*store, ids), 1);
  EXPECT_THAT(finished, Not(HasSubstr("worker")));
  EXPECT_THAT(finished, Not(HasSubstr("node-7")));
}

TEST_F(StudySummaryTest, CsvHasOneRowPerTrialAndEpoch) {
  std::ostringstream out;
  write_epochs_csv(*store, ids, {"lr", "nesterov", "milestones"}, out);
  std::istringstream in(out.str());
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header,
            "trial_id,label,config_lr,nesterov,milestones,status,epoch,lr,train_loss,train_acc,"
            "val_loss,val_acc,test_loss,test_acc,seconds,images_per_s");
  std::vector<std::string> rows;
  while (std::getline(in, line)) rows.push_back(line);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_THAT(rows[0], HasSubstr("a,lr=0.1,0.1,true,\"5,10\",running,1,"));
  EXPECT_THAT(rows[3], HasSubstr("b,lr=0.5,0.5,false,\"5,10\",diverged,1,0,nan,"));
}

TEST_F(StudySummaryTest, JsonRecordsReadyForPandas) {
  std::ostringstream out;
  write_epochs_json(*store, ids, {"lr"}, out);
  const auto rows = nlohmann::json::parse(out.str());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["trial_id"], "a");
  EXPECT_EQ(rows[0]["config_lr"], 0.1);
  EXPECT_EQ(rows[1]["val_acc"], 0.7);
  EXPECT_EQ(rows[3]["status"], "diverged");
  EXPECT_TRUE(rows[3]["train_loss"].is_null());  // NaN has no JSON form
}

}  // namespace
}  // namespace lrtune
