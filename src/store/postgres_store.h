// The Store on a PostgreSQL server, for workers on many hosts: claims take
// rows with SELECT ... FOR UPDATE SKIP LOCKED, times are the server's clock,
// and checkpoints travel through the database (hosts share no filesystem).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "store/store.h"

namespace lrtune {

struct PostgresOptions {
  // The study this object acts for: "" = the only study in the database (or,
  // in a new database, the one the first put_study creates).
  std::string study;
  // The clock leases are judged by; empty = the server's
  // (extract(epoch from clock_timestamp())). Tests inject a manual clock.
  std::function<double()> clock;
  // This host's folder for trial files (trial_dir); "" = <temp dir>/lrtune-pg/<database>/<study>.
  std::string local_dir;
};

// Connects to `url` (postgresql://user@host:port/database, or any libpq
// connection string), creates the schema in an empty database and refuses,
// in one line, one that holds other tables or a newer lrtune's schema, or a
// server that cannot be reached (naming host and port).
std::unique_ptr<Store> open_postgres_store(const std::string& url, PostgresOptions options = {});

}  // namespace lrtune
