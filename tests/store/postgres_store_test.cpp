// What only the PostgreSQL store does: the databases it refuses, an
// unreachable server, the server's clock, and claims and choosers on many
// connections at once. The Store contract itself is in store_conformance_test.cpp.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "core/errors.h"
#include "store/postgres_store.h"
#include "support/postgres_server.h"

namespace lrtune {
namespace {
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

void sql(const std::string& url, const std::string& statement) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  tx.exec(statement);
}

// The one-line message of the StoreError that opening `url` throws.
std::string open_error(const std::string& url) {
  try {
    open_postgres_store(url);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "(opened without an error)";
}

TrialSpec spec(const std::string& id) { return {id, "lr=" + id, {{"lr", 0.1}}, 0, 10}; }

TEST(PostgresStoreTest, ADatabaseOfSomethingElseIsRefusedInOneLine) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("other");
  sql(url, "CREATE TABLE invoices (id integer PRIMARY KEY)");
  EXPECT_THAT(open_error(url), AllOf(HasSubstr("is not an lrtune results database"),
                                     HasSubstr("/other_"), Not(HasSubstr("\n"))));
}

TEST(PostgresStoreTest, ANewerSchemaIsRefusedInOneLine) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("newer");
  open_postgres_store(url)->add_trial(spec("t"));
  sql(url, "UPDATE meta SET value = '3' WHERE key = 'schema_version'");
  EXPECT_THAT(open_error(url), AllOf(HasSubstr("schema version 3"), HasSubstr("upgrade lrtune"),
                                     Not(HasSubstr("\n"))));
}

TEST(PostgresStoreTest, AnUnreachableServerIsOneLineNamingHostAndPortButNoPassword) {
  const int port = test::free_local_port();  // closed: nothing listens there
  ASSERT_NE(port, 0);
  const std::string where = "127.0.0.1:" + std::to_string(port);
  const std::string message = open_error("postgresql://lrtune:s3cret@" + where + "/results");
  EXPECT_THAT(message, AllOf(HasSubstr("cannot connect to PostgreSQL at " + where),
                             Not(HasSubstr("s3cret")), Not(HasSubstr("\n"))));
}

TEST(PostgresStoreTest, WithoutAnInjectedClockTimesAreTheServers) {
  LRTUNE_REQUIRE_POSTGRES(server);
  auto store = open_postgres_store(server->create_database("clock"));
  const double local = std::chrono::duration<double>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(store->now(), local, 5);  // one machine here: the same clock
  store->add_trial(spec("t"));
  const auto t = store->claim_trial({"t"}, "h", 1, 60);
  ASSERT_TRUE(t);
  EXPECT_NEAR(t->started_at, local, 5);
  EXPECT_NEAR(t->heartbeat_at, local, 5);
}

TEST(PostgresStoreTest, ClaimsAreAtomicAcrossConnections) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("claims");
  constexpr int kTrials = 60, kWorkers = 4;
  std::vector<std::string> ids;
  for (int i = 0; i < kTrials; ++i) ids.push_back("t" + std::to_string(i));
  {
    auto store = open_postgres_store(url);
    for (const auto& id : ids) store->add_trial(spec(id));
  }
  std::mutex mu;
  std::map<std::string, int> claimed_by;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w)
    workers.emplace_back([&, w] {
      auto store = open_postgres_store(url);  // its own connection, as a process would have
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
  for (const auto& t : open_postgres_store(url)->trials()) {
    EXPECT_EQ(t.status, RunStatus::done);
    EXPECT_EQ(t.attempts, 1);
    EXPECT_EQ(t.epochs_done, 1);
    EXPECT_EQ(t.pid, claimed_by[t.spec.id]);
  }
}

// Samplers on four connections adding trials up to a budget: each trial
// number is taken once, and the budget is never passed.
TEST(PostgresStoreTest, TrialsChosenOnManyConnectionsNeverRepeatOrPassTheBudget) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("choosers");
  constexpr std::size_t kBudget = 40;
  open_postgres_store(url)->put_study({"search", "", {}, {}});
  std::atomic<int> added{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&] {
      auto store = open_postgres_store(url);
      const auto choose = [](const std::vector<TrialHistory>& h) -> std::optional<TrialSpec> {
        if (h.size() >= kBudget) return std::nullopt;
        return spec("n" + std::to_string(h.size()));
      };
      while (store->add_trial_with(choose)) ++added;
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(added.load(), static_cast<int>(kBudget));
  const auto ids = open_postgres_store(url)->study()->trial_ids;
  ASSERT_EQ(ids.size(), kBudget);
  for (std::size_t i = 0; i < kBudget; ++i) EXPECT_EQ(ids[i], "n" + std::to_string(i));
}

}  // namespace
}  // namespace lrtune
