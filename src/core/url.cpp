// Store URLs: which are PostgreSQL's, which text is a URL, and the one
// redaction of passwords that every printed message goes through.
#include "core/url.h"

#include <cctype>

#include "core/errors.h"

namespace lrtune {
namespace {

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Length of the scheme and "://" at the start of `text`; 0 when there is none.
std::size_t scheme_length(const std::string& text) {
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text[0]))) return 0;
  std::size_t i = 1;
  while (i < text.size() && is_scheme_char(text[i])) ++i;
  return text.compare(i, 3, "://") == 0 ? i + 3 : 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "scheme://user:PW@host" -> "scheme://user@host" for every URL in `text`.
// As libpq reads a URI, the user information ends at the first '@' before
// any '/'; a line break ends it too (the text is a message, not one URL).
std::string without_userinfo_passwords(const std::string& text) {
  std::string out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t p = text.find("://", from);
    if (p == std::string::npos) break;
    const std::size_t start = p + 3;
    std::size_t at = start;
    while (at < text.size() && text[at] != '@' && text[at] != '/' && text[at] != '\n') ++at;
    const std::size_t colon = text.find(':', start);
    out += text.substr(from, start - from);
    from = start;
    if (at < text.size() && text[at] == '@' && colon < at) {
      out += text.substr(start, colon - start);  // the user name
      from = at;
    }
  }
  return out + text.substr(from);
}

// The end of a setting's value that starts at `v`: a URL query's value runs
// to '&' or a space; a key=value string's to a space, or is single-quoted,
// backslash escaping the next character in both forms (as libpq parses).
std::size_t value_end(const std::string& s, std::size_t v, bool query) {
  std::size_t i = v;
  if (!query && i < s.size() && s[i] == '\'') {
    for (++i; i < s.size() && s[i] != '\''; ++i)
      if (s[i] == '\\') ++i;
    return i < s.size() ? i + 1 : s.size();
  }
  while (i < s.size() && !is_space(s[i]) && !(query && s[i] == '&')) {
    if (!query && s[i] == '\\') ++i;
    ++i;
  }
  return i < s.size() ? i : s.size();
}

// A password setting starting at `i` (a key after a boundary): the end of
// its value, or npos when the key is not one of libpq's password keywords.
std::size_t password_setting_end(const std::string& s, std::size_t i, bool query) {
  std::size_t k = i;
  while (k < s.size() && !is_space(s[k]) && s[k] != '=' && s[k] != '&' && s[k] != '?') ++k;
  const std::string key = lower(percent_decoded(s.substr(i, k - i)));
  if (key != "password" && key != "sslpassword") return std::string::npos;
  std::size_t eq = k;
  if (!query)
    while (eq < s.size() && is_space(s[eq]) && s[eq] != '\n') ++eq;
  if (eq >= s.size() || s[eq] != '=') return std::string::npos;
  std::size_t v = eq + 1;
  if (!query)
    while (v < s.size() && (s[v] == ' ' || s[v] == '\t')) ++v;
  return value_end(s, v, query);
}

// Removes `password=...` and `sslpassword=...` settings, with the separator
// that joined them, so what is left still reads as a URL or key=value string.
std::string without_password_settings(std::string s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char before = i == 0 ? ' ' : s[i - 1];
    const bool query = before == '?' || before == '&';
    const bool boundary = query || is_space(before) || before == '\'' || before == '"' ||
                          before == '(' || before == ',' || before == ';';
    if (!boundary || is_space(s[i])) continue;
    const std::size_t end = password_setting_end(s, i, query);
    if (end == std::string::npos) continue;
    std::size_t from = i, to = end;
    if (before == '&') {
      from = i - 1;
    } else if (before == '?') {
      if (to < s.size() && s[to] == '&') ++to;
      else from = i - 1;
    } else {
      while (to < s.size() && (s[to] == ' ' || s[to] == '\t')) ++to;
    }
    s.erase(from, to - from);
    i = from == 0 ? static_cast<std::size_t>(-1) : from - 1;
  }
  return s;
}

}  // namespace

bool looks_like_url(const std::string& text) { return scheme_length(text) > 0; }

bool is_postgres_url(const std::string& where) {
  const std::size_t n = scheme_length(where);
  if (n == 0) return false;
  const std::string scheme = lower(where.substr(0, n));
  return scheme == "postgresql://" || scheme == "postgres://";
}

std::string libpq_url(const std::string& url) {
  if (!is_postgres_url(url)) return url;
  const std::size_t n = scheme_length(url);
  return lower(url.substr(0, n)) + url.substr(n);
}

void refuse_foreign_url(const std::string& where, const std::string& what) {
  if (!looks_like_url(where) || is_postgres_url(where)) return;
  const std::string scheme = where.substr(0, scheme_length(where) - 3);
  throw StoreError(what + ": '" + redact_passwords(where) + "' is a " + scheme +
                   ":// URL; lrtune keeps studies in a folder (SQLite) or in PostgreSQL "
                   "(postgresql://user@host:port/database)");
}

std::string redact_passwords(const std::string& text) {
  return without_password_settings(without_userinfo_passwords(text));
}

}  // namespace lrtune
