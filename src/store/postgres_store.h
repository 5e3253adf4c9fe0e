// The Store on a PostgreSQL server, for workers on many hosts: claims take
// rows with SELECT ... FOR UPDATE SKIP LOCKED, times are the server's clock,
// and checkpoints travel through the database (hosts share no filesystem).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"
#include "core/url.h"

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
  // Refuse, in one line and writing nothing, a database without the named
  // study (or, with no name, without any): for commands that read a study or
  // join it, never for the one that registers it.
  bool must_exist = false;
  // After a lost connection (a restarted server, a dropped or cut link, a full
  // server), the store reconnects with backoff (0.1 s doubling to 5 s) and runs
  // the operation again, for up to this many seconds; then StoreError.
  double retry_for_s = 300;
  // Told of a lost connection and of the reconnection ("" = standard error).
  std::function<void(const std::string&)> log;
  // Asked between the waits of a reconnection (every 50 ms): true ends the
  // wait at once with StoreUnavailableError, so Ctrl-C or SIGTERM stops a
  // process whose store is out of reach. Empty = core's interrupted().
  std::function<bool()> stop;
};

// Connects to `url` (postgresql://user@host:port/database, or any libpq
// connection string), creates the schema in an empty database and refuses,
// in one line, one that holds other tables or a newer lrtune's schema, or a
// server that cannot be reached (naming host and port). A database or role
// that no longer exists, or a password refused, ends a reconnection at once
// (StoreUnavailableError): it is not a network cut to wait out.
std::unique_ptr<Store> open_postgres_store(const std::string& url, PostgresOptions options = {});

// The URL as messages show it: without a password.
std::string postgres_display_url(const std::string& url);

// The names of the studies in the lrtune database at `url`, by creation.
std::vector<std::string> postgres_studies(const std::string& url);

}  // namespace lrtune
