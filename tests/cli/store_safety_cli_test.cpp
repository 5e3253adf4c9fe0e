// What the `lrtune` binary says and does with store URLs, on a throw-away
// PostgreSQL server: passwords are never printed, in any form libpq reads
// them; URLs that are not PostgreSQL's are refused instead of becoming
// folders; a worker whose store is gone ends at once, and one waiting for its
// store stops on a signal or with its coordinator; exports read --store.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "core/process.h"
#include "support/postgres_server.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// `lrtune ARGS` started in the background (its own pid, output to a file),
// killed at the end of the test if still running.
class Spawned {
 public:
  Spawned(const std::string& args, const fs::path& log) : log_(log) {
    const std::string command = "exec '" + test::lrtune_binary() + "' " + args + " > '" +
                                log.string() + "' 2>&1";
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Spawned() {
    if (!status_ && pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  std::string output() const { return test::read_file(log_); }
  // Waits up to `limit_s` for the process to end; its wait status, or nothing.
  std::optional<int> wait_for_exit(double limit_s) {
    test::wait_until([&] { return (status_ = poll_child(pid_)).has_value(); }, limit_s);
    return status_;
  }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

class StoreSafetyCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  fs::path data = tmp.path() / "data";

  void SetUp() override { test::write_tiny_cifar(data, /*per_file=*/100, /*n_test=*/100); }

  // A one-trial study file of `epochs` epochs.
  std::string study_file(int epochs) {
    const fs::path file = tmp.path() / ("s" + std::to_string(epochs) + ".toml");
    std::ofstream(file) << "name = \"tiny\"\n[base]\nepochs = " << epochs
                        << "\nbatch_size = 50\nval_size = 100\neval_batch_size = 100\n"
                           "device = \"cpu\"\nmomentum = 0.9\nseed = 3\n";
    return "'" + file.string() + "'";
  }
  int lrtune(const std::string& args, std::string* output) {
    return test::run_command("cd '" + tmp.str() + "' && '" + test::lrtune_binary() + "' " + args +
                                 " 2>&1",
                             output);
  }
  std::string worker_args(const std::string& url) {
    return "study worker --study tiny --threads 1 --store '" + url + "' --data '" + data.string() +
           "' --dir '" + (tmp.path() / "host").string() + "'";
  }
  // Epochs stored for the study in `url`'s database (0 when it cannot say).
  static long long stored_epochs(const std::string& url) {
    try {
      pqxx::connection conn(url);
      pqxx::nontransaction tx(conn);
      return tx.exec("SELECT COUNT(*) FROM epochs")[0][0].as<long long>();
    } catch (const std::exception&) {
      return 0;
    }
  }
};

constexpr const char* kSecret = "SECRETPW";

TEST_F(StoreSafetyCli, NoCommandPrintsAPasswordInAnyFormLibpqAccepts) {
  LRTUNE_REQUIRE_POSTGRES(server);
  server->require_password("alice", kSecret);
  const std::string host = "127.0.0.1:" + std::to_string(server->port());
  std::string output;
  const auto no_secret = [&](const std::string& command, int expected_status) {
    EXPECT_EQ(lrtune(command, &output), expected_status) << command << "\n" << output;
    EXPECT_THAT(output, Not(HasSubstr(kSecret))) << command;
    EXPECT_THAT(output, Not(HasSubstr("ECRETP"))) << command;  // nor a part of it
  };
  int n = 0;
  for (const std::string& form : {std::string("postgresql://alice:") + kSecret + "@" + host + "/",
                                  "postgresql://alice@" + host + "/?password=" + kSecret + "&db=",
                                  "POSTGRES://alice@" + host + "/?sslmode=disable&password=" +
                                      kSecret + "&db="}) {
    // Each form names its own new database (in the path, where "&db=" marks it).
    const std::string created = server->create_database("pw" + std::to_string(++n));
    const std::string db = created.substr(created.rfind('/') + 1);
    std::string url = form;
    if (url.find("&db=") != std::string::npos) {
      url = url.substr(0, url.find("&db="));
      url.insert(url.find("/?") + 1, db);
    } else {
      url += db;
    }
    SCOPED_TRACE(url);
    const std::string u = "'" + url + "'";
    no_secret("study create " + study_file(1) + " --store " + u, 0);
    EXPECT_THAT(output, AllOf(HasSubstr("registered in "), HasSubstr("alice@" + host)));
    no_secret("study status tiny " + u, 2);  // the URL where no argument is expected
    no_secret("export optuna tiny " + u + " --storage j.log", 2);
    no_secret("study status tiny --store " + u + " " + u, 2);
    no_secret(u, 2);  // taken for a command
    no_secret("store copy " + u + " 'postgresq://alice:" + kSecret + "@h/db'", 1);
    std::string wrong = url;  // a refused password, in the connection error
    wrong.insert(wrong.find(kSecret), "WRONG");
    no_secret("study status tiny --store '" + wrong + "'", 1);
    EXPECT_THAT(output, HasSubstr("password authentication failed"));
  }
  // A key=value connection string is not a URL lrtune takes; its refusal
  // does not show the password either, quoted or not.
  no_secret("study status tiny --store 'host=127.0.0.1 user=alice password=" + std::string(kSecret) +
                " dbname=x'", 2);
  no_secret("study status tiny --store \"host=127.0.0.1 password='a " + std::string(kSecret) +
                "' dbname=x\"", 2);
}

TEST_F(StoreSafetyCli, StoreCopyRefusesUrlsThatAreNotPostgresAndCreatesNoFolder) {
  std::string output;
  ASSERT_EQ(lrtune("study run " + study_file(1) + " --jobs 1 --threads-per-job 1 --data '" +
                       data.string() + "' --out run",
                   &output), 0) << output;
  for (const std::string& to : {"postgresq://u:pw@host/db", "mysql://x/y", "sqlite:///x.db"}) {
    EXPECT_EQ(lrtune("store copy run '" + to + "'", &output), 1) << to;
    EXPECT_THAT(output, AllOf(HasSubstr("store copy TO"), HasSubstr("URL"),
                              Not(HasSubstr("copied")), Not(HasSubstr(":pw@"))))
        << to;
    EXPECT_EQ(lrtune("store copy '" + to + "' back", &output), 1) << to;
  }
  for (const auto& entry : fs::directory_iterator(tmp.path()))
    EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr(":"))) << "a folder from a URL";
  EXPECT_FALSE(fs::exists(tmp.path() / "back"));
  // A dry run checks --store as a real run does.
  EXPECT_EQ(lrtune("study run " + study_file(1) + " --store mysql://x/y --dry-run", &output), 2);
  EXPECT_THAT(output, HasSubstr("expected a PostgreSQL URL"));

  LRTUNE_REQUIRE_POSTGRES(server);
  // The scheme in capitals is PostgreSQL's all the same (RFC 3986), and
  // exports and reports read the study from the database by name.
  std::string url = server->create_database("caps");
  url.replace(0, std::string("postgresql").size(), "POSTGRESQL");
  ASSERT_EQ(lrtune("store copy run '" + url + "'", &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("copied study 'tiny'"));
  ASSERT_EQ(lrtune("export optuna tiny --store '" + url + "' --storage journal.log", &output), 0)
      << output;
  EXPECT_THAT(output, HasSubstr("1 complete"));
  ASSERT_EQ(test::run_command("cd '" + tmp.str() + "' && LRTUNE_STORE='" + url + "' '" +
                                  test::lrtune_binary() + "' export tensorboard tiny --out tb 2>&1",
                              &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("1 TensorBoard run(s)"));
}

TEST_F(StoreSafetyCli, AWorkerWhoseDatabaseWasDroppedEndsAtOnceInsteadOfRetrying) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("dropped");
  const std::string db = url.substr(url.rfind('/') + 1);
  std::string output;
  ASSERT_EQ(lrtune("study create " + study_file(1000) + " --store '" + url + "'", &output), 0)
      << output;
  Spawned worker(worker_args(url), tmp.path() / "worker.log");  // --store-retry 300 s by default
  ASSERT_TRUE(test::wait_until([&] { return stored_epochs(url) > 0; }, 120)) << worker.output();
  {
    pqxx::connection conn(server->url("postgres"));
    pqxx::nontransaction tx(conn);
    tx.exec("DROP DATABASE " + tx.quote_name(db) + " WITH (FORCE)");
  }
  // A regression waits out the 300 s retry; the bound fails it long before.
  const auto status = worker.wait_for_exit(60);
  ASSERT_TRUE(status.has_value()) << "still running 60 s after its database was dropped:\n"
                                  << worker.output();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << describe_exit(*status);
  EXPECT_THAT(worker.output(), HasSubstr("does not exist"));
}

TEST_F(StoreSafetyCli, AWorkerWaitingForItsStoreStopsOnCtrlC) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("waiting");
  std::string output;
  ASSERT_EQ(lrtune("study create " + study_file(1000) + " --store '" + url + "'", &output), 0)
      << output;
  Spawned worker(worker_args(url), tmp.path() / "worker.log");
  ASSERT_TRUE(test::wait_until([&] { return stored_epochs(url) > 0; }, 120)) << worker.output();
  ASSERT_EQ(server->stop(), "");
  ASSERT_TRUE(test::wait_until(
      [&] { return worker.output().find("reconnecting for up to") != std::string::npos; }, 120))
      << worker.output();
  kill(worker.pid(), SIGINT);
  const auto status = worker.wait_for_exit(30);
  EXPECT_EQ(server->start_again(), "");
  ASSERT_TRUE(status.has_value()) << "Ctrl-C did not stop a worker waiting for its store:\n"
                                  << worker.output();
  EXPECT_THAT(worker.output(), HasSubstr("stopped while waiting for PostgreSQL"));
}

TEST_F(StoreSafetyCli, AWorkerDiesWithItsCoordinatorWhileWaitingForTheStore) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("orphan");
  Spawned run("study run " + study_file(1000) + " --jobs 1 --threads-per-job 1 --store '" + url +
                  "' --data '" + data.string() + "' --out '" + (tmp.path() / "out").string() + "'",
              tmp.path() / "run.log");
  ASSERT_TRUE(test::wait_until([&] { return stored_epochs(url) > 0; }, 120)) << run.output();
  pid_t worker = 0;
  {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    worker = tx.exec("SELECT pid FROM trials WHERE status = 'running'")[0][0].as<pid_t>();
  }
  ASSERT_TRUE(process_alive(worker));
  ASSERT_EQ(server->stop(), "");
  ASSERT_TRUE(test::wait_until(
      [&] { return run.output().find("reconnecting for up to") != std::string::npos; }, 120))
      << run.output();
  kill(run.pid(), SIGKILL);  // the coordinator dies without a word to its worker
  ASSERT_TRUE(run.wait_for_exit(30).has_value());
  const bool worker_ended = test::wait_until([&] { return !process_alive(worker); }, 30);
  if (!worker_ended) kill(worker, SIGKILL);
  EXPECT_EQ(server->start_again(), "");
  EXPECT_TRUE(worker_ended) << "the worker outlived its coordinator:\n" << run.output();
}

}  // namespace
}  // namespace lrtune
