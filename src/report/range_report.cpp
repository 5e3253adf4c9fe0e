// lr-find folders in the report: summary file, curves from CSV, sections.
#include "report/range_report.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/files.h"
#include "report/escape.h"
#include "report/series.h"

namespace lrtune::report {
namespace fs = std::filesystem;
using json = nlohmann::json;
namespace {

constexpr const char* kFormat = "lrtune-lr-find";
constexpr int kVersion = 1;

json rate_json(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double rate_of(const json& v) { return v.is_number() ? v.get<double>() : NAN; }

std::string rate_text(double v) {
  if (!std::isfinite(v)) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

Cell rate_cell(double v) {
  return {rate_text(v), std::isfinite(v) ? rate_text(v) : "", true};
}

// Reads step,lr,loss,smoothed_loss rows into the curve; returns the rows read.
std::int64_t read_curve(const fs::path& csv, RangeCurve& c) {
  std::ifstream in(csv);
  if (!in) throw ConfigError(csv.string() + ": cannot read (the lr-find summary names it)");
  std::string line;
  std::getline(in, line);
  if (line.rfind("step,lr,loss,smoothed_loss", 0) != 0)
    throw ConfigError(csv.string() + ": not an lr-find CSV (expected the header "
                                     "step,lr,loss,smoothed_loss)");
  std::int64_t rows = 0;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    double v[4];
    std::stringstream fields(line);
    std::string f;
    int k = 0;
    for (; k < 4 && std::getline(fields, f, ','); ++k) {
      char* end = nullptr;
      v[k] = std::strtod(f.c_str(), &end);
      if (end == f.c_str()) break;
    }
    if (k != 4)
      throw ConfigError(csv.string() + ":" + std::to_string(number) + ": expected 4 numbers");
    c.lr.push_back(v[1]);
    c.smoothed.push_back(v[3]);
    ++rows;
  }
  return rows;
}

RangeTestRecord read_test(const fs::path& dir, const json& t) {
  RangeTestRecord r;
  r.curve.label = t.at("label").get<std::string>();
  r.csv = t.at("csv").get<std::string>();
  if (r.csv.empty() || fs::path(r.csv).has_parent_path())
    throw ConfigError((dir / kRangeSummaryFile).string() + ": csv '" + r.csv +
                      "' must be a file name in the same folder");
  r.stopped = t.at("stopped").get<bool>();
  r.curve.valley = rate_of(t.at("valley"));
  r.curve.steepest = rate_of(t.at("steepest"));
  r.curve.minimum_tenth = rate_of(t.at("min_tenth"));
  r.points = read_curve(dir / r.csv, r.curve);
  return r;
}

}  // namespace

void write_range_summary(const std::string& dir, const RangeFolder& f) {
  json tests = json::array();
  for (const auto& t : f.tests)
    tests.push_back({{"label", t.curve.label}, {"csv", t.csv}, {"points", t.points},
                     {"stopped", t.stopped}, {"valley", rate_json(t.curve.valley)},
                     {"steepest", rate_json(t.curve.steepest)},
                     {"min_tenth", rate_json(t.curve.minimum_tenth)}});
  json j = {{"format", kFormat},     {"version", kVersion},   {"settings", f.settings},
            {"ramp", f.ramp},        {"start_lr", f.start_lr}, {"end_lr", f.end_lr},
            {"steps", f.steps},      {"tests", tests}};
  write_text_atomically(fs::path(dir) / kRangeSummaryFile, j.dump(2) + "\n");
}

bool is_range_folder(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / kRangeSummaryFile, ec);
}

RangeFolder read_range_folder(const std::string& dir) {
  const fs::path file = fs::path(dir) / kRangeSummaryFile;
  std::ifstream in(file);
  if (!in) throw ConfigError(file.string() + ": cannot read");
  RangeFolder f;
  f.dir = dir;
  try {
    const json j = json::parse(in);
    if (j.at("format") != kFormat) throw ConfigError("not an lr-find summary");
    const int version = j.at("version").get<int>();
    if (version > kVersion)
      throw ConfigError("written by a newer lrtune (format version " + std::to_string(version) +
                        "); upgrade to read it");
    f.settings = j.at("settings").get<std::string>();
    f.ramp = j.at("ramp").get<std::string>();
    f.start_lr = j.at("start_lr").get<double>();
    f.end_lr = j.at("end_lr").get<double>();
    f.steps = j.at("steps").get<std::int64_t>();
    for (const auto& t : j.at("tests")) f.tests.push_back(read_test(dir, t));
  } catch (const json::exception& e) {
    throw ConfigError(file.string() + ": malformed lr-find summary: " + e.what());
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    if (what.rfind(dir, 0) == 0) throw;
    throw ConfigError(file.string() + ": " + what);
  }
  if (f.tests.empty()) throw ConfigError(file.string() + ": lists no range test");
  return f;
}

Table range_table(const RangeFolder& f) {
  Table t;
  t.header = {"test", "steps", "lr from", "lr to", "ended", "valley", "steepest", "min/10"};
  for (const auto& r : f.tests) {
    const auto& c = r.curve;
    const std::string label = c.label.empty() ? "lr-find" : c.label;
    t.rows.push_back({{clean_text(label), clean_text(label), false},
                      {std::to_string(r.points), std::to_string(r.points), true},
                      rate_cell(c.lr.empty() ? NAN : c.lr.front()),
                      rate_cell(c.lr.empty() ? NAN : c.lr.back()),
                      {r.stopped ? "diverged" : "all steps", r.stopped ? "diverged" : "all", false},
                      rate_cell(c.valley),
                      rate_cell(c.steepest),
                      rate_cell(c.minimum_tenth)});
  }
  return t;
}

std::string range_anchor(const RangeFolder& f) { return "range-" + f.slug; }

namespace {
std::string describe(const RangeFolder& f) {
  return std::to_string(f.steps) + " steps per test, lr " + rate_text(f.start_lr) + " to " +
         rate_text(f.end_lr) + " (" + (f.ramp == "linear" ? "linear" : "exponential") +
         " ramp)" + (f.settings.empty() ? "" : "; settings: " + f.settings);
}
constexpr const char* kRules =
    "Suggestions: valley (fastai's default), steepest descent of the smoothed loss against "
    "log lr, and the rate of the minimum loss divided by 10.";
}  // namespace

std::string range_markdown(const RangeFolder& f, bool figures) {
  std::ostringstream md;
  md << "## LR range test: " << markdown_cell(f.dir) << "\n\n"
     << markdown_cell(describe(f)) << ". " << kRules << "\n\n";
  if (figures)
    md << "![LR range test](" << f.slug << "/lr-find.png)\n*Smoothed training loss against "
       << "the learning rate, suggestions marked* ([SVG](" << f.slug << "/lr-find.svg))\n\n";
  md << markdown_table(range_table(f)) << "\n";
  return md.str();
}

std::string range_html(const RangeFolder& f) {
  std::ostringstream out;
  out << "<section class=\"study range\" id=\"" << range_anchor(f) << "\">\n<h2>LR range test: "
      << html_escape(f.dir) << "</h2>\n<p>" << html_escape(describe(f)) << ".</p>\n"
      << "<p class=\"hint\">" << kRules
      << " Hover the chart for values; drag across rates to zoom, double-click to zoom out.</p>\n"
      << "<div class=\"charts\" id=\"" << range_anchor(f) << "-charts\"></div>\n"
      << html_table(range_table(f)) << "</section>\n";
  return out.str();
}

json range_page_data(const RangeFolder& f) {
  json tests = json::array();
  for (std::size_t i = 0; i < f.tests.size(); ++i) {
    const auto& c = f.tests[i].curve;
    json lr = json::array(), smoothed = json::array();
    for (std::size_t k = 0; k < c.lr.size(); ++k) {
      // Points with no finite value on the log axes are left out.
      if (!(c.lr[k] > 0) || !std::isfinite(c.smoothed[k])) continue;
      lr.push_back(c.lr[k]);
      smoothed.push_back(c.smoothed[k]);
    }
    tests.push_back({{"label", c.label.empty() ? "smoothed loss" : c.label},
                     {"colour", palette_colour(i)},
                     {"lr", lr},
                     {"smoothed", smoothed},
                     {"marks",
                      {{"valley", rate_json(c.valley)},
                       {"steepest", rate_json(c.steepest)},
                       {"min/10", rate_json(c.minimum_tenth)}}}});
  }
  return {{"anchor", range_anchor(f)}, {"name", f.dir}, {"tests", tests}};
}

}  // namespace lrtune::report
