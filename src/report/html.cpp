// Assembles index.html: inlined uPlot and page script, data as escaped JSON,
// tables rendered here so they read even without JavaScript.
#include "report/html.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/error.h"
#include "report/escape.h"
#include "report/figures.h"
#include "report/search_report.h"
#include "report/tables.h"

namespace lrtune::report {

namespace {

using json = nlohmann::json;

// Six significant digits keep the page small; the CSV has full precision.
json short_number(double v) {
  if (!std::isfinite(v)) return nullptr;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return std::strtod(buf, nullptr);
}

json number_array(const std::vector<double>& v) {
  json out = json::array();
  for (double x : v) out.push_back(short_number(x));
  return out;
}

json series_json(const Series& s) {
  json values = json::object(), markers = json::object(), pruned = json::object();
  for (Metric m : kMetrics) {
    json v = {{"mean", number_array(s.of(m).mean)}};
    if (s.n > 1) {
      v["lo"] = number_array(s.of(m).lo);
      v["hi"] = number_array(s.of(m).hi);
    }
    values[metric_key(m)] = v;
    markers[metric_key(m)] = short_number(s.marker_value(m));
    pruned[metric_key(m)] = short_number(s.pruned_marker_value(m));
  }
  return {{"label", s.label},       {"legend", s.legend()},
          {"colour", s.colour},     {"dash", s.dash},
          {"n", s.n},               {"epochs", s.epochs},
          {"diverged_epoch", s.diverged_epoch ? json(*s.diverged_epoch) : json(nullptr)},
          {"markers", markers},     {"values", values},
          {"pruned_epoch", s.pruned_epoch ? json(*s.pruned_epoch) : json(nullptr)},
          {"pruned_markers", pruned}};
}

std::string anchor(const StudyData& s) { return "study-" + s.slug; }

json page_data(const std::vector<const StudyData*>& studies, const std::vector<FigureSpec>& figs,
               const std::vector<const RangeFolder*>& ranges) {
  json figures = json::array();
  for (const auto& f : figs)
    figures.push_back({{"id", f.id}, {"title", f.title}, {"ylabel", f.y_label},
                       {"metric", metric_key(f.metric)}, {"scale", f.scale},
                       {"zoom", f.zoom_epochs}});
  json list = json::array();
  for (const StudyData* s : studies) {
    json log = json::object(), series = json::array();
    for (const auto& f : figs) log[f.id] = wants_log_scale(s->series, f);
    for (const auto& line : s->series) series.push_back(series_json(line));
    list.push_back({{"anchor", anchor(*s)}, {"name", s->name}, {"log", log}, {"series", series}});
    if (s->search) list.back()["search"] = search_page_data(*s->search);
  }
  json range_list = json::array();
  for (const RangeFolder* r : ranges) range_list.push_back(range_page_data(*r));
  return {{"figures", figures}, {"studies", list}, {"ranges", range_list}};
}

void study_section(std::ostream& out, const StudyData& s) {
  out << "<section class=\"study\" id=\"" << anchor(s) << "\">\n<h2>" << html_escape(s.name)
      << "</h2>\n";
  if (!s.description.empty()) out << "<p>" << html_escape(s.description) << "</p>\n";
  out << "<p class=\"meta\">from " << html_escape(s.source) << " · " << s.trials.size() << " trials";
  if (!s.data_sets.empty()) out << " · data: " << html_escape(s.data_sets);
  out << "</p>\n";
  if (!s.warning.empty()) out << "<p class=\"warning\">" << html_escape(s.warning) << "</p>\n";
  if (s.search) out << search_html(*s.search, anchor(s)) << "<h3>Curves per epoch</h3>\n";
  out
      << "<p class=\"hint\">"
      << html_escape(figure_caption(s.has_repeats(), s.has_divergence(), s.has_pruned()))
      << " Hover a chart for values; click a legend entry to hide or show a trial; drag across "
         "epochs to zoom, double-click to zoom out.</p>\n"
      << "<div class=\"charts\" id=\"" << anchor(s) << "-charts\"></div>\n"
      << "<h3>Trials</h3>\n"
      << html_table(trial_table(s.trials));
  if (s.has_repeats())
    out << "<h3>Repeats (mean ± std over seeds)</h3>\n" << html_table(group_table(s.groups));
  std::string failures;
  for (const auto& t : s.trials)
    if (!t.trial.error.empty())
      failures += "<li>" + html_escape(t.label()) + ": " + html_escape(t.trial.error) + "</li>\n";
  if (!failures.empty()) out << "<ul class=\"error-list\">\n" << failures << "</ul>\n";
  out << "</section>\n";
}

// Inlined script text must not end its own element early.
void check_inline_script(std::string_view text, const char* what) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("</script") != std::string::npos || lower.find("<!--") != std::string::npos)
    throw ReportError(std::string(what) + " holds '</script' or '<!--' and cannot be inlined");
}

}  // namespace

std::string html_page(const std::vector<const StudyData*>& studies,
                      const std::vector<FigureSpec>& figs, const std::string& generated,
                      const PageAssets& assets,
                      const std::vector<const RangeFolder*>& ranges) {
  if (assets.uplot_js.empty())
    throw ReportError(
        "index.html needs uPlot, which this lrtune was built without: node_modules/uplot was "
        "missing when it was built. Run `npm ci` in the source folder (scripts/setup.sh does), "
        "then rebuild");
  check_inline_script(assets.uplot_js, "uPlot");
  check_inline_script(assets.page_js, "page script");
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>lrtune report</title>\n"
      << "<style>\n" << assets.uplot_css << "\n</style>\n"
      << "<style>\n" << assets.page_css << "\n</style>\n</head>\n<body>\n"
      << "<h1>lrtune report</h1>\n<p class=\"meta\">" << html_escape(generated)
      << " · charts by uPlot " << html_escape(std::string(assets.uplot_version)) << "</p>\n<nav>";
  for (const StudyData* s : studies)
    out << "<a href=\"#" << anchor(*s) << "\">" << html_escape(s->name) << "</a>";
  for (const RangeFolder* r : ranges)
    out << "<a href=\"#" << range_anchor(*r) << "\">LR range test: " << html_escape(r->dir) << "</a>";
  out << "</nav>\n<p id=\"lrtune-status\" class=\"status\" data-charts=\"0\" data-errors=\"\">"
         "charts need JavaScript</p>\n";
  for (const StudyData* s : studies) study_section(out, *s);
  for (const RangeFolder* r : ranges) out << range_html(*r);
  out << "<script type=\"application/json\" id=\"lrtune-data\">" << json_for_script(page_data(studies, figs, ranges))
      << "</script>\n<script>\n" << assets.uplot_js << "\n</script>\n<script>\n" << assets.page_js
      << "\n</script>\n</body>\n</html>\n";
  return out.str();
}

}  // namespace lrtune::report
