// Escaping for HTML, Markdown, CSV, gnuplot scripts and embedded JSON.
#include "report/escape.h"

#include "core/files.h"

#include <cctype>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace lrtune::report {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0. Valid as RFC 3629
// has it: no overlong forms, no UTF-16 surrogates, nothing above U+10FFFF
// (browsers, xmllint and JSON parsers refuse or replace those).
std::size_t utf8_length(const std::string& s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : (c >> 4) == 0xE ? 3
                    : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  const unsigned char second = len > 1 ? byte(i + 1) : 0;
  if ((c == 0xE0 && second < 0xA0) || (c == 0xF0 && second < 0x90)) return 0;  // overlong
  if (c == 0xED && second > 0x9F) return 0;                                     // surrogates
  if (c == 0xF4 && second > 0x8F) return 0;                                     // above U+10FFFF
  return len;
}

// C0 controls, DEL and the C1 controls U+0080..U+009F (encoded C2 80..C2 9F).
bool is_control(const std::string& s, std::size_t i, std::size_t len) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (len == 1) return c < 0x20 || c == 0x7F;
  return len == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) <= 0x9F;
}

// `s` with each character for which `replacement` gives a text replaced by it.
template <class Replacement>
std::string substitute(const std::string& s, Replacement replacement) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (const char* r = replacement(c))
      out += r;
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string clean_text(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = utf8_length(s, i);
    if (len == 0) {
      out += '?';
      ++i;
      continue;
    }
    if (is_control(s, i, len))
      out += ' ';
    else
      out.append(s, i, len);
    i += len;
  }
  return out;
}

std::string html_escape(const std::string& s) {
  return substitute(clean_text(s), [](char c) -> const char* {
    switch (c) {
      case '&': return "&amp;";
      case '<': return "&lt;";
      case '>': return "&gt;";
      case '"': return "&quot;";
      case '\'': return "&#39;";
      default: return nullptr;
    }
  });
}

std::string markdown_cell(const std::string& s) {
  return substitute(clean_text(s), [](char c) -> const char* {
    switch (c) {
      case '&': return "&amp;";
      case '<': return "&lt;";
      case '>': return "&gt;";
      case '|': return "\\|";
      case '*': return "\\*";
      case '_': return "\\_";
      case '`': return "\\`";
      case '[': return "\\[";
      case ']': return "\\]";
      case '\\': return "\\\\";
      default: return nullptr;
    }
  });
}

std::string csv_field(const std::string& s) {
  std::string t = clean_text(s);
  if (t.find_first_of(",\"") == std::string::npos && (t.empty() || (t.front() != ' ' && t.back() != ' ')))
    return t;
  return "\"" + substitute(t, [](char c) { return c == '"' ? "\"\"" : nullptr; }) + "\"";
}

std::string gnuplot_string(const std::string& s) {
  // Single quotes: gnuplot interprets no backslash escapes there; '' is a quote.
  return "'" + substitute(clean_text(s), [](char c) { return c == '\'' ? "''" : nullptr; }) + "'";
}

std::string escape_svg_cdata_ends(const std::string& svg) {
  static const std::string kOpen = "<![CDATA[", kEnd = "]]>";
  std::string out;
  out.reserve(svg.size());
  std::size_t i = 0;
  while (i < svg.size()) {
    const std::size_t open = svg.find(kOpen, i), end = svg.find(kEnd, i);
    if (end == std::string::npos) break;
    if (open < end) {  // a CDATA section: copied as it is, up to and including its end
      const std::size_t close = svg.find(kEnd, open + kOpen.size());
      const std::size_t stop = close == std::string::npos ? svg.size() : close + kEnd.size();
      out.append(svg, i, stop - i);
      i = stop;
      continue;
    }
    out.append(svg, i, end - i).append("]]&gt;");
    i = end + kEnd.size();
  }
  if (i < svg.size()) out.append(svg, i, std::string::npos);
  return out;
}

std::string json_for_script(const nlohmann::json& j) {
  return substitute(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    [](char c) -> const char* {
                      switch (c) {
                        case '<': return "\\u003c";
                        case '>': return "\\u003e";
                        case '&': return "\\u0026";
                        default: return nullptr;
                      }
                    });
}

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u))
      out += static_cast<char>(std::tolower(u));
    else if ((c == '-' || c == '_' || c == '.' || c == ' ' || c == '/') && !out.empty() &&
             out.back() != '-')
      out += c == '_' ? '_' : '-';
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '_')) out.pop_back();
  return out.empty() ? "study" : bounded_file_name(out, 80);
}

}  // namespace lrtune::report
