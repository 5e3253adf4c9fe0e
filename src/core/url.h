// Where a study's results live, as the user writes it: a study folder, or a
// PostgreSQL URL. One reading of URLs for every command (which schemes are
// PostgreSQL's, which text is a URL at all) and one redaction of passwords
// for everything lrtune prints.
#pragma once
#include <string>

namespace lrtune {

// Whether `text` starts with a URL scheme and "://" (RFC 3986: a letter, then
// letters, digits, '+', '-' or '.'), e.g. "mysql://x" or "postgresq://u@h/db".
bool looks_like_url(const std::string& text);

// Whether `where` is a PostgreSQL URL: postgresql:// or postgres://, the
// scheme in any case, as RFC 3986 reads schemes.
bool is_postgres_url(const std::string& where);

// The URL as libpq is given it: its scheme in lower case (libpq matches the
// scheme case-sensitively); anything else unchanged.
std::string libpq_url(const std::string& url);

// Throws StoreError when `where` looks like a URL (looks_like_url) but is not
// a PostgreSQL one: a typo such as "postgresq://..." or another database's
// URL must never become a folder name. `what` names the flag or argument.
void refuse_foreign_url(const std::string& where, const std::string& what);

// `text` with every password libpq could read from it removed: the password
// of a URL's user information ("postgresql://user:PW@host" -> "user@host"),
// and `password=...` settings, as URL query parameters (the keyword possibly
// percent-encoded) or in key=value connection strings (quoted or not). The
// rest of the text is kept, so a URL shown stays usable with ~/.pgpass or
// PGPASSWORD. Safe on any text: messages are passed through it whole.
std::string redact_passwords(const std::string& text);

}  // namespace lrtune
