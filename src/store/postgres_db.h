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

// The URL as messages show it: a password (user:secret@) is left out.
std::string display_url(const std::string& url);

// Opens the connection; StoreError "<url>: cannot connect to PostgreSQL at
// host:port (<reason>)" when the server cannot be reached.
std::unique_ptr<pqxx::connection> connect(const std::string& url);

// In one transaction, serialized with other lrtune processes by an advisory
// lock: creates the schema in an empty database, and refuses (StoreError, one
// line) a database holding other tables or a newer lrtune's schema.
void open_schema(pqxx::connection& conn, const std::string& name);

// A double as a SQL literal PostgreSQL reads back to the same bits: NaN and
// the infinities by name, every finite value with 17 significant digits.
std::string real(double v);
// A double precision column: NULL reads as NaN.
double read_real(const pqxx::field& f);
// A text[] literal of `items`, for "= ANY($n::text[])".
std::string text_array(const std::vector<std::string>& items);
// A message of libpq (which spans lines) on one line.
std::string one_line(const std::string& text);

// Runs `f`, turning libpqxx's exceptions into StoreError naming `name`.
template <typename F>
auto guarded(const std::string& name, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const pqxx::broken_connection& e) {
    throw StoreError(name + ": lost the connection to PostgreSQL (" + one_line(e.what()) + ")");
  } catch (const pqxx::sql_error& e) {
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
