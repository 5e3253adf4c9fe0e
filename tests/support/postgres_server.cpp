// The tests' throw-away PostgreSQL server (postgres_server.h). As root (how
// this project's tests often run) initdb refuses to run, so the server runs as
// the `postgres` system user, in a folder it owns.
#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <pqxx/pqxx>

namespace lrtune::test {
namespace {

namespace fs = std::filesystem;

// The server's programs: $LRTUNE_PG_BIN, else the newest version installed
// under /usr/lib/postgresql/N/bin (Debian's layout; scripts/setup.sh installs
// the postgresql package), else pg_config's bindir, as
// scripts/lib/throwaway_postgres.sh finds them. No version is written here.
std::string bin_dir() {
  const char* env = std::getenv("LRTUNE_PG_BIN");
  if (env && *env) return env;
  std::error_code ec;
  int newest = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (fs::exists(entry.path() / "bin" / "initdb", ec)) newest = std::max(newest, std::stoi(name));
  }
  if (newest >= 0) return "/usr/lib/postgresql/" + std::to_string(newest) + "/bin";
  std::string out;
  if (FILE* p = popen("pg_config --bindir 2>/dev/null", "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  for (char& c : text)
    if (c == '\n') c = ' ';
  return text.size() > 400 ? text.substr(text.size() - 400) : text;
}

}  // namespace

PostgresServer* PostgresServer::get(std::string& why) {
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;
  static std::string failure;
  std::lock_guard lock(mu);
  if (!server && failure.empty()) {
    std::unique_ptr<PostgresServer> s(new PostgresServer);
    failure = s->start();
    if (failure.empty()) server = std::move(s);
  }
  why = failure;
  return server.get();
}

// Empty on success, else "<command> failed: <the end of its log>".
std::string PostgresServer::run(const std::string& command, const std::string& log) const {
  const std::string line = as_owner_ + command + " > " + log + " 2>&1";
  if (std::system(line.c_str()) == 0) return "";
  return command.substr(0, command.find(' ')) + " failed: " + slurp(log);
}

std::string PostgresServer::start() {
  const std::string bin = bin_dir();
  for (const char* tool : {"initdb", "pg_ctl"})
    if (!fs::exists(fs::path(bin) / tool))
      return std::string("PostgreSQL server binaries missing: no ") + tool + " in " + bin +
             " (install the postgresql package: scripts/setup.sh)";
  std::string pattern = (fs::temp_directory_path() / "lrtune-pg-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) return "cannot create a temporary folder for PostgreSQL";
  dir_ = buf.data();
  if (geteuid() == 0) {  // initdb refuses root: the server runs as `postgres`
    const passwd* pw = getpwnam("postgres");
    if (!pw) return "tests run as root and there is no `postgres` user to run the server as";
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      return "cannot hand " + dir_ + " to the postgres user";
    as_owner_ = "runuser -u postgres -- ";
  }
  const fs::path shared = template_dir(bin);
  if (run("cp -a " + shared.string() + " " + dir_ + "/data", "/dev/null").empty() &&
      serve(bin).empty())
    return "";
  // No template yet (or a damaged one): initdb, then offer the result as the template.
  std::error_code ec;
  fs::remove_all(dir_ + "/data", ec);
  std::string failed = run(bin + "/initdb -D " + dir_ + "/data -A trust -U lrtune -E UTF8"
                           " --locale=C --no-sync --no-instructions --wal-segsize=1", dir_ + "/initdb.log");
  if (!failed.empty()) return failed;
  if (run("cp -a " + dir_ + "/data " + dir_ + "/template", "/dev/null").empty()) {
    fs::remove_all(shared, ec);  // a damaged one, or one another process just made
    fs::rename(dir_ + "/template", shared, ec);
  }
  return serve(bin);
}

// initdb takes most of a second; a copy of a cluster it made takes a tenth.
// The template is made by whichever test process first needs it, and renamed
// into place whole, so processes starting together never see half of one.
fs::path PostgresServer::template_dir(const std::string& bin) const {
  const std::string key = std::to_string(std::hash<std::string>{}(bin) % 1000000007);
  return fs::temp_directory_path() /
         ("lrtune-pg-template-" + std::to_string(geteuid()) + "-" + key);
}

// Starts the server on data/ in the folder: empty on success, else why not.
std::string PostgresServer::serve(const std::string& /*bin*/) {
  std::string failed;
  for (int attempt = 0; attempt < 3; ++attempt) {  // another process may take the port first
    port_ = free_local_port();
    failed = run(pg_ctl("start"), dir_ + "/pg_ctl.log");
    if (failed.empty()) {
      running_ = true;
      return "";
    }
  }
  return failed + " (server log: " + slurp(dir_ + "/server.log") + ")";
}

std::string PostgresServer::pg_ctl(const std::string& action) const {
  return bin_dir() + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -s -o \"" +
         "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_ +
         " -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" -m fast " + action;
}

std::string PostgresServer::restart() {
  std::lock_guard lock(mu_);
  return run(pg_ctl("restart"), dir_ + "/pg_ctl.log");
}

std::string PostgresServer::stop() {
  std::lock_guard lock(mu_);
  return run(pg_ctl("stop"), dir_ + "/pg_ctl.log");
}

std::string PostgresServer::start_again() {
  std::lock_guard lock(mu_);
  return run(pg_ctl("start"), dir_ + "/pg_ctl.log");
}

void PostgresServer::drop_connections(const std::string& database) {
  pqxx::connection conn(url("postgres"));
  pqxx::nontransaction tx(conn);
  tx.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                 " WHERE datname = $1 AND pid <> pg_backend_pid()", database);
}

void PostgresServer::require_password(const std::string& user, const std::string& password) {
  std::lock_guard lock(mu_);
  {
    pqxx::connection conn(url("postgres"));
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE ROLE " + tx.quote_name(user) + " LOGIN SUPERUSER PASSWORD " + tx.quote(password));
  }
  const std::string hba = dir_ + "/data/pg_hba.conf";
  std::ifstream in(hba);
  std::stringstream rest;
  rest << in.rdbuf();
  in.close();
  std::ofstream out(hba, std::ios::trunc);
  out << "host all " << user << " 127.0.0.1/32 scram-sha-256\n" << rest.str();
  out.close();
  pqxx::connection conn(url("postgres"));
  pqxx::nontransaction tx(conn);
  tx.exec("SELECT pg_reload_conf()");
}

PostgresServer::~PostgresServer() {
  if (running_)
    run(bin_dir() + "/pg_ctl -D " + dir_ + "/data -m immediate -s stop", "/dev/null");
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PostgresServer::url(const std::string& database) const {
  return "postgresql://lrtune@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::create_database(const std::string& prefix) {
  std::lock_guard lock(mu_);
  const std::string name = prefix + "_" + std::to_string(++databases_);
  pqxx::connection conn(url("postgres"));
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE DATABASE " + tx.quote_name(name));
  return url(name);
}

}  // namespace lrtune::test
