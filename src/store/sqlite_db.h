// A thin RAII layer over SQLite's C API: one connection, prepared statements,
// transactions. Every failure becomes a StoreError naming the database file.
#pragma once
#include <cstdint>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace lrtune::sqlite {

class Db;

// A prepared statement; bind() takes 1-based positions as SQLite does.
class Stmt {
 public:
  Stmt(Db& db, const std::string& sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int pos, const std::string& v);
  Stmt& bind(int pos, const char* v) { return bind(pos, std::string(v)); }
  Stmt& bind_blob(int pos, const std::string& bytes);
  Stmt& bind(int pos, double v);  // NaN is stored as NULL (SQLite has no NaN)
  Stmt& bind(int pos, std::int64_t v);
  Stmt& bind(int pos, int v) { return bind(pos, static_cast<std::int64_t>(v)); }

  bool step();  // true while a row is available
  void run();   // steps a statement that returns no rows

  std::string text(int col) const;
  std::string blob(int col) const;
  double real(int col) const;  // NULL reads back as NaN
  std::int64_t integer(int col) const;

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  explicit Db(const std::string& path);  // opens or creates
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql);
  int changes() const;  // rows changed by the last statement
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE: takes the write lock up front (waiting up to the busy
// timeout), so two writers never deadlock upgrading a read. Rolls back unless
// commit() was called. A read transaction (write = false) is a plain BEGIN: a
// consistent snapshot of the file (WAL) that blocks no writer.
class Transaction {
 public:
  explicit Transaction(Db& db, bool write = true);
  ~Transaction();
  void commit();

 private:
  Db& db_;
  bool open_ = true;
};

}  // namespace lrtune::sqlite
