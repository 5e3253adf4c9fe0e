// A throw-away PostgreSQL server for the tests of the PostgreSQL store: one per
// test process, started on first use (a fresh cluster in a temporary folder,
// copied from one initdb made for all test processes, listening on 127.0.0.1
// only, fsync off), stopped and removed at exit.
#pragma once
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

namespace lrtune::test {

// A TCP port on 127.0.0.1 that nothing listens on right now (0 if none).
int free_local_port();

class PostgresServer {
 public:
  // This process's server, started on the first call. nullptr when it cannot
  // be started; then `why` says what is missing (tests GTEST_SKIP with it).
  static PostgresServer* get(std::string& why);

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A new empty database (<prefix>_<n>); returns its postgresql:// URL.
  std::string create_database(const std::string& prefix = "conf");
  std::string url(const std::string& database) const;
  int port() const { return port_; }

  // Stops the server (fast: sessions are ended) and starts it again on the
  // same port and data; "" on success, else why not.
  std::string restart();
  // Stops the server (fast) and leaves it down until start_again(): a store
  // out of reach for as long as a test needs. "" on success, else why not.
  std::string stop();
  std::string start_again();
  // Ends every session of `database` but the caller's, as a dropped network
  // connection or an administrator would (pg_terminate_backend).
  void drop_connections(const std::string& database);
  // A role that must log in with `password` over TCP (scram-sha-256), where
  // everyone else is trusted.
  void require_password(const std::string& user, const std::string& password);

 private:
  PostgresServer() = default;
  // Empty on success, else what went wrong.
  std::string start();
  std::string run(const std::string& command, const std::string& log) const;
  std::string serve(const std::string& bin);
  std::filesystem::path template_dir(const std::string& bin) const;
  std::string pg_ctl(const std::string& action) const;  // the pg_ctl command line

  std::string dir_;       // temporary folder: data/, socket, logs
  std::string as_owner_;  // "runuser -u postgres -- " when running as root
  int port_ = 0;
  bool running_ = false;
  std::mutex mu_;
  int databases_ = 0;
};

}  // namespace lrtune::test

// Skips the test, saying why, when no PostgreSQL server can be started here.
#define LRTUNE_REQUIRE_POSTGRES(server)                        \
  std::string postgres_unavailable_;                           \
  ::lrtune::test::PostgresServer* server =                     \
      ::lrtune::test::PostgresServer::get(postgres_unavailable_); \
  if (!server) GTEST_SKIP() << postgres_unavailable_
