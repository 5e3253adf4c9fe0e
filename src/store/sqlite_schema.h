// The SQLite results database's schema: creation, the version check and the
// migration of databases written by older lrtune releases.
#pragma once
#include <string>

#include "store/sqlite_db.h"

namespace lrtune::sqlite {

// Inside one BEGIN IMMEDIATE transaction (so concurrent workers migrate once):
// creates schema 2 in an empty file, migrates schema 1 (lrtune 0.1: one
// study, full-configuration trial ids) to it, renaming trial folders under
// <database folder>/trials/ to the new ids, and refuses any other file with
// a one-line StoreError.
void open_schema(Db& db);

// A unix-seconds expression for SQL: SQLite's own clock.
constexpr const char* kSqlNow = "((julianday('now') - 2440587.5) * 86400.0)";

}  // namespace lrtune::sqlite
