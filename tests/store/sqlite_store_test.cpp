// The SQLite store: schema and its version, WAL, claims across connections,
// stale heartbeats, owner-only writes, epoch rows replaced and truncated.
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/errors.h"
#include "store/store.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;

std::string sql_value(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open(db.c_str(), &h);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr);
  std::string out;
  if (sqlite3_step(s) == SQLITE_ROW)
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(h);
  return out;
}

void sql_exec(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open(db.c_str(), &h);
  ASSERT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(h);
}

TrialSpec spec(const std::string& id, std::int64_t epochs = 3) {
  return {id, "label " + id, {{"lr", 0.1}}, 0, epochs};
}

std::string store_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const StoreError& e) {
    return e.what();
  }
  return "(no error)";
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string db = (tmp.path() / "results.sqlite").string();
};

TEST_F(SqliteStoreTest, CreatesSchemaInWalModeWithVersion) {
  auto store = open_sqlite_store(db);
  EXPECT_EQ(sql_value(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(sql_value(db, "SELECT value FROM meta WHERE key = 'schema_version'"),
            std::to_string(kStoreSchemaVersion));
  store.reset();
  EXPECT_NO_THROW(open_sqlite_store(db));  // reopening an existing one
}

TEST_F(SqliteStoreTest, RefusesUnknownSchemaVersion) {
  open_sqlite_store(db);
  sql_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  const std::string msg = store_error([&] { open_sqlite_store(db); });
  EXPECT_THAT(msg, HasSubstr(db));
  EXPECT_THAT(msg, HasSubstr("schema version 99"));
}

TEST_F(SqliteStoreTest, RefusesOtherFiles) {
  sql_exec(db, "CREATE TABLE photos (x INTEGER)");
  EXPECT_THAT(store_error([&] { open_sqlite_store(db); }),
              HasSubstr("not an lrtune results database"));
  const std::string text = (tmp.path() / "notes.sqlite").string();
  std::ofstream(text) << "these are not the rows you are looking for\n";
  EXPECT_THAT(store_error([&] { open_sqlite_store(text); }), HasSubstr(text));
}

TEST_F(SqliteStoreTest, StudyRoundTrip) {
  auto store = open_sqlite_store(db);
  EXPECT_FALSE(store->study());
  store->put_study({"part1", "learning rates", {{"file", "part1.toml"}}, {"b", "a"}});
  store->put_study({"part1", "learning rates", {{"file", "part1.toml"}}, {"a", "c"}});
  auto info = open_sqlite_store(db)->study();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, "part1");
  EXPECT_EQ(info->spec["file"], "part1.toml");
  EXPECT_EQ(info->trial_ids, (std::vector<std::string>{"a", "c"}));
}

TEST_F(SqliteStoreTest, AddTrialKeepsTheFirstAndTheOrder) {
  auto store = open_sqlite_store(db);
  store->add_trial(spec("b"));
  store->add_trial(spec("a"));
  TrialSpec again = spec("b");
  again.label = "changed";
  store->add_trial(again);
  const auto all = store->trials();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].spec.id, "b");
  EXPECT_EQ(all[0].spec.label, "label b");
  EXPECT_EQ(all[0].spec.config["lr"], 0.1);
  EXPECT_EQ(all[0].status, RunStatus::pending);
  EXPECT_EQ(all[1].spec.id, "a");
  EXPECT_FALSE(store->trial("zzz"));
}

TEST_F(SqliteStoreTest, PutEpochReplacesAndKeepsNan) {
  auto store = open_sqlite_store(db);
  store->add_trial(spec("t"));
  EpochMetrics m;
  m.epoch = 1;
  m.val_acc = 0.25;
  store->put_epoch("t", m);
  m.val_acc = 0.5;
  m.train_loss = std::numeric_limits<double>::quiet_NaN();
  m.test_loss = std::numeric_limits<double>::infinity();
  store->put_epoch("t", m);  // the same epoch again: replaced, not duplicated
  const auto rows = store->epochs("t");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].val_acc, 0.5);
  EXPECT_TRUE(std::isnan(rows[0].train_loss));
  EXPECT_TRUE(std::isinf(rows[0].test_loss));
  EXPECT_EQ(store->trial("t")->epochs_done, 1);
}

TEST_F(SqliteStoreTest, TruncateDropsLaterEpochsOnly) {
  auto store = open_sqlite_store(db);
  store->add_trial(spec("t", 5));
  store->add_trial(spec("u", 5));
  for (int e = 1; e <= 4; ++e) {
    EpochMetrics m;
    m.epoch = e;
    store->put_epoch("t", m);
    store->put_epoch("u", m);
  }
  store->truncate_epochs("t", 2);
  ASSERT_EQ(store->epochs("t").size(), 2u);
  EXPECT_EQ(store->epochs("t").back().epoch, 2);
  EXPECT_EQ(store->epochs("u").size(), 4u);
  store->truncate_epochs("t", 0);
  EXPECT_TRUE(store->epochs("t").empty());
}

TEST_F(SqliteStoreTest, ClaimFollowsIdOrderAndOnlyThoseIds) {
  auto store = open_sqlite_store(db);
  for (const char* id : {"a", "b", "c"}) store->add_trial(spec(id));
  auto first = store->claim_trial({"c", "a"}, "h", 7, 60);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->spec.id, "c");
  EXPECT_EQ(first->status, RunStatus::running);
  EXPECT_EQ(first->host, "h");
  EXPECT_EQ(first->pid, 7);
  EXPECT_EQ(first->attempts, 1);
  EXPECT_GT(first->started_at, 0);
  EXPECT_EQ(store->claim_trial({"c", "a"}, "h", 7, 60)->spec.id, "a");
  EXPECT_FALSE(store->claim_trial({"c", "a"}, "h", 7, 60));  // "b" is not asked for
}

TEST_F(SqliteStoreTest, FinishRecordsStatusErrorAndEnd) {
  auto store = open_sqlite_store(db);
  store->add_trial(spec("t"));
  ASSERT_TRUE(store->claim_trial({"t"}, "h", 1, 60));
  EXPECT_TRUE(store->holds("t"));
  store->finish_trial("t", RunStatus::failed, "out of memory");
  const auto t = store->trial("t");
  EXPECT_EQ(t->status, RunStatus::failed);
  EXPECT_EQ(t->error, "out of memory");
  EXPECT_GE(t->ended_at, t->started_at);
  EXPECT_FALSE(store->claim_trial({"t"}, "h", 1, 60));  // finished trials stay finished
  EXPECT_EQ(store->retry_failed({"t"}), 1);
  EXPECT_EQ(store->trial("t")->status, RunStatus::pending);
  EXPECT_EQ(store->trial("t")->error, "");
}

TEST_F(SqliteStoreTest, ReleaseKeepsEpochsAndMakesItClaimable) {
  auto store = open_sqlite_store(db);
  store->add_trial(spec("t"));
  ASSERT_TRUE(store->claim_trial({"t"}, "h", 1, 60));
  EpochMetrics m;
  m.epoch = 1;
  store->put_epoch("t", m);
  store->set_trial_info("t", {{"threads", 2}});
  store->release_trial("t");
  auto again = store->claim_trial({"t"}, "h", 2, 60);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->epochs_done, 1);
  EXPECT_EQ(again->info["threads"], 2);
}

TEST_F(SqliteStoreTest, StaleHeartbeatLetsAnotherWorkerTakeOver) {
  // Both connections judge staleness by the store's clock, here a manual one.
  auto clock = std::make_shared<double>(1000.0);
  SqliteOptions opts;
  opts.clock = [clock] { return *clock; };
  auto a = open_sqlite_store(db, opts);
  auto b = open_sqlite_store(db, opts);
  a->add_trial(spec("t"));
  ASSERT_TRUE(a->claim_trial({"t"}, "host-a", 1, 0.3));
  EXPECT_FALSE(b->claim_trial({"t"}, "host-b", 2, 0.3));  // fresh heartbeat
  *clock += 0.2;
  a->heartbeat("t");
  *clock += 0.2;
  EXPECT_FALSE(b->claim_trial({"t"}, "host-b", 2, 0.3));  // the beat kept it
  *clock += 0.4;
  auto taken = b->claim_trial({"t"}, "host-b", 2, 0.3);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->attempts, 2);
  EXPECT_FALSE(a->holds("t"));
  EXPECT_TRUE(b->holds("t"));
  // The old owner's late writes change nothing.
  const double beat = b->trial("t")->heartbeat_at;
  a->heartbeat("t");
  a->finish_trial("t", RunStatus::done);
  auto t = b->trial("t");
  EXPECT_EQ(t->status, RunStatus::running);
  EXPECT_EQ(t->host, "host-b");
  EXPECT_EQ(t->heartbeat_at, beat);
  b->finish_trial("t", RunStatus::done);
  EXPECT_EQ(a->trial("t")->status, RunStatus::done);
}

TEST_F(SqliteStoreTest, ReleaseOrphanNeedsTheRecordedOwner) {
  auto store = open_sqlite_store(db);
  store->add_trial(spec("t"));
  ASSERT_TRUE(store->claim_trial({"t"}, "h", 41, 60));
  EXPECT_FALSE(store->release_orphan("t", "h", 42));
  EXPECT_FALSE(store->release_orphan("t", "other", 41));
  EXPECT_TRUE(store->release_orphan("t", "h", 41));
  EXPECT_EQ(store->trial("t")->status, RunStatus::pending);
  EXPECT_FALSE(store->release_orphan("t", "h", 41));  // no longer running
}

TEST_F(SqliteStoreTest, ClaimsAreAtomicAcrossConnections) {
  constexpr int kTrials = 60, kWorkers = 4;
  {
    auto store = open_sqlite_store(db);
    std::vector<std::string> ids;
    for (int i = 0; i < kTrials; ++i) store->add_trial(spec("t" + std::to_string(i)));
  }
  std::vector<std::string> ids;
  for (int i = 0; i < kTrials; ++i) ids.push_back("t" + std::to_string(i));
  std::mutex mu;
  std::map<std::string, int> claimed_by;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w)
    workers.emplace_back([&, w] {
      auto store = open_sqlite_store(db);  // its own connection, as a process would have
      while (auto t = store->claim_trial(ids, "h", w, 60)) {
        EpochMetrics m;
        m.epoch = 1;
        store->put_epoch(t->spec.id, m);
        store->finish_trial(t->spec.id, RunStatus::done);
        std::lock_guard lock(mu);
        EXPECT_EQ(claimed_by.count(t->spec.id), 0u) << t->spec.id << " claimed twice";
        claimed_by[t->spec.id] = w;
      }
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(claimed_by.size(), static_cast<std::size_t>(kTrials));
  auto store = open_sqlite_store(db);
  for (const auto& t : store->trials()) {
    EXPECT_EQ(t.status, RunStatus::done);
    EXPECT_EQ(t.attempts, 1);
    EXPECT_EQ(t.pid, claimed_by[t.spec.id]);
  }
}

}  // namespace
}  // namespace lrtune
