// A search study's figures: gnuplot's optimization history and objective
// against each searched key, and the parallel coordinates as SVG written here.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "core/files.h"
#include "report/escape.h"
#include "report/figures.h"
#include "report/search_report.h"

namespace lrtune::report {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kData = "gnuplot/search.dat";
constexpr const char* kHistoryCanvas = "size 1100,640 font 'DejaVu Sans,14' noenhanced linewidth 1.6";
constexpr const char* kSmallCanvas = "size 720,480 font 'DejaVu Sans,13' noenhanced linewidth 1.6";
// Points: finished trials filled, pruned trials open; the best so far in red.
constexpr const char* kFinished = "#1f77b4";
constexpr const char* kPruned = "#ff7f0e";
constexpr const char* kBest = "#d62728";

std::string number(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string number(const std::optional<double>& v) { return v ? number(*v) : "NaN"; }

// One row per trial: number, trial-epochs spent, objective and best so far
// (scaled as the axes show them), point kind, then each key's x.
std::string search_data(const SearchSection& s) {
  const double scale = objective_scale(s.spec);
  std::ostringstream out;
  out << "# trial epochs_spent objective best_so_far kind(1 finished, 2 pruned, 0 none)";
  for (const auto& p : s.spec.space) out << ' ' << p.key;
  out << "\n";
  for (const auto& t : s.trials) {
    out << t.number << ' ' << t.epochs_spent << ' '
        << number(t.objective ? std::optional<double>(*t.objective * scale) : std::nullopt) << ' '
        << number(t.best_so_far ? std::optional<double>(*t.best_so_far * scale) : std::nullopt)
        << ' ' << point_kind(t);
    for (const auto& p : s.spec.space) out << ' ' << number(plotted_x(p, t));
    out << "\n";
  }
  return out.str();
}

// The x range of a key's figure: its space, widened to every value drawn,
// with a margin so points at the bounds stay clear of the border.
std::pair<double, double> key_range(const SearchSection& s, const search::Param& p) {
  if (p.dist == search::Dist::choice)
    return {-0.5, static_cast<double>(p.choices.size()) - 0.5};
  double lo = p.low, hi = p.high;
  for (const auto& t : s.trials)
    if (const auto x = plotted_x(p, t)) {
      lo = std::min(lo, *x);
      hi = std::max(hi, *x);
    }
  if (p.log()) {
    const double margin = std::pow(hi / lo, 0.03);
    return {lo / margin, hi * margin};
  }
  const double margin = 0.03 * (hi - lo);
  return {lo - margin, hi + margin};
}

std::string x_axis(const SearchSection& s, const SearchFigure& f) {
  if (!f.param)
    return f.by_epochs ? "set xlabel 'trial-epochs spent (epochs of the trials so far, in draw order)'\n"
                       : "set xlabel 'trial (in draw order)'\nset xrange [0.5:*]\n";
  const search::Param& p = *f.param;
  const auto [lo, hi] = key_range(s, p);
  std::string out = "set xlabel " + gnuplot_string(p.key) + "\nset xrange [" + number(lo) + ":" +
                    number(hi) + "]\n";
  if (p.log()) out += "set logscale x\nset format x '%g'\n";
  if (p.dist == search::Dist::choice) {
    out += "set xtics (";
    for (std::size_t i = 0; i < p.choices.size(); ++i)
      out += (i ? ", " : "") + gnuplot_string(value_text(p.choices[i])) + " " + std::to_string(i);
    out += ")\n";
  }
  return out;
}

std::string plot_line(const SearchSection& s, const SearchFigure& f) {
  std::string x = f.by_epochs ? "2" : "1";
  if (f.param) {
    const auto it = std::find_if(s.spec.space.begin(), s.spec.space.end(),
                                 [&](const search::Param& p) { return &p == f.param; });
    x = "(column(" + std::to_string(6 + (it - s.spec.space.begin())) + "))";
  }
  std::string line = "plot '" + std::string(kData) + "' using " + x +
                     ":($5==1 ? $3 : NaN) with points pt 7 ps 1.4 lc rgb '" + kFinished +
                     "' title 'finished trial', \\\n  '' using " + x +
                     ":($5==2 ? $3 : NaN) with points pt 6 ps 1.4 lw 2 lc rgb '" + kPruned +
                     "' title 'pruned trial (objective so far)'";
  if (!f.param)
    line += ", \\\n  '' using " + x + ":4 with steps lw 2.5 lc rgb '" + kBest +
            "' title 'best so far'";
  return line + "\n";
}

void figure_script(std::ostream& gp, const SearchSection& s, const SearchFigure& f,
                   const std::string& subject) {
  const char* canvas = f.param ? kSmallCanvas : kHistoryCanvas;
  gp << "reset\nset encoding utf8\nset terminal pngcairo " << canvas << "\n"
     << "set output '" << f.id << ".png'\n"
     << "set title " << gnuplot_string(f.title + " — " + subject) << "\n"
     << "set ylabel " << gnuplot_string(objective_title(s.spec)) << "\n"
     << "set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1\n"
     << "set border 3 lc rgb '#444444'\nset tics nomirror\n"
     << "set key below left horizontal Left reverse samplen 2\n"
     << "set offsets 0, 0, graph 0.05, graph 0.05\n"  // points off the top and bottom borders
     << x_axis(s, f) << plot_line(s, f)
     << "set terminal svg " << canvas << " dynamic background '#ffffff'\n"
     << "set output '" << f.id << ".svg'\nreplot\nset output\n\n";
}

// ---- Parallel coordinates ----

// Pixels: the gap between axes, the plot's top and height, and the margins.
constexpr double kGap = 150, kTop = 56, kHeight = 260, kLeft = 90, kRight = 150, kBottom = 80;
constexpr double kAbsent = 24;  // how far below an axis a key that was not searched sits

struct Axis {
  std::string name;
  bool log = false;
  double lo = 0, hi = 1;
  std::vector<std::pair<double, std::string>> ticks;  // value, label
  bool absent = false;  // some trial's line passes below the axis at "n/a"
  double y(double v) const {  // pixels from the top
    double t = log ? std::log(v / lo) / std::log(hi / lo) : (v - lo) / (hi - lo);
    return kTop + kHeight * (1 - std::clamp(t, 0.0, 1.0));
  }
};

std::string short_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

Axis key_axis(const SearchSection& s, const search::Param& p) {
  Axis a;
  a.name = p.key;
  a.log = p.log();
  if (p.dist == search::Dist::choice) {
    const double n = static_cast<double>(p.choices.size());
    a.lo = n > 1 ? 0 : -1;
    a.hi = n > 1 ? n - 1 : 1;
    for (std::size_t i = 0; i < p.choices.size(); ++i)
      a.ticks.push_back({static_cast<double>(i), value_text(p.choices[i])});
  } else {
    a.lo = p.low;
    a.hi = p.high;
    for (const auto& t : s.trials)
      if (const auto x = axis_value(p, t.values)) {
        a.lo = std::min(a.lo, *x);
        a.hi = std::max(a.hi, *x);
      }
    const double mid = a.log ? std::sqrt(a.lo * a.hi) : (a.lo + a.hi) / 2;
    for (double v : {a.lo, mid, a.hi}) a.ticks.push_back({v, short_value(v)});
  }
  for (const auto& t : s.trials) a.absent |= t.complete() && t.objective && !axis_value(p, t.values);
  return a;
}

Axis objective_axis(const SearchSection& s) {
  Axis a;
  a.name = objective_title(s.spec);
  const double scale = objective_scale(s.spec);
  a.lo = std::numeric_limits<double>::infinity();
  a.hi = -a.lo;
  for (const auto& t : s.trials)
    if (point_kind(t) == 1) {
      a.lo = std::min(a.lo, *t.objective * scale);
      a.hi = std::max(a.hi, *t.objective * scale);
    }
  if (!(a.hi > a.lo)) {  // one value: centred
    a.lo -= 1;
    a.hi += 1;
  }
  for (double v : {a.lo, (a.lo + a.hi) / 2, a.hi}) a.ticks.push_back({v, short_value(v)});
  return a;
}

// From light (worst) to dark blue (best): t in [0, 1], 1 = best.
std::string ramp(double t) {
  const double from[3] = {0x9e, 0xca, 0xe1}, to[3] = {0x08, 0x30, 0x6b};
  char buf[8];
  int c[3];
  for (int k = 0; k < 3; ++k) c[k] = static_cast<int>(std::lround(from[k] + (to[k] - from[k]) * t));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

// An axis with its name above and tick labels on its left (`right`: on its
// right, for the last axis, where the lines end).
void draw_axis(std::ostream& out, const Axis& a, double x, bool right) {
  const double side = right ? 1 : -1;
  const char* anchor = right ? "start" : "end";
  out << "<line x1=\"" << x << "\" y1=\"" << kTop << "\" x2=\"" << x << "\" y2=\""
      << kTop + kHeight << "\" stroke=\"#444\" stroke-width=\"1.2\"/>\n"
      << "<text x=\"" << x << "\" y=\"" << kTop - 18 << "\" text-anchor=\"middle\" "
      << "font-weight=\"600\">" << html_escape(a.name) << "</text>\n";
  std::vector<std::pair<double, std::string>> ticks;
  for (const auto& [v, label] : a.ticks) ticks.push_back({a.y(v), label});
  if (a.absent) ticks.push_back({kTop + kHeight + kAbsent, "n/a"});
  for (const auto& [y, label] : ticks)
    out << "<line x1=\"" << x << "\" y1=\"" << y << "\" x2=\"" << x + 4 * side << "\" y2=\"" << y
        << "\" stroke=\"#444\"/><text x=\"" << x + 7 * side << "\" y=\"" << y + 4
        << "\" text-anchor=\"" << anchor << "\" font-size=\"11\">" << html_escape(label)
        << "</text>\n";
}

// The colour key on the right: a gradient from worst (bottom) to best (top).
void draw_colour_key(std::ostream& out, const std::string& id, double x) {
  out << "<defs><linearGradient id=\"" << id << "-ramp\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
      << "<stop offset=\"0\" stop-color=\"" << ramp(0) << "\"/><stop offset=\"1\" stop-color=\""
      << ramp(1) << "\"/></linearGradient></defs>\n"
      << "<rect x=\"" << x << "\" y=\"" << kTop << "\" width=\"14\" height=\"" << kHeight
      << "\" fill=\"url(#" << id << "-ramp)\"/>\n"
      << "<text x=\"" << x + 20 << "\" y=\"" << kTop + 10 << "\" font-size=\"11\">best</text>\n"
      << "<text x=\"" << x + 20 << "\" y=\"" << kTop + kHeight << "\" font-size=\"11\">worst</text>\n";
}

// One polyline: its points on every axis, its colour by objective, its
// trial named in a <title> (the tooltip).
void draw_trial(std::ostream& out, const SearchSection& s, const SearchTrial& t,
                const std::vector<Axis>& axes, bool best) {
  const double scale = objective_scale(s.spec);
  const Axis& o = axes.back();
  double goodness = (*t.objective * scale - o.lo) / (o.hi - o.lo);
  if (!s.spec.maximize()) goodness = 1 - goodness;
  out << "<polyline class=\"pc-trial\" data-trial=\"" << t.number << "\" fill=\"none\" stroke=\""
      << ramp(std::clamp(goodness, 0.0, 1.0)) << "\" stroke-width=\"" << (best ? 3.5 : 1.8)
      << "\" stroke-opacity=\"0.9\" points=\"";
  for (std::size_t k = 0; k < axes.size(); ++k) {
    const double x = kLeft + kGap * static_cast<double>(k);
    std::optional<double> v = k + 1 < axes.size() ? axis_value(s.spec.space[k], t.values)
                                                  : std::optional<double>(*t.objective * scale);
    out << (k ? " " : "") << x << "," << (v ? axes[k].y(*v) : kTop + kHeight + kAbsent);
  }
  out << "\"><title>" << html_escape(t.label + ": " + objective_text(s.spec, *t.objective))
      << "</title></polyline>\n";
}

}  // namespace

std::string search_gnuplot_script(const SearchSection& s, const std::string& subject) {
  std::ostringstream gp;
  gp << "# Draws the search figures of the folder above; written by `lrtune report`.\n"
        "# To restyle them, edit and run from that folder: gnuplot gnuplot/search.gp\n\n";
  for (const auto& f : search_figures(s)) figure_script(gp, s, f, subject);
  return gp.str();
}

std::string parallel_coordinates_svg(const SearchSection& s, const std::string& id) {
  const SearchTrial* best = s.best();
  if (!best) return "";
  std::vector<Axis> axes;
  for (const auto& p : s.spec.space) axes.push_back(key_axis(s, p));
  axes.push_back(objective_axis(s));
  const double width = kLeft + kGap * static_cast<double>(axes.size() - 1) + kRight;
  const double height = kTop + kHeight + kBottom;
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"parcoords\" id=\"" << id
      << "-parcoords\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 "
      << width << " " << height << "\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"13\" "
      << "role=\"img\" aria-label=\"Parallel coordinates of the search's finished trials\">\n"
      << "<style>.pc-trial:hover { stroke-width: 5; stroke-opacity: 1 }</style>\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  // Worst first, so the best lines are drawn on top.
  std::vector<const SearchTrial*> lines;
  for (const auto& t : s.trials)
    if (point_kind(t) == 1) lines.push_back(&t);
  std::stable_sort(lines.begin(), lines.end(), [&](const SearchTrial* a, const SearchTrial* b) {
    return s.spec.maximize() ? *a->objective < *b->objective : *a->objective > *b->objective;
  });
  for (const SearchTrial* t : lines) draw_trial(out, s, *t, axes, t == best);
  for (std::size_t k = 0; k < axes.size(); ++k)
    draw_axis(out, axes[k], kLeft + kGap * static_cast<double>(k), k + 1 == axes.size());
  draw_colour_key(out, id, width - kRight + 70);
  out << "</svg>\n";
  return out.str();
}

void write_search_files(const SearchSection& s, const std::string& subject,
                        const std::string& dir, bool figures) {
  if (!s.problem.empty()) return;
  const fs::path root = fs::absolute(dir);
  fs::create_directories(root / "gnuplot");
  write_text_atomically(root / "search_trials.csv", search_csv(s));
  const std::string svg = parallel_coordinates_svg(s, "search");
  if (!svg.empty())
    write_text_atomically(root / "search_parallel.svg",
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg);
  if (!figures || search_figures(s).empty()) return;
  write_text_atomically(root / kData, search_data(s));
  write_text_atomically(root / "gnuplot" / "search.gp", search_gnuplot_script(s, subject));
  run_gnuplot(root.string(), "gnuplot/search.gp");
}

}  // namespace lrtune::report
