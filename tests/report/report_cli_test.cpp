// `lrtune report` end to end on a real results database, one study still running.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store.h"
#include "support/test_support.h"

namespace lrtune {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

EpochMetrics epoch(std::int64_t e, double val) {
  EpochMetrics m;
  m.epoch = e;
  m.lr = 0.01;
  m.train_loss = 2.0 / e;
  m.train_acc = val + 0.02;
  m.val_loss = 2.1 / e;
  m.val_acc = val;
  m.test_acc = val - 0.01;
  m.test_loss = m.val_loss;
  m.seconds = 30;
  return m;
}

// A study of two trials: one done, one claimed by a worker that is still on epoch 3.
void fabricate(const std::string& db) {
  auto store = open_sqlite_store(db);
  store->put_study({"sqlite study", "made by the report test", nlohmann::json::object()});
  for (const char* id : {"t1", "t2"}) {
    TrialSpec spec;
    spec.id = id;
    spec.label = std::string("lr=") + (id[1] == '1' ? "0.1" : "0.5");
    spec.config = nlohmann::json::object();
    spec.epochs_total = 4;
    store->add_trial(spec);
  }
  auto t1 = store->claim_trial({"t1"}, "host", 1, 3600);
  ASSERT_TRUE(t1.has_value());
  for (int e = 1; e <= 4; ++e) store->put_epoch("t1", epoch(e, 0.2 * e));
  store->finish_trial("t1", RunStatus::done);
  auto t2 = store->claim_trial({"t2"}, "host", 2, 3600);
  ASSERT_TRUE(t2.has_value());
  for (int e = 1; e <= 2; ++e) store->put_epoch("t2", epoch(e, 0.3 * e));
}

TEST(ReportCli, ReportsARunningStudyFromItsDatabase) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "study");
  fabricate((dir.path() / "study" / "results.sqlite").string());
  std::string out;
  int rc = test::run_command("'" + test::lrtune_binary() + "' report '" +
                                 (dir.path() / "study").string() + "' --no-figures",
                             &out);
  ASSERT_EQ(rc, 0) << out;
  fs::path report = dir.path() / "study" / "report";
  std::string md = test::read_file(report / "report.md");
  EXPECT_THAT(md, HasSubstr("## sqlite study"));
  EXPECT_THAT(md, HasSubstr("| lr=0.1 | done | 80.00 | 4 | 79.00 | 79.00 | 3 | 4 | 4 | 2m00s |"));
  EXPECT_THAT(md, HasSubstr("| lr=0.5 | running 2/4 | 60.00 | 2 | 59.00 | 59.00 | 2 | — | — | 1m00s |"));
  EXPECT_TRUE(fs::exists(report / "index.html"));
  EXPECT_TRUE(fs::exists(report / "sqlite-study" / "trials.csv"));
}

TEST(ReportCli, FolderWithoutResultsIsAClearError) {
  test::TempDir dir;
  std::string out;
  int rc = test::run_command("'" + test::lrtune_binary() + "' report '" + dir.str() + "'", &out);
  EXPECT_NE(rc, 0);
  EXPECT_THAT(out, HasSubstr("no results.sqlite here"));
  EXPECT_FALSE(fs::exists(dir.path() / "results.sqlite"));  // and none was created
}

}  // namespace
}  // namespace lrtune
