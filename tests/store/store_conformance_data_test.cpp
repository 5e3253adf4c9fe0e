// The Store contract (store/store.h) for epochs, trial info, the clock,
// checkpoints and studies, run against every implementation.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "store/store_conformance.h"
#include "support/test_support.h"

namespace lrtune::conformance {
namespace {

namespace fs = std::filesystem;

TEST_P(StoreConformance, PutEpochReplacesAndEpochsComeInEpochOrder) {
  add({"t"});
  for (std::int64_t e : {3, 1, 2}) a->put_epoch("t", row(e));
  a->put_epoch("t", row(2, 7.0));  // the same epoch again, redone
  const auto rows = b->epochs("t");
  EXPECT_EQ(epochs_of(rows), (Epochs{1, 2, 3}));
  EXPECT_EQ(rows[1].val_acc, row(2, 7.0).val_acc);
  EXPECT_EQ(b->trial("t")->epochs_done, 3);
  EXPECT_EQ(b->trials()[0].epochs_done, 3);
}

TEST_P(StoreConformance, EpochKeepsEveryMetricField) {
  add({"t"});
  const EpochMetrics m = row(4, 0.3);
  a->put_epoch("t", m);
  const auto rows = b->epochs("t");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].epoch, 4);
  for (const auto& f : metric_fields()) EXPECT_EQ(rows[0].*f.member, m.*f.member) << f.name;
}

TEST_P(StoreConformance, NonFiniteMetricsComeBackAsTheyWentIn) {
  add({"t"});
  EpochMetrics m = row(1);
  m.train_loss = std::numeric_limits<double>::quiet_NaN();  // a diverged epoch
  m.val_loss = std::numeric_limits<double>::infinity();
  m.test_loss = -std::numeric_limits<double>::infinity();
  a->put_epoch("t", m);
  const auto rows = b->epochs("t");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(std::isnan(rows[0].train_loss));
  EXPECT_EQ(rows[0].val_loss, std::numeric_limits<double>::infinity());
  EXPECT_EQ(rows[0].test_loss, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(rows[0].val_acc, m.val_acc);
}

TEST_P(StoreConformance, PutEpochForATrialNotInTheStudyIsRefused) {
  EXPECT_THROW(a->put_epoch("unknown", row(1)), StoreError);
  EXPECT_TRUE(a->epochs("unknown").empty());
}

TEST_P(StoreConformance, TruncateDropsLaterEpochsOfThatTrialOnly) {
  add({"t", "u"});
  for (std::int64_t e = 1; e <= 4; ++e) {
    a->put_epoch("t", row(e));
    a->put_epoch("u", row(e));
  }
  b->truncate_epochs("t", 2);
  EXPECT_EQ(epochs_of(a->epochs("t")), (Epochs{1, 2}));
  EXPECT_EQ(a->trial("t")->epochs_done, 2);
  EXPECT_EQ(epochs_of(a->epochs("u")), (Epochs{1, 2, 3, 4}));
  b->truncate_epochs("t", 0);
  EXPECT_TRUE(a->epochs("t").empty());
}

TEST_P(StoreConformance, TrialInfoIsReplacedAndSurvivesAClaim) {
  add({"t"});
  a->set_trial_info("t", {{"threads", 2}, {"device", "cpu"}});
  b->set_trial_info("t", {{"threads", 4}});
  EXPECT_EQ(a->trial("t")->info, (nlohmann::json{{"threads", 4}}));
  ASSERT_TRUE(a->claim_trial({"t"}, "h", 1, kStale));
  a->release_trial("t");
  EXPECT_EQ(b->trial("t")->info, (nlohmann::json{{"threads", 4}}));
}

TEST_P(StoreConformance, NowFollowsTheStoreClock) {
  const double t0 = a->now();
  EXPECT_EQ(b->now(), t0);
  backend->advance(12.5);
  EXPECT_EQ(a->now(), t0 + 12.5);
  EXPECT_EQ(b->now(), t0 + 12.5);
}

std::string slurp(const std::string& path) { return test::read_file(path); }

void write_bytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST_P(StoreConformance, FetchWithoutASavedCheckpointIsFalse) {
  add({"t", "u"});
  EXPECT_NE(a->trial_dir("t"), a->trial_dir("u"));
  const std::string saved = (fs::path(a->trial_dir("t")) / "checkpoint.pt").string();
  write_bytes(saved, "weights");
  a->save_checkpoint("t", saved);
  EXPECT_FALSE(b->fetch_checkpoint("u", (fs::path(b->trial_dir("u")) / "checkpoint.pt").string()));
}

TEST_P(StoreConformance, FetchMakesTheLastSavedBytesAvailable) {
  add({"t"});
  const std::string saved = (fs::path(a->trial_dir("t")) / "checkpoint.pt").string();
  const std::string fetched = (fs::path(b->trial_dir("t")) / "checkpoint.pt").string();
  const std::string v1("v1\0\r\n\xff weights", 14), v2 = "v2 shorter";  // no tail of v1 may stay
  write_bytes(saved, v1);
  a->save_checkpoint("t", saved);
  ASSERT_TRUE(b->fetch_checkpoint("t", fetched));
  EXPECT_EQ(slurp(fetched), v1);
  write_bytes(saved, v2);  // the next epoch's checkpoint
  a->save_checkpoint("t", saved);
  ASSERT_TRUE(b->fetch_checkpoint("t", fetched));
  EXPECT_EQ(slurp(fetched), v2);
}

// Files trials train from (a TorchScript model) are kept by content hash: any
// handle, on any host, gets the same bytes back.
TEST_P(StoreConformance, KeptFilesComeBackByTheirHash) {
  add({"t"});
  const std::string local = (fs::path(a->trial_dir("t")) / "model.pt").string();
  const std::string there = (fs::path(b->trial_dir("t")) / "models" / "0123456789abcdef.pt").string();
  const std::string bytes("model\0\r\n\xff bytes", 18);
  write_bytes(local, bytes);
  EXPECT_FALSE(b->fetch_file("0123456789abcdef", there));
  EXPECT_TRUE(b->file_hashes().empty());
  a->put_file("0123456789abcdef", local);
  a->put_file("0123456789abcdef", local);  // kept once
  ASSERT_TRUE(b->fetch_file("0123456789abcdef", there));
  EXPECT_EQ(slurp(there), bytes);
  EXPECT_EQ(b->file_hashes(), std::vector<std::string>{"0123456789abcdef"});
  EXPECT_FALSE(b->fetch_file("fedcba9876543210", there + ".other"));
  EXPECT_THROW(a->put_file("ffff", local + ".missing"), StoreError);
}

TEST_P(StoreConformance, StudiesShareNothing) {
  auto other = backend->open("other");
  a->put_study({kStudy, "mine", {}, {"t"}});
  other->put_study({"other", "theirs", {}, {"x"}});
  add({"t"});
  other->add_trial(spec("x"));
  other->put_epoch("x", row(1));
  EXPECT_EQ(ids_of(b->trials()), (Ids{"t"}));
  EXPECT_EQ(ids_of(other->trials()), (Ids{"x"}));
  EXPECT_EQ(b->study()->description, "mine");
  EXPECT_EQ(other->study()->description, "theirs");
  EXPECT_FALSE(b->trial("x"));
  EXPECT_TRUE(b->epochs("x").empty());
  EXPECT_FALSE(b->claim_trial({"x"}, "h", 1, kStale));
  EXPECT_EQ(other->trial("x")->status, RunStatus::pending);
}

}  // namespace
}  // namespace lrtune::conformance
