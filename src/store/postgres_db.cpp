// Connecting to PostgreSQL, schema 2 of the results database, and exact
// conversions of doubles and text arrays for SQL.
#include "store/postgres_db.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "store/store.h"
#include "core/url.h"

namespace lrtune::pg {
namespace {

// The same schema as SQLite's (sqlite_schema.cpp), in PostgreSQL's types; epoch
// metrics are double precision, which keeps NaN and the infinities.
// Checkpoints live in the database, so hosts need no shared filesystem.
const char* const kSchema2 = R"sql(
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE studies (
  study_id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE, description text NOT NULL DEFAULT '',
  spec text NOT NULL DEFAULT '{}', trial_ids text NOT NULL DEFAULT '[]',
  declared boolean NOT NULL DEFAULT false,
  created_at double precision NOT NULL, updated_at double precision NOT NULL);
CREATE TABLE trials (
  seq bigserial PRIMARY KEY,
  study_id bigint NOT NULL REFERENCES studies(study_id),
  id text NOT NULL, label text NOT NULL, config text NOT NULL,
  repeat_index bigint NOT NULL, epochs_total bigint NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  host text NOT NULL DEFAULT '', pid bigint NOT NULL DEFAULT 0,
  started_at double precision NOT NULL DEFAULT 0, ended_at double precision NOT NULL DEFAULT 0,
  heartbeat_at double precision NOT NULL DEFAULT 0, error text NOT NULL DEFAULT '',
  attempts bigint NOT NULL DEFAULT 0, info text NOT NULL DEFAULT '{}',
  lease bigint NOT NULL DEFAULT 0,
  created_at double precision NOT NULL,
  UNIQUE (study_id, id));
-- Claims look among the trials still open only: a study's finished trials
-- are never passed over one by one.
CREATE INDEX trials_open ON trials (study_id) WHERE status IN ('pending', 'running');
CREATE TABLE epochs (
  trial_seq bigint NOT NULL REFERENCES trials(seq), epoch bigint NOT NULL,
  lr double precision, train_loss double precision, train_acc double precision,
  val_loss double precision, val_acc double precision, test_loss double precision,
  test_acc double precision, seconds double precision, images_per_s double precision,
  PRIMARY KEY (trial_seq, epoch));
CREATE TABLE checkpoints (
  trial_seq bigint PRIMARY KEY REFERENCES trials(seq),
  data bytea NOT NULL, saved_at double precision NOT NULL);
)sql";

// Schema 3 adds the files that trials train from, by content hash.
const char* const kFilesTable = "CREATE TABLE files (hash text PRIMARY KEY, data bytea NOT NULL);";

// Serializes schema checks and creation of lrtune processes opening one database.
constexpr long long kSchemaLockKey = 0x6c7274756e65;  // "lrtune"

// "host:port" of a postgresql:// URL, for messages ("" when it has none).
std::string host_port(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  std::string rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?"));
  const auto at = rest.rfind('@');
  return at == std::string::npos ? rest : rest.substr(at + 1);
}

void refuse_version(const std::string& name, const std::string& version) {
  bool newer = false;
  try {
    newer = std::stoll(version) > kStoreSchemaVersion;
  } catch (const std::exception&) {
  }
  throw StoreError(name + ": results database has schema version " + version +
                   (newer ? ", written by a newer lrtune; this one reads versions 2 to "
                          : "; this lrtune reads versions 2 to ") +
                   std::to_string(kStoreSchemaVersion) +
                   (newer ? ": upgrade lrtune to open it" : ": it is not one lrtune wrote"));
}

}  // namespace

std::string display_url(const std::string& url) { return redact_passwords(url); }

std::string with_timeouts(const std::string& url) {
  static const std::pair<const char*, const char*> kSettings[] = {
      {"connect_timeout", "10"},  {"keepalives", "1"},         {"keepalives_idle", "10"},
      {"keepalives_interval", "5"}, {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"}};
  // The server's side of the session: a client cut off in the middle of a
  // transaction must not keep its row locks (a trial could never be taken
  // over), so an idle transaction ends after 15 s and the server probes
  // the connection as the client does.
  static const char* const kServerSettings[] = {
      "idle_in_transaction_session_timeout=15s", "tcp_keepalives_idle=10",
      "tcp_keepalives_interval=5", "tcp_keepalives_count=3", "tcp_user_timeout=30000"};
  const bool uri = is_postgres_url(url);
  std::string out = libpq_url(url);
  const auto add = [&](const std::string& key, const std::string& value) {
    if (url.find(key + "=") != std::string::npos) return;  // the URL's own setting wins
    if (uri) out += (out.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
    else out += " " + key + "='" + value + "'";
  };
  for (const auto& [key, value] : kSettings) add(key, value);
  std::string options;
  for (const char* setting : kServerSettings) {
    std::string one = std::string(options.empty() ? "" : " ") + "-c " + setting;
    if (uri)  // percent-encoded in a URI's query
      for (const auto& [from, to] : {std::pair<std::string, std::string>{" ", "%20"}, {"=", "%3D"}})
        for (auto at = one.find(from); at != std::string::npos; at = one.find(from, at + to.size()))
          one.replace(at, from.size(), to);
    options += one;
  }
  add("options", options);
  return out;
}

bool server_busy(const std::string& message) {
  for (const char* what : {"too many clients", "too many connections", "remaining connection slots",
                           "is starting up", "is shutting down", "in recovery mode"})
    if (message.find(what) != std::string::npos) return true;
  return false;
}

bool connection_gone(const pqxx::sql_error& e) {
  const std::string& state = e.sqlstate();
  return state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0;
}

bool refused_for_good(const std::string& message) {
  for (const char* what : {"does not exist", "password authentication failed",
                           "no pg_hba.conf entry", "not permitted to log in",
                           "permission denied for database"})
    if (message.find(what) != std::string::npos) return true;
  return false;
}

std::unique_ptr<pqxx::connection> connect(const std::string& url) {
  try {
    return std::make_unique<pqxx::connection>(with_timeouts(url));
  } catch (const pqxx::broken_connection& e) {
    const std::string where = host_port(url);
    // One redaction of the whole line: libpq's own words may quote the URL too.
    const std::string message =
        redact_passwords(url + ": cannot connect to PostgreSQL" +
                         (where.empty() ? "" : " at " + where) + " (" + one_line(e.what()) + ")");
    if (server_busy(e.what())) throw ConnectionLost(message);
    if (refused_for_good(e.what())) throw ConnectionRefused(message);
    throw StoreError(message);
  } catch (const std::exception& e) {
    throw StoreError(redact_passwords(url + ": cannot connect to PostgreSQL (" +
                                      one_line(e.what()) + ")"));
  }
}

void open_schema(pqxx::connection& conn, const std::string& name, bool create) {
  pqxx::work tx(conn);
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", kSchemaLockKey);
  const pqxx::result tables = tx.exec(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()");
  bool has_meta = false;
  for (const auto& row : tables) has_meta = has_meta || row[0].as<std::string>() == "meta";
  if (tables.empty() && !create)
    throw StoreError(name + ": this PostgreSQL database holds no lrtune study yet; "
                     "`lrtune study run FILE --store URL` (or `lrtune study create`) registers one");
  if (tables.empty()) {
    tx.exec(kSchema2);
    tx.exec(kFilesTable);
    tx.exec_params("INSERT INTO meta (key, value) VALUES ('schema_version', $1)",
                   std::to_string(kStoreSchemaVersion));
    tx.commit();
    return;
  }
  if (!has_meta)
    throw StoreError(name + ": this PostgreSQL database is not an lrtune results database "
                     "(it has tables but no meta table); name another database");
  const pqxx::result v = tx.exec("SELECT value FROM meta WHERE key = 'schema_version'");
  const std::string version = v.empty() ? "(none)" : v[0][0].as<std::string>();
  if (version == "2") {  // under the schema lock: one process migrates
    tx.exec(kFilesTable);
    tx.exec("UPDATE meta SET value = '3' WHERE key = 'schema_version'");
  } else if (version != std::to_string(kStoreSchemaVersion)) {
    refuse_version(name, version);
  }
  tx.commit();
}

std::string real(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double read_real(const pqxx::field& f) {
  if (f.is_null()) return std::nan("");
  return std::strtod(f.c_str(), nullptr);  // reads "NaN", "Infinity", "-Infinity" too
}

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = c == '\n' || c == '\t' || c == '\r' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace lrtune::pg
