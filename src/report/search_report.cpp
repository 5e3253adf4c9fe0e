// A search study's views: its trials in draw order with their objectives,
// the ranked table, the pruning line, Markdown, HTML and the page's data.
// The figures and the parallel coordinates are drawn in search_figures.cpp.
#include "report/search_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <sstream>

#include "core/errors.h"
#include "report/escape.h"
#include "search/history.h"
#include "search/importance.h"

namespace lrtune::report {

namespace {

using json = nlohmann::json;

constexpr const char* kNone = "—";

std::string printed(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string full(double v) { return printed("%.9g", v); }

// Six significant digits keep the page small; the CSV has full precision.
json short_number(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return std::strtod(printed("%.6g", *v).c_str(), nullptr);
}

bool better(const search::SearchSpec& spec, double a, double b) {
  return spec.maximize() ? a > b : a < b;
}

SearchTrial search_trial(std::size_t i, const TrialRecord& record,
                         const std::vector<EpochMetrics>& epochs, const search::SearchSpec& spec) {
  SearchTrial t;
  t.number = i + 1;
  t.label = clean_text(record.spec.label);
  t.status = record.status;
  t.epochs_done = static_cast<std::int64_t>(epochs.size());
  t.epochs_total = record.spec.epochs_total;
  t.objective = search::trial_objective(epochs, spec);
  t.values = search::searched_values(spec, record.spec.config);
  return t;
}

// The stored [search] table, as `lrtune study run` wrote it.
search::SearchSpec stored_spec(const json& stored) {
  if (!stored.is_object() || !stored.contains("table"))
    throw ConfigError("no [search] table stored with the study");
  const json file = stored.value("file", json("study file"));
  return search::parse_search(stored.at("table"), file.is_string() ? file.get<std::string>()
                                                                   : "study file");
}

// "tpe sampler, asha pruner; 8 of 20 trials drawn; objective: best val acc (%).
// Best so far: 71.00 (#2 lr=0.01)."
std::string summary_line(const SearchSection& s) {
  std::string line = s.spec.sampler + " sampler, " + s.spec.pruner + " pruner; " +
                     std::to_string(s.trials.size()) + " of " + std::to_string(s.spec.trials) +
                     " trials drawn; objective: " + objective_title(s.spec) + ".";
  if (const SearchTrial* b = s.best())
    line += " Best so far: " + objective_text(s.spec, *b->objective) + " (" + b->label + ").";
  else
    line += " No trial has finished yet.";
  return line;
}

std::vector<std::size_t> ranked(const SearchSection& s) {
  std::vector<std::size_t> order(s.trials.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto &x = s.trials[a].objective, &y = s.trials[b].objective;
    if (x && y) return better(s.spec, *x, *y);
    return x.has_value() && !y.has_value();
  });
  return order;
}

Cell value_cell(const json& values, const std::string& key) {
  if (!values.contains(key)) return {kNone, "", false};
  const json& v = values.at(key);
  const std::string text = clean_text(value_text(v));
  return {text, v.is_number() ? full(v.get<double>()) : text, v.is_number()};
}

bool has_points(const SearchSection& s, const search::Param& p) {
  return std::any_of(s.trials.begin(), s.trials.end(), [&](const SearchTrial& t) {
    return point_kind(t) != 0 && plotted_x(p, t).has_value();
  });
}

std::string key_title(const search::Param& p) {
  return p.key + (p.when ? " (when " + p.when->text() + ")" : "");
}

constexpr const char* kReading =
    "Filled points: trials trained to their last epoch; open points: trials the pruner stopped "
    "(at their objective so far); the line steps down or up to each new best. Choices are "
    "spread a little sideways so equal values stay apart.";
constexpr const char* kParallelReading =
    "One line per finished trial through its value of each searched key and its objective; "
    "darker lines are better. A key whose condition did not hold sits at n/a. Hover a line to "
    "name its trial.";
constexpr const char* kTableReading =
    "Best objective first; trials without one yet last. A dash: the key was not searched for "
    "that trial (its condition did not hold).";

}  // namespace

const SearchTrial* SearchSection::best() const {
  const SearchTrial* best = nullptr;
  for (const auto& t : trials)
    if (t.complete() && t.objective && (!best || better(spec, *t.objective, *best->objective)))
      best = &t;
  return best;
}

std::optional<search::SearchSpec> stored_search_spec(const json& study_spec) {
  if (!study_spec.is_object() || !study_spec.contains("search")) return std::nullopt;
  return stored_spec(study_spec.at("search"));
}

std::optional<SearchSection> read_search(const json& study_spec,
                                         const std::vector<TrialRecord>& trials,
                                         const std::vector<std::vector<EpochMetrics>>& epochs) {
  if (!study_spec.is_object() || !study_spec.contains("search")) return std::nullopt;
  SearchSection s;
  try {
    s.spec = stored_spec(study_spec.at("search"));
  } catch (const Error& e) {
    s.problem = std::string("this lrtune cannot read the study's stored [search] table: ") + e.what();
    return s;
  }
  std::int64_t spent = 0;
  std::optional<double> best;
  for (std::size_t i = 0; i < trials.size() && i < epochs.size(); ++i) {
    SearchTrial t = search_trial(i, trials[i], epochs[i], s.spec);
    spent += t.epochs_done;
    t.epochs_spent = spent;
    if (t.complete() && t.objective && (!best || better(s.spec, *t.objective, *best)))
      best = t.objective;
    t.best_so_far = best;
    s.epochs_all_complete += t.epochs_total;
    if (t.status == RunStatus::pruned) {
      ++s.pruned;
      s.epochs_saved += std::max<std::int64_t>(0, t.epochs_total - t.epochs_done);
    }
    s.trials.push_back(std::move(t));
  }
  return s;
}

std::string objective_title(const search::SearchSpec& spec) {
  const std::string what = spec.maximize() ? "val acc" : "val loss";
  const std::string unit = spec.maximize() ? " (%)" : "";
  return spec.at_last ? what + " at the last epoch" + unit : "best " + what + unit;
}

std::string objective_text(const search::SearchSpec& spec, double v) {
  return spec.maximize() ? printed("%.2f", v * 100) : printed("%.4f", v);
}

double objective_scale(const search::SearchSpec& spec) { return spec.maximize() ? 100 : 1; }

std::optional<double> axis_value(const search::Param& p, const json& values) {
  if (!values.is_object() || !values.contains(p.key)) return std::nullopt;
  const json& v = values.at(p.key);
  if (p.dist == search::Dist::choice) {
    for (std::size_t i = 0; i < p.choices.size(); ++i)
      if (p.choices[i] == v) return static_cast<double>(i);
    return std::nullopt;
  }
  if (!v.is_number() || !std::isfinite(v.get<double>())) return std::nullopt;
  if (p.log() && !(v.get<double>() > 0)) return std::nullopt;
  return v.get<double>();
}

int point_kind(const SearchTrial& t) {
  if (!t.objective || !std::isfinite(*t.objective)) return 0;
  if (t.complete()) return 1;
  return t.status == RunStatus::pruned ? 2 : 0;
}

std::optional<double> plotted_x(const search::Param& p, const SearchTrial& t) {
  auto x = axis_value(p, t.values);
  if (x && p.dist == search::Dist::choice) {
    const double golden = std::fmod(static_cast<double>(t.number) * 0.6180339887498949, 1.0);
    *x += (golden - 0.5) * 0.3;
  }
  return x;
}

std::string pruning_line(const SearchSection& s) {
  if (s.spec.pruner == "none" && s.pruned == 0) return "";
  std::string line = "Pruning (" + s.spec.pruner + ") stopped " + std::to_string(s.pruned) +
                     " of " + std::to_string(s.trials.size()) + " trials early and saved " +
                     std::to_string(s.epochs_saved) + " of " +
                     std::to_string(s.epochs_all_complete) + " trial-epochs";
  if (s.epochs_all_complete > 0)
    line += " (" + printed("%.1f", 100.0 * static_cast<double>(s.epochs_saved) /
                                       static_cast<double>(s.epochs_all_complete)) +
            "% of training every trial to its last epoch)";
  return line + ".";
}

std::string importance_line(const SearchSection& s) {
  std::vector<search::ScoredTrial> complete;
  for (const auto& t : s.trials)
    if (t.complete() && t.objective) complete.push_back({t.values, *t.objective});
  const auto keys = search::param_importances(s.spec, complete, s.spec.seed);
  if (keys.size() < 2) return "";
  std::string line = "Which keys mattered (fANOVA over the " + std::to_string(complete.size()) +
                     " complete trials, as Optuna's get_param_importances): ";
  for (std::size_t i = 0; i < keys.size(); ++i)
    line += (i ? ", " : "") + keys[i].key + " " + printed("%.0f", 100 * keys[i].importance) + "%";
  return line + ".";
}

Table search_table(const SearchSection& s) {
  Table t;
  t.header.push_back("#");
  for (const auto& p : s.spec.space) t.header.push_back(p.key);
  for (const char* h : {"status", "epochs"}) t.header.push_back(h);
  t.header.push_back(objective_title(s.spec));
  for (std::size_t i : ranked(s)) {
    const SearchTrial& trial = s.trials[i];
    const std::string n = std::to_string(trial.number);
    std::vector<Cell> row = {{"#" + n, n, true}};
    for (const auto& p : s.spec.space) row.push_back(value_cell(trial.values, p.key));
    row.push_back({to_string(trial.status), to_string(trial.status), false});
    row.push_back({std::to_string(trial.epochs_done) + "/" + std::to_string(trial.epochs_total),
                   std::to_string(trial.epochs_done), true});
    if (trial.objective)
      row.push_back({objective_text(s.spec, *trial.objective), full(*trial.objective), true});
    else
      row.push_back({kNone, "", true});
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string search_csv(const SearchSection& s) {
  std::ostringstream out;
  out << "number,label,status,epochs_done,epochs_total";
  for (const auto& p : s.spec.space) out << ',' << csv_field(p.key);
  out << ",objective_" << (s.spec.at_last ? "last_" : "best_") << s.spec.objective << "\n";
  for (const auto& t : s.trials) {
    out << t.number << ',' << csv_field(t.label) << ',' << to_string(t.status) << ','
        << t.epochs_done << ',' << t.epochs_total;
    for (const auto& p : s.spec.space) {
      out << ',';
      if (!t.values.contains(p.key)) continue;
      const json& v = t.values.at(p.key);
      out << (v.is_number_float() ? full(v.get<double>())
              : v.is_string()     ? csv_field(v.get<std::string>())
                                  : csv_field(v.dump()));
    }
    out << ',' << (t.objective ? full(*t.objective) : "") << "\n";
  }
  return out.str();
}

std::vector<SearchFigure> search_figures(const SearchSection& s) {
  std::vector<SearchFigure> out;
  if (!std::any_of(s.trials.begin(), s.trials.end(),
                   [](const SearchTrial& t) { return point_kind(t) != 0; }))
    return out;
  const std::string what = objective_title(s.spec);
  out.push_back({"search_history", "Optimization history: " + what + " by trial", nullptr, false});
  out.push_back({"search_history_epochs", "Optimization history: " + what +
                                              " by trial-epochs spent", nullptr, true});
  for (const auto& p : s.spec.space)
    if (has_points(s, p))
      out.push_back({"search_param_" + slug(p.key), what + " against " + key_title(p), &p, false});
  return out;
}

std::string search_markdown(const SearchSection& s, const std::string& slug_dir, bool figures) {
  std::ostringstream md;
  md << "### Search\n\n";
  if (!s.problem.empty()) return md.str() + "**Search views left out: " + markdown_cell(s.problem) + "**\n\n";
  md << markdown_cell(summary_line(s)) << "\n\n";
  if (const std::string line = pruning_line(s); !line.empty()) md << markdown_cell(line) << "\n\n";
  if (const std::string line = importance_line(s); !line.empty()) md << markdown_cell(line) << "\n\n";
  if (figures) {
    md << markdown_cell(kReading) << "\n\n";
    for (const auto& f : search_figures(s))
      md << "![" << markdown_cell(f.title) << "](" << slug_dir << "/" << f.id << ".png)\n*"
         << markdown_cell(f.title) << "* ([SVG](" << slug_dir << "/" << f.id << ".svg))\n\n";
  }
  if (s.best())
    md << "![Parallel coordinates](" << slug_dir << "/search_parallel.svg)\n*Parallel "
       << "coordinates.* " << markdown_cell(kParallelReading) << "\n\n";
  md << "### Trials by objective\n\n" << markdown_table(search_table(s)) << "\n"
     << markdown_cell(kTableReading) << " CSV: [" << slug_dir << "/search_trials.csv](" << slug_dir
     << "/search_trials.csv)\n\n";
  return md.str();
}

std::string search_html(const SearchSection& s, const std::string& anchor) {
  std::ostringstream out;
  out << "<h3>Search</h3>\n";
  if (!s.problem.empty())
    return out.str() + "<p class=\"warning\">Search views left out: " + html_escape(s.problem) +
           "</p>\n";
  out << "<p class=\"search-summary\">" << html_escape(summary_line(s)) << "</p>\n";
  if (const std::string line = pruning_line(s); !line.empty())
    out << "<p class=\"pruning\">" << html_escape(line) << "</p>\n";
  if (const std::string line = importance_line(s); !line.empty())
    out << "<p class=\"importance\">" << html_escape(line) << "</p>\n";
  out << "<p class=\"hint\">" << html_escape(kReading) << " Hover a chart for the trial and its "
      << "values.</p>\n<div class=\"charts\" id=\"" << anchor << "-search-charts\"></div>\n";
  if (const std::string svg = parallel_coordinates_svg(s, anchor); !svg.empty())
    out << "<h3>Parallel coordinates</h3>\n<p class=\"hint\">" << html_escape(kParallelReading)
        << "</p>\n<div class=\"parcoords-box\">\n" << svg << "</div>\n";
  out << "<h3>Trials by objective</h3>\n<p class=\"hint\">" << html_escape(kTableReading)
      << "</p>\n" << html_table(search_table(s));
  return out.str();
}

json search_page_data(const SearchSection& s) {
  if (!s.problem.empty()) return nullptr;
  const double scale = objective_scale(s.spec);
  const auto scaled = [&](const std::optional<double>& v) {
    return v ? short_number(*v * scale) : json(nullptr);
  };
  json trials = json::array(), params = json::array();
  for (const auto& t : s.trials)
    trials.push_back({{"n", t.number}, {"label", t.label}, {"kind", point_kind(t)},
                      {"spent", t.epochs_spent}, {"done", t.epochs_done},
                      {"objective", scaled(t.objective)}, {"best", scaled(t.best_so_far)}});
  for (const auto& p : s.spec.space) {
    if (!has_points(s, p)) continue;
    json x = json::array(), categories = nullptr;
    for (const auto& t : s.trials) x.push_back(short_number(plotted_x(p, t)));
    if (p.dist == search::Dist::choice) {
      categories = json::array();
      for (const auto& c : p.choices) categories.push_back(clean_text(value_text(c)));
    }
    params.push_back({{"key", p.key}, {"title", key_title(p)}, {"log", p.log()},
                      {"categories", categories}, {"x", x}});
  }
  return {{"objective", objective_title(s.spec)}, {"trials", trials}, {"params", params}};
}

}  // namespace lrtune::report
