// Helpers of the PostgreSQL store over libpqxx: connecting, the schema and its
// version check, and the conversions libpqxx 6.4 does not make exactly as the
// store needs (non-finite doubles, text arrays). Every failure becomes a
// one-line StoreError naming the database (its URL without a password).
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "core/errors.h"

namespace lrtune::pg {

// The URL as messages show it: every password left out (redact_passwords).
std::string display_url(const std::string& url);

// The connection to the server was lost, or a transaction's outcome is
// unknown (the server restarted, the network dropped it, the server is full):
// the store reconnects and runs the operation again.
class ConnectionLost : public StoreError {
 public:
  using StoreError::StoreError;
};

// The server refused a connection for good: the database or the role does
// not exist (dropped meanwhile), or the password or pg_hba.conf refuses it.
// Not a network cut: a reconnection ends at once instead of waiting.
class ConnectionRefused : public StoreUnavailableError {
 public:
  using StoreUnavailableError::StoreUnavailableError;
};

// Whether a refused connection's message is one of those (ConnectionRefused).
bool refused_for_good(const std::string& message);

// The connection string lrtune uses for `url`: the URL with TCP keepalives, a
// connect timeout and a TCP user timeout added (unless the URL sets them), so
// that a cut network link is noticed in about half a minute instead of
// hanging; and, as the session's `options` (unless the URL sets them), the
// same on the server's side plus idle_in_transaction_session_timeout = 15 s,
// so that a client cut off inside a transaction does not keep its locks.
std::string with_timeouts(const std::string& url);

// Whether a refused connection is the server's passing state: full
// (max_connections), starting up, shutting down, recovering. Worth retrying.
bool server_busy(const std::string& message);

// Opens the connection; StoreError "<url>: cannot connect to PostgreSQL at
// host:port (<reason>)" when the server cannot be reached, ConnectionLost
// (a StoreError) when it is busy (server_busy), ConnectionRefused when it
// refuses for good (refused_for_good). Messages never hold a password.
std::unique_ptr<pqxx::connection> connect(const std::string& url);

// In one transaction, serialized with other lrtune processes by an advisory
// lock: creates the schema in an empty database, and refuses (StoreError, one
// line) a database holding other tables or a newer lrtune's schema. With
// `create` false an empty database is refused too, and nothing is written.
void open_schema(pqxx::connection& conn, const std::string& name, bool create = true);

// A double as a SQL literal PostgreSQL reads back to the same bits: NaN and
// the infinities by name, every finite value with 17 significant digits.
std::string real(double v);
// A double precision column: NULL reads as NaN.
double read_real(const pqxx::field& f);
// A text[] literal of `items`, for "= ANY($n::text[])".
std::string text_array(const std::vector<std::string>& items);
// A message of libpq (which spans lines) on one line.
std::string one_line(const std::string& text);

// Whether an SQL error means the connection is gone: SQLSTATE class 08
// (connection exception) or 57P (the server shutting down or starting).
bool connection_gone(const pqxx::sql_error& e);

// Runs `f`, turning libpqxx's exceptions into StoreError naming `name`, and
// those of a lost connection or an unknown outcome into ConnectionLost.
template <typename F>
auto guarded(const std::string& name, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const pqxx::broken_connection& e) {
    // libpqxx says "Could not obtain client encoding: not connected." of a
    // connection the server or the network closed meanwhile.
    const std::string why = std::string(e.what()).find("not connected") != std::string::npos
                                ? "the server or the network closed it"
                                : one_line(e.what());
    throw ConnectionLost(name + ": lost the connection to PostgreSQL (" + why + ")");
  } catch (const pqxx::in_doubt_error& e) {
    throw ConnectionLost(name + ": lost the connection to PostgreSQL during a commit (" +
                         one_line(e.what()) + ")");
  } catch (const pqxx::statement_completion_unknown& e) {
    throw ConnectionLost(name + ": lost the connection to PostgreSQL during a statement (" +
                         one_line(e.what()) + ")");
  } catch (const pqxx::sql_error& e) {
    if (connection_gone(e))
      throw ConnectionLost(name + ": the PostgreSQL server ended the connection (" +
                           one_line(e.what()) + ")");
    throw StoreError(name + ": PostgreSQL refused a statement (" + one_line(e.what()) + ")");
  } catch (const pqxx::failure& e) {
    throw StoreError(name + ": " + one_line(e.what()));
  } catch (const pqxx::usage_error& e) {
    throw StoreError(name + ": " + one_line(e.what()));
  } catch (const pqxx::conversion_error& e) {
    throw StoreError(name + ": corrupt value (" + one_line(e.what()) + ")");
  }
}

}  // namespace lrtune::pg
