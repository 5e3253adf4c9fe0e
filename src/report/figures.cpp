// gnuplot figures: one data file per line, one script for all figures.
#include "report/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/error.h"
#include "report/escape.h"
#include "core/files.h"
#include "core/process.h"

namespace lrtune::report {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDataDir = "gnuplot";
// Pixels of the PNG and SVG canvas; fonts in points. Sized to stay legible
// when a Markdown viewer shrinks the PNG to page width.
constexpr const char* kCanvas = "size 1280,760 font 'DejaVu Sans,15' noenhanced linewidth 1.6";

// A whole file ("" when unreadable).
std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last `max_chars` characters of a text file ("" when unreadable).
std::string file_tail(const fs::path& path, std::size_t max_chars) {
  const std::string text = read_text(path);
  return text.size() > max_chars ? text.substr(text.size() - max_chars) : text;
}

std::string number(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Column of a metric's mean, lo or hi (0, 1, 2) in a series data file.
int column(Metric m, int which) { return 2 + 3 * static_cast<int>(m) + which; }

// A gnuplot `using` expression for one column, scaled and cut to the zoom.
std::string value_expr(const FigureSpec& fig, int col) {
  std::string v = "column(" + std::to_string(col) + ")*" + number(fig.scale);
  if (fig.zoom_epochs > 0) v = "($1<=" + std::to_string(fig.zoom_epochs) + " ? " + v + " : NaN)";
  return "(" + v + ")";
}

std::string data_file(std::size_t i) {
  return std::string(kDataDir) + "/series_" + std::to_string(i) + ".dat";
}

// Characters (not bytes) of clean UTF-8 text.
std::size_t text_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::size_t longest_legend(const std::vector<Series>& series) {
  std::size_t n = 0;
  for (const auto& s : series) n = std::max(n, text_length(figure_legend(s)));
  return n;
}

bool has_values(const std::vector<Series>& series, const FigureSpec& fig) {
  for (const auto& s : series)
    for (std::size_t k = 0; k < s.epochs.size(); ++k) {
      if (fig.zoom_epochs > 0 && s.epochs[k] > fig.zoom_epochs) break;
      if (std::isfinite(s.of(fig.metric).mean[k])) return true;
    }
  return false;
}

std::int64_t last_epoch(const std::vector<Series>& series) {
  std::int64_t last = 1;
  for (const auto& s : series)
    if (!s.epochs.empty()) last = std::max(last, s.epochs.back());
  return last;
}

// gnuplot's SVG text keeps '>' as it is; a label holding "]]>" needs escaping.
void repair_svg_files(const fs::path& root) {
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path().extension() != ".svg" || !entry.is_regular_file()) continue;
    const std::string svg = read_text(entry.path());
    if (svg.find("]]>") == std::string::npos) continue;
    write_text_atomically(entry.path(), escape_svg_cdata_ends(svg));
  }
}

std::string series_data(const Series& s) {
  std::ostringstream out;
  out << "# epoch, then mean lo hi (over repeats) of:";
  for (Metric m : kMetrics) out << ' ' << metric_key(m);
  out << "\n";
  for (std::size_t k = 0; k < s.epochs.size(); ++k) {
    out << s.epochs[k];
    for (Metric m : kMetrics)
      out << ' ' << number(s.of(m).mean[k]) << ' ' << number(s.of(m).lo[k]) << ' '
          << number(s.of(m).hi[k]);
    out << "\n";
  }
  return out.str();
}

// One row per line that ended early (diverged, or pruned when `pruned`):
// the epoch, colour as 0xRRGGBB, then the mark's height for each metric.
std::string marker_data(const std::vector<Series>& series, bool pruned) {
  std::ostringstream out;
  out << "# epoch colour then, per metric, the height of the "
      << (pruned ? "pruning" : "divergence") << " mark\n";
  for (const auto& s : series) {
    const auto& epoch = pruned ? s.pruned_epoch : s.diverged_epoch;
    if (!epoch) continue;
    out << *epoch << ' ' << std::stol(s.colour.substr(1), nullptr, 16);
    for (Metric m : kMetrics)
      out << ' ' << number(pruned ? s.pruned_marker_value(m) : s.marker_value(m));
    out << "\n";
  }
  return out.str();
}

// The marks at the end of diverged (x) and pruned (filled square) lines,
// each with a key entry saying what it means.
std::vector<std::string> end_marks(const std::vector<Series>& series, const FigureSpec& fig) {
  bool any_diverged = false, any_pruned = false;
  for (const auto& s : series) {
    any_diverged |= s.diverged_epoch.has_value();
    any_pruned |= s.pruned_epoch.has_value();
  }
  const std::string height = value_expr(fig, 3 + static_cast<int>(fig.metric));
  std::vector<std::string> parts;
  if (any_diverged) {
    parts.push_back("'" + std::string(kDataDir) + "/markers.dat' using 1:" + height +
                    ":2 with points pt 2 ps 3 lw 3 lc rgb variable notitle");
    parts.push_back("keyentry with points pt 2 ps 2 lw 3 lc rgb '#333333' title 'divergence'");
  }
  if (any_pruned) {
    parts.push_back("'" + std::string(kDataDir) + "/pruned.dat' using 1:" + height +
                    ":2 with points pt 5 ps 2 lc rgb variable notitle");
    parts.push_back("keyentry with points pt 5 ps 1.5 lc rgb '#333333' title 'pruned'");
  }
  return parts;
}

void figure_script(std::ostream& gp, const std::vector<Series>& series, const FigureSpec& fig,
                   const std::string& subject) {
  bool any_repeats = false;
  for (const auto& s : series) any_repeats |= s.n > 1;
  std::int64_t x_max = fig.zoom_epochs > 0 ? fig.zoom_epochs : last_epoch(series);
  x_max = std::max<std::int64_t>(x_max, 2);
  bool few_epochs = x_max <= 30;

  gp << "reset\nset encoding utf8\n"
     << "set terminal pngcairo " << kCanvas << "\n"
     << "set output '" << fig.id << ".png'\n"
     << "set title " << gnuplot_string(fig.title + " — " + subject) << "\n"
     << "set xlabel 'epoch'\nset ylabel " << gnuplot_string(fig.y_label) << "\n"
     << "set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1\n"
     << "set border 3 lc rgb '#444444'\nset tics nomirror\n"
     // Short legends fit right of the plot; long ones go below, in columns.
     << (longest_legend(series) <= 30 ? "set key outside right top vertical"
                                       : "set key below left horizontal")
     << " Left reverse samplen 2 spacing 1.15 width 1 title "
     << gnuplot_string(any_repeats ? "shaded: min–max over seeds" : "") << "\n"
     << "set style fill transparent solid 0.18 noborder\n"
     << "set xrange [1:" << x_max << "]\n";
  if (x_max <= 20) gp << "set xtics 1\n";
  if (wants_log_scale(series, fig)) gp << "set logscale y\nset format y '%g'\n";
  if (!has_values(series, fig)) gp << "set yrange [0:1]\n";

  std::vector<std::string> parts;
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (series[i].n < 2 || series[i].epochs.empty()) continue;
    parts.push_back("'" + data_file(i) + "' using 1:" + value_expr(fig, column(fig.metric, 1)) +
                    ":" + value_expr(fig, column(fig.metric, 2)) + " with filledcurves fc rgb '" +
                    series[i].colour + "' notitle");
  }
  for (std::size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    if (s.epochs.empty()) continue;
    static const int kDashTypes[] = {1, 2, 4, 5, 3};
    parts.push_back("'" + data_file(i) + "' using 1:" + value_expr(fig, column(fig.metric, 0)) +
                    (few_epochs ? " with linespoints pt 7 ps 0.7" : " with lines") + " lc rgb '" +
                    s.colour + "' lw 2 dt " + std::to_string(kDashTypes[s.dash % 5]) + " title " +
                    gnuplot_string(figure_legend(s)));
  }
  for (auto& mark : end_marks(series, fig)) parts.push_back(std::move(mark));
  if (parts.empty()) parts.push_back("NaN notitle");
  gp << "plot \\\n";
  for (std::size_t i = 0; i < parts.size(); ++i)
    gp << "  " << parts[i] << (i + 1 < parts.size() ? ", \\\n" : "\n");
  gp << "set terminal svg " << kCanvas << " dynamic background '#ffffff'\n"
     << "set output '" << fig.id << ".svg'\nreplot\nset output\n\n";
}

}  // namespace

std::string gnuplot_script(const std::vector<Series>& series, const std::vector<FigureSpec>& figs,
                           const std::string& subject) {
  std::ostringstream gp;
  gp << "# Draws the figures of the folder above; written by `lrtune report`.\n"
        "# To restyle them, edit and run from that folder: gnuplot gnuplot/figures.gp\n\n";
  for (const auto& fig : figs) figure_script(gp, series, fig, subject);
  return gp.str();
}

void write_figures(const std::vector<Series>& series, const std::vector<FigureSpec>& figs,
                   const std::string& subject, const std::string& dir) {
  fs::path root = fs::absolute(dir);
  fs::create_directories(root / kDataDir);
  // Checked writes: a full disk is an error, never a truncated figure.
  for (std::size_t i = 0; i < series.size(); ++i)
    write_text_atomically(root / data_file(i), series_data(series[i]));
  write_text_atomically(root / kDataDir / "markers.dat", marker_data(series, false));
  write_text_atomically(root / kDataDir / "pruned.dat", marker_data(series, true));
  write_text_atomically(root / kDataDir / "figures.gp", gnuplot_script(series, figs, subject));
  run_gnuplot(root.string(), std::string(kDataDir) + "/figures.gp");
}

void run_gnuplot(const std::string& dir, const std::string& script) {
  const fs::path root = fs::absolute(dir);
  const fs::path log = root / kDataDir / "gnuplot.log";
  fs::remove(log);
  ProcessOptions how;
  how.cwd = root.string();
  how.log_path = log.string();
  const ProcessResult r = run_process({"gnuplot", script}, how);
  if (!r.started)
    throw ReportError("gnuplot not found on PATH or could not start (" + r.error + "): the figures "
                      "need it (Debian package gnuplot-nox; scripts/setup.sh installs it)");
  if (r.exit_code != 0)
    throw ReportError("gnuplot failed (" + describe_exit(r.wait_status) + ") drawing " +
                      root.string() + "; its last words: " + file_tail(log, 600));
  repair_svg_files(root);
}

std::string figure_legend(const Series& s) {
  if (text_length(s.label) <= kLegendChars) return s.legend();
  std::string out;
  std::size_t n = 0;
  for (unsigned char c : s.label) {
    if ((c & 0xC0) != 0x80 && ++n == kLegendChars) break;
    out += static_cast<char>(c);
  }
  return out + "…" + s.notes();
}

std::string figure_caption(bool has_repeats, bool has_divergence, bool has_pruned) {
  std::string text = "One line per trial";
  if (has_repeats)
    text += "; where a point ran with several seeds, the line is their mean and the shaded "
            "band spans their minimum to maximum";
  text += ".";
  if (has_divergence)
    text += " × marks the epoch where a trial diverged (its training loss became non-finite); "
            "its line ends there.";
  if (has_pruned)
    text += " ■ marks the last epoch of a trial the search's pruner stopped early; its line "
            "ends there.";
  return text;
}

}  // namespace lrtune::report
