// What only the PostgreSQL store does: the databases it refuses, an
// unreachable server, the server's clock, and claims and choosers on many
// connections at once. The Store contract itself is in store_conformance_test.cpp.
#include <atomic>
#include <future>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "core/errors.h"
#include "store/postgres_db.h"
#include "store/postgres_store.h"
#include "support/postgres_server.h"
#include "support/test_support.h"

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

std::string sql_value(const std::string& url, const std::string& query) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  return tx.exec1(query)[0].as<std::string>();
}

// The one-line message of the StoreError that opening `url` throws
// ("(opened without an error)" when it opens).
std::string open_error(const std::string& url, PostgresOptions options = {}) {
  try {
    open_postgres_store(url, std::move(options));
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
  sql(url, "UPDATE meta SET value = '4' WHERE key = 'schema_version'");
  EXPECT_THAT(open_error(url), AllOf(HasSubstr("schema version 4"), HasSubstr("upgrade lrtune"),
                                     Not(HasSubstr("\n"))));
}

// A database of the previous release (schema 2: no files table) is migrated
// when opened, keeping its trials, and then keeps files.
TEST(PostgresStoreTest, ASchema2DatabaseGainsTheFilesTable) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("schema2");
  open_postgres_store(url)->add_trial(spec("t"));
  sql(url, "DROP TABLE files; UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  auto store = open_postgres_store(url);
  EXPECT_TRUE(store->trial("t"));
  EXPECT_EQ(sql_value(url, "SELECT value FROM meta WHERE key = 'schema_version'"), "3");
  test::TempDir dir;
  std::ofstream(dir.path() / "m.pt") << "bytes";
  store->put_file("abc", (dir.path() / "m.pt").string());
  EXPECT_EQ(store->file_hashes(), std::vector<std::string>{"abc"});
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

// The database name at the end of a test server's URL.
std::string database_of(const std::string& url) { return url.substr(url.rfind('/') + 1); }

// Options that collect the store's lines about lost and regained connections.
PostgresOptions logged(std::vector<std::string>& lines, double retry_for_s = 60) {
  PostgresOptions o;
  o.retry_for_s = retry_for_s;
  o.log = [&lines](const std::string& line) { lines.push_back(line); };
  return o;
}

EpochMetrics epoch(std::int64_t n) {
  EpochMetrics m;
  m.epoch = n;
  m.val_acc = 0.1 * static_cast<double>(n);
  return m;
}

TEST(PostgresStoreTest, ADroppedConnectionIsOpenedAgainAndTheWriteGoesThrough) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("dropped");
  std::vector<std::string> lines;
  auto store = open_postgres_store(url, logged(lines));
  store->add_trial(spec("t"));
  ASSERT_TRUE(store->claim_trial({"t"}, "h", 1, 60));
  server->drop_connections(database_of(url));
  store->put_epoch("t", epoch(1));  // on a new connection, still holding the claim
  store->finish_trial("t", RunStatus::done);
  const auto t = open_postgres_store(url)->trial("t");
  EXPECT_EQ(t->status, RunStatus::done);
  EXPECT_EQ(t->epochs_done, 1);
  EXPECT_EQ(t->attempts, 1);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("lost the connection"));
  EXPECT_THAT(lines[1], HasSubstr("connected to PostgreSQL again"));
}

TEST(PostgresStoreTest, AStoreRidesOutAServerRestartKeepingItsLease) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("restart");
  std::vector<std::string> lines;
  auto store = open_postgres_store(url, logged(lines));
  store->add_trial(spec("t"));
  ASSERT_TRUE(store->claim_trial({"t"}, "h", 1, 60));
  store->put_epoch("t", epoch(1));
  ASSERT_EQ(server->restart(), "");
  store->put_epoch("t", epoch(2));
  EXPECT_TRUE(store->holds("t"));
  store->finish_trial("t", RunStatus::done);
  const auto epochs = open_postgres_store(url)->epochs("t");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[1].val_acc, 0.2);
  EXPECT_FALSE(lines.empty());
}

TEST(PostgresStoreTest, AServerGoneLongerThanTheRetryTimeIsAnErrorNamingTheSetting) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("gone");
  std::vector<std::string> lines;
  auto store = open_postgres_store(url, logged(lines, /*retry_for_s=*/0.5));
  store->add_trial(spec("t"));
  sql(server->url("postgres"),
      "ALTER DATABASE " + database_of(url) + " ALLOW_CONNECTIONS false");  // no new sessions
  server->drop_connections(database_of(url));
  try {
    store->trials();
    ADD_FAILURE() << "no error";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("no connection again within 0.5s"),
                                HasSubstr("--store-retry"), Not(HasSubstr("\n"))));
  }
}

TEST(PostgresStoreTest, AStudyThatMustExistButDoesNotIsOneLineNamingTheStudiesThere) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("named");
  PostgresOptions a;
  a.study = "alpha";
  open_postgres_store(url, a)->put_study({"alpha", "", {}, {}});
  PostgresOptions o;
  o.study = "beta";
  o.must_exist = true;
  EXPECT_THAT(open_error(url, o), AllOf(HasSubstr("no study named 'beta'"), HasSubstr("'alpha'"),
                                       Not(HasSubstr("\n"))));
  EXPECT_EQ(postgres_studies(url), std::vector<std::string>{"alpha"});  // nothing added
}

TEST(PostgresStoreTest, AnEmptyDatabaseIsRefusedWhereAStudyMustExistAndStaysEmpty) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("empty");
  PostgresOptions o;
  o.study = "s";
  o.must_exist = true;
  EXPECT_THAT(open_error(url, o), HasSubstr("holds no lrtune study yet"));
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM information_schema.tables"
                    " WHERE table_schema = current_schema()")[0][0].as<int>(), 0);
}

TEST(PostgresStoreTest, AWrongPasswordIsOneLineWithoutThePassword) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("password");
  server->require_password("guarded", "right-one");
  const std::string base = "127.0.0.1:" + std::to_string(server->port()) + "/" + database_of(url);
  EXPECT_NO_THROW(open_postgres_store("postgresql://guarded:right-one@" + base));
  EXPECT_THAT(open_error("postgresql://guarded:wrong-one@" + base),
              AllOf(HasSubstr("password authentication failed"), Not(HasSubstr("wrong-one")),
                    Not(HasSubstr("\n"))));
}

// A full server (here: a role at its connection limit) is waited for, as
// after a lost connection, until a connection frees up.
TEST(PostgresStoreTest, AFullServerIsWaitedForUntilAConnectionFreesUp) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("full");
  open_postgres_store(url)->put_study({"s", "", {}, {}});
  sql(url, "CREATE ROLE plain LOGIN CONNECTION LIMIT 1;"
           "GRANT ALL ON ALL TABLES IN SCHEMA public TO plain;"
           "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO plain");
  const std::string as_plain = "postgresql://plain@127.0.0.1:" + std::to_string(server->port()) +
                               "/" + database_of(url);
  auto held = std::make_unique<pqxx::connection>(as_plain);  // the role's one connection
  std::promise<void> refused;
  PostgresOptions o;
  o.log = [&refused, first = true](const std::string& line) mutable {
    if (first && line.find("too many connections") != std::string::npos) refused.set_value();
    first = false;
  };
  o.retry_for_s = 60;  // a regression ends in a minute, not at CTest's limit
  auto opening = std::async(std::launch::async, [&] { return open_postgres_store(as_plain, o); });
  // The store was turned away once...
  const bool turned_away =
      refused.get_future().wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  held.reset();  // ...and gets in once the connection is free
  ASSERT_TRUE(turned_away) << "the store never said the server was full";
  ASSERT_EQ(opening.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "the store did not get in within 60 s of the connection freeing up";
  EXPECT_EQ(opening.get()->study()->name, "s");
}

// The session's server-side settings: a client cut off inside a transaction
// (its row locks held) is ended by the server after 15 s idle, so a trial it
// held can be taken over; the URL's own options win.
TEST(PostgresStoreTest, SessionsEndIdleTransactionsAndProbeTheClient) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("session");
  const auto show = [](const std::string& connect_to, const std::string& setting) {
    auto conn = pg::connect(connect_to);
    pqxx::nontransaction tx(*conn);
    return tx.exec("SHOW " + setting)[0][0].as<std::string>();
  };
  EXPECT_EQ(show(url, "idle_in_transaction_session_timeout"), "15s");
  EXPECT_EQ(show(url, "tcp_keepalives_idle"), "10");
  EXPECT_EQ(show(url, "tcp_user_timeout"), "30000");  // milliseconds
  EXPECT_EQ(show(url + "?options=-c%20tcp_keepalives_idle%3D20", "tcp_keepalives_idle"), "20");
  const std::string words = "host=127.0.0.1 port=" + std::to_string(server->port()) +
                            " user=lrtune dbname=" + database_of(url);
  EXPECT_EQ(show(words, "idle_in_transaction_session_timeout"), "15s");
}

}  // namespace
}  // namespace lrtune
