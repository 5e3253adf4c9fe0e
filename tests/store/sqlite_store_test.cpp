// What only the SQLite store does: its schema version and WAL mode, the
// migration of lrtune 0.1 databases, many studies in one file, its own clock,
// and claims across connections. The Store contract itself is in
// store_conformance_test.cpp.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/errors.h"
#include "store/store.h"
#include "study/expand.h"
#include "study/study_file.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

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

TrialSpec spec(const std::string& id) { return {id, "label " + id, {{"lr", 0.1}}, 0, 3}; }

std::string store_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const StoreError& e) {
    return e.what();
  }
  return "(no error)";
}

// lrtune 0.1's results (tests/fixtures/make-v0.1-results.sh), copied to `to`.
fs::path copy_v01_fixture(const std::string& part, const fs::path& to) {
  const fs::path from = fs::path(LRTUNE_SOURCE_DIR) / "tests/fixtures/v0.1-results" / part;
  fs::copy(from, to, fs::copy_options::recursive);
  return to / "results.sqlite";
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

// A database of the previous release (schema 2: no files table) is migrated
// when opened, keeping its trials, and then keeps files.
TEST_F(SqliteStoreTest, ASchema2DatabaseGainsTheFilesTable) {
  open_sqlite_store(db)->add_trial({"t", "lr=0.1", {{"lr", 0.1}}, 0, 10});
  sql_exec(db, "DROP TABLE files; UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  auto store = open_sqlite_store(db);
  EXPECT_TRUE(store->trial("t"));
  EXPECT_EQ(sql_value(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "3");
  std::ofstream(tmp.path() / "m.pt") << "bytes";
  store->put_file("abc", (tmp.path() / "m.pt").string());
  EXPECT_EQ(store->file_hashes(), std::vector<std::string>{"abc"});
}

TEST_F(SqliteStoreTest, RefusesANewerDatabaseInOneLine) {
  open_sqlite_store(db);
  sql_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  const std::string msg = store_error([&] { open_sqlite_store(db); });
  EXPECT_THAT(msg, HasSubstr(db));
  EXPECT_THAT(msg, HasSubstr("schema version 99"));
  EXPECT_THAT(msg, HasSubstr("upgrade lrtune"));
  EXPECT_THAT(msg, Not(HasSubstr("\n")));
}

TEST_F(SqliteStoreTest, RefusesAVersionNoLrtuneWrote) {
  open_sqlite_store(db);
  sql_exec(db, "UPDATE meta SET value = 'banana' WHERE key = 'schema_version'");
  const std::string msg = store_error([&] { open_sqlite_store(db); });
  EXPECT_THAT(msg, HasSubstr("schema version banana"));
  EXPECT_THAT(msg, HasSubstr("not one lrtune wrote"));
}

TEST_F(SqliteStoreTest, RefusesOtherFiles) {
  sql_exec(db, "CREATE TABLE photos (x INTEGER)");
  EXPECT_THAT(store_error([&] { open_sqlite_store(db); }),
              HasSubstr("not an lrtune results database"));
  const std::string text = (tmp.path() / "notes.sqlite").string();
  std::ofstream(text) << "these are not the rows you are looking for\n";
  EXPECT_THAT(store_error([&] { open_sqlite_store(text); }), HasSubstr(text));
}

// After upgrading, rerunning the same study file finds its trials done: the
// migrated ids are today's ids of the same configurations, and each trial
// keeps its epochs and its checkpoint folder.
TEST_F(SqliteStoreTest, MigratesAStudyOfLrtune01) {
  const fs::path dir = tmp.path() / "tiny";
  const std::string path = copy_v01_fixture("studies-out/tiny", dir).string();
  auto store = open_sqlite_store(path);
  EXPECT_EQ(sql_value(path, "SELECT value FROM meta WHERE key = 'schema_version'"), "3");
  const auto expansion = expand_study(read_study_file(
      (fs::path(LRTUNE_SOURCE_DIR) / "tests/fixtures/v0.1-results/tiny.toml").string()));
  const auto info = store->study();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, "tiny");
  EXPECT_EQ(info->trial_ids, expansion.ids());
  for (const auto& p : info->spec["points"])
    EXPECT_TRUE(store->trial(p["id"].get<std::string>())) << p.dump();
  const auto trials = store->trials();
  ASSERT_EQ(trials.size(), 2u);
  for (const auto& t : trials) {
    EXPECT_EQ(t.status, RunStatus::done) << t.spec.label;
    EXPECT_EQ(t.epochs_done, 2) << t.spec.label;
    const std::string checkpoint = (fs::path(store->trial_dir(t.spec.id)) / "checkpoint.pt").string();
    EXPECT_TRUE(store->fetch_checkpoint(t.spec.id, checkpoint)) << t.spec.label;
  }
  for (const char* old_id : {"c3d0edcba55fc0d9", "69f6680fafc12925"}) {  // 0.1's ids
    EXPECT_FALSE(store->trial(old_id)) << old_id;
    EXPECT_FALSE(fs::exists(dir / "trials" / old_id)) << old_id;
  }
  const auto& lr05 = trials[0].spec.label == "lr=0.05" ? trials[0] : trials[1];
  ASSERT_EQ(lr05.spec.label, "lr=0.05");
  EXPECT_EQ(store->epochs(lr05.spec.id).at(0).val_acc, 0.38);
}

// `lrtune train --resume` of a run that 0.1 stopped after its first epoch.
TEST_F(SqliteStoreTest, MigratesATrainRunOfLrtune01) {
  const std::string path = copy_v01_fixture("runs/partial", tmp.path() / "partial").string();
  auto store = open_sqlite_store(path);
  EXPECT_FALSE(store->study());
  const auto run = store->trial("run");  // not a 0.1 hash: the id stays
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, RunStatus::pending);
  EXPECT_EQ(run->epochs_done, 1);
  EXPECT_EQ(store->epochs("run").at(0).lr, 0.02);
  ASSERT_TRUE(store->claim_trial({"run"}, "h", 1, 0));
  EXPECT_EQ(store->trial("run")->attempts, 2);
}

TEST_F(SqliteStoreTest, OneFileHoldsManyStudies) {
  SqliteOptions one, two;
  one.study = "part1";
  two.study = "part2";
  auto a = open_sqlite_store(db, one);
  auto b = open_sqlite_store(db, two);
  a->put_study({"part1", "one", {}, {"t"}});
  b->put_study({"part2", "two", {}, {"t"}});
  a->add_trial(spec("t"));  // the same id in both studies: two trials
  b->add_trial(spec("t"));
  ASSERT_TRUE(a->claim_trial({"t"}, "h", 1, 60));
  EXPECT_EQ(b->trial("t")->status, RunStatus::pending);
  EXPECT_EQ(open_sqlite_store(db, one)->study()->description, "one");
  EXPECT_EQ(open_sqlite_store(db, two)->study()->description, "two");
  const std::string msg = store_error([&] { open_sqlite_store(db); });
  EXPECT_THAT(msg, HasSubstr("holds 2 studies ('part1', 'part2'); name the one you mean"));
}

TEST_F(SqliteStoreTest, UnnamedStoreActsForTheOnlyStudy) {
  auto unnamed = open_sqlite_store(db);  // before the study exists
  SqliteOptions named;
  named.study = "part1";
  open_sqlite_store(db, named)->put_study({"part1", "one", {}, {}});
  ASSERT_TRUE(unnamed->study());
  EXPECT_EQ(unnamed->study()->name, "part1");
  EXPECT_EQ(open_sqlite_store(db)->study()->name, "part1");
}

TEST_F(SqliteStoreTest, WithoutAnInjectedClockTimeIsTheDatabaseMachines) {
  auto store = open_sqlite_store(db);
  const double wall = std::chrono::duration<double>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(store->now(), wall, 5.0);
  store->add_trial(spec("t"));
  const auto t = store->claim_trial({"t"}, "h", 1, 60);
  ASSERT_TRUE(t);
  EXPECT_NEAR(t->started_at, wall, 5.0);
}

TEST_F(SqliteStoreTest, ClaimsAreAtomicAcrossConnections) {
  constexpr int kTrials = 60, kWorkers = 4;
  std::vector<std::string> ids;
  for (int i = 0; i < kTrials; ++i) ids.push_back("t" + std::to_string(i));
  {
    auto store = open_sqlite_store(db);
    for (const auto& id : ids) store->add_trial(spec(id));
  }
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
    EXPECT_EQ(t.epochs_done, 1);
    EXPECT_EQ(t.pid, claimed_by[t.spec.id]);
  }
}

// Samplers on four connections adding trials up to a budget, as four worker
// processes do: each trial number is taken once, and the budget is never passed.
TEST_F(SqliteStoreTest, TrialsChosenOnManyConnectionsNeverRepeatOrPassTheBudget) {
  constexpr std::size_t kBudget = 40;
  constexpr int kWorkers = 4;
  open_sqlite_store(db)->put_study({"search", "", {}, {}});
  std::atomic<int> added{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w)
    workers.emplace_back([&] {
      auto store = open_sqlite_store(db);
      const auto choose = [](const std::vector<TrialHistory>& h) -> std::optional<TrialSpec> {
        if (h.size() >= kBudget) return std::nullopt;
        return spec("n" + std::to_string(h.size()));
      };
      while (store->add_trial_with(choose)) ++added;
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(added.load(), static_cast<int>(kBudget));
  const auto ids = open_sqlite_store(db)->study()->trial_ids;
  ASSERT_EQ(ids.size(), kBudget);
  for (std::size_t i = 0; i < kBudget; ++i) EXPECT_EQ(ids[i], "n" + std::to_string(i));
}

}  // namespace
}  // namespace lrtune
