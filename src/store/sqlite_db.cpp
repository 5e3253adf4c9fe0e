// RAII wrappers over sqlite3 and sqlite3_stmt.
#include "store/sqlite_db.h"

#include <cmath>
#include <limits>

#include <sqlite3.h>

#include "core/errors.h"

namespace lrtune::sqlite {

namespace {
// Long enough for a worker to wait out any other worker's short transaction:
// writers hold the lock for milliseconds, so a wait this long means trouble.
constexpr int kBusyTimeoutMs = 30'000;
}  // namespace

Db::Db(const std::string& path) : path_(path) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(path + ": cannot open the results database: " + msg);
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::fail(const std::string& what) const {
  std::string msg = path_ + ": " + what + ": " + sqlite3_errmsg(db_);
  const int code = sqlite3_errcode(db_) & 0xff;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    msg += " (another process held the database for more than " +
           std::to_string(kBusyTimeoutMs / 1000) + " s)";
  if (code == SQLITE_NOTADB) msg += " (this file is not an lrtune results database)";
  if (code == SQLITE_FULL) throw NoSpaceError(msg + " (No space left on device)");
  throw StoreError(msg);
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    fail("'" + sql.substr(0, 40) + "' failed");
  }
}

int Db::changes() const { return sqlite3_changes(db_); }

Stmt::Stmt(Db& db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
    db_.fail("cannot prepare '" + sql.substr(0, 60) + "'");
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int pos, const std::string& v) {
  if (sqlite3_bind_text(stmt_, pos, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    db_.fail("bind failed");
  return *this;
}

Stmt& Stmt::bind(int pos, double v) {
  const int rc = std::isnan(v) ? sqlite3_bind_null(stmt_, pos) : sqlite3_bind_double(stmt_, pos, v);
  if (rc != SQLITE_OK) db_.fail("bind failed");
  return *this;
}

Stmt& Stmt::bind(int pos, std::int64_t v) {
  if (sqlite3_bind_int64(stmt_, pos, v) != SQLITE_OK) db_.fail("bind failed");
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  db_.fail("query failed");
}

void Stmt::run() {
  while (step()) {
  }
}

Stmt& Stmt::bind_blob(int pos, const std::string& bytes) {
  if (sqlite3_bind_blob64(stmt_, pos, bytes.data(), bytes.size(), SQLITE_TRANSIENT) != SQLITE_OK)
    db_.fail("bind failed");
  return *this;
}

std::string Stmt::blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

std::string Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}

double Stmt::real(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL)
    return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, col);
}

std::int64_t Stmt::integer(int col) const { return sqlite3_column_int64(stmt_, col); }

Transaction::Transaction(Db& db, bool write) : db_(db) {
  db_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace lrtune::sqlite
