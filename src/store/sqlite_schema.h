// The SQLite results database's schema: creation, the version check and the
// migration of databases written by older lrtune releases.
#pragma once
#include <string>
#include <vector>

#include "store/sqlite_db.h"

namespace lrtune::sqlite {

// Inside one BEGIN IMMEDIATE transaction (so concurrent workers migrate once):
// creates schema 2 in an empty file, migrates schema 1 (lrtune 0.1: one
// study, full-configuration trial ids) to it, renaming trial folders under
// <database folder>/trials/ to the new ids, and refuses any other file with
// a one-line StoreError.
void open_schema(Db& db);

// The JSON list of trial ids kept in a column; StoreError naming the file and
// `what` when it is not JSON or not a list of strings (a damaged file).
std::vector<std::string> parse_string_list(const std::string& text, const std::string& what,
                                           const Db& db);

// A unix-seconds expression for SQL: SQLite's own clock.
constexpr const char* kSqlNow = "((julianday('now') - 2440587.5) * 86400.0)";

}  // namespace lrtune::sqlite
