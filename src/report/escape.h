// Text made safe for each format a report writes: labels and configuration
// strings come from users' study files and must show as text everywhere.
#pragma once
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace lrtune::report {

// Valid UTF-8 (RFC 3629) with no control characters (invalid bytes, overlong
// forms and surrogates -> '?' per byte, C0/C1 controls and DEL -> space):
// what every writer below starts from.
std::string clean_text(const std::string& s);

std::string html_escape(const std::string& s);      // & < > " '
std::string markdown_cell(const std::string& s);    // one table cell: | * _ ` [ ] \ and HTML
std::string csv_field(const std::string& s);        // RFC 4180 quoting when needed
std::string gnuplot_string(const std::string& s);   // a single-quoted gnuplot literal

// An SVG file as gnuplot writes it, made well-formed XML: gnuplot escapes '<'
// and '&' in text but not '>', so a label holding "]]>" (which XML forbids in
// text) would break the file; each one outside a CDATA section becomes "]]&gt;".
std::string escape_svg_cdata_ends(const std::string& svg);

// JSON to embed inside <script type="application/json">: '<', '>' and '&'
// are written as \u escapes, so no string can close the element.
std::string json_for_script(const nlohmann::json& j);

// A folder name made of [a-z0-9_-], never empty.
std::string slug(const std::string& s);

}  // namespace lrtune::report
