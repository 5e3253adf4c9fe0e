// gnuplot script and data for the LR range test's figure.
#include "report/range_figure.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/files.h"
#include "report/escape.h"
#include "report/figures.h"

namespace lrtune::report {
namespace fs = std::filesystem;
namespace {

constexpr const char* kCanvas = "size 1280,760 font 'DejaVu Sans,15' noenhanced linewidth 1.6";

std::string curve_data(const RangeCurve& c) {
  std::ostringstream out;
  out.precision(10);
  for (std::size_t i = 0; i < c.lr.size(); ++i)
    if (std::isfinite(c.smoothed[i])) out << c.lr[i] << " " << c.smoothed[i] << "\n";
  return out.str();
}

// The smoothed loss at the point whose rate is nearest `lr` (on a log scale).
double loss_at(const RangeCurve& c, double lr) {
  std::size_t best = 0;
  for (std::size_t i = 0; i < c.lr.size(); ++i)
    if (std::abs(std::log(c.lr[i] / lr)) < std::abs(std::log(c.lr[best] / lr))) best = i;
  return c.smoothed[best];
}

std::string marks_data(const RangeCurve& c) {
  std::ostringstream out;
  out.precision(10);
  for (double lr : {c.valley, c.steepest, c.minimum_tenth})
    if (std::isfinite(lr) && !c.lr.empty()) out << lr << " " << loss_at(c, lr) << "\n";
    else out << "NaN NaN\n";
  return out.str();
}

// The top of the y axis: a quarter above the highest smoothed loss before
// each curve's minimum, so the final blow-up does not flatten the curves.
double y_top(const std::vector<RangeCurve>& curves) {
  double top = 0;
  for (const auto& c : curves) {
    std::size_t lowest = 0;
    for (std::size_t i = 0; i < c.smoothed.size(); ++i)
      if (std::isfinite(c.smoothed[i]) && c.smoothed[i] < c.smoothed[lowest]) lowest = i;
    for (std::size_t i = 0; i <= lowest && i < c.smoothed.size(); ++i)
      if (std::isfinite(c.smoothed[i])) top = std::max(top, c.smoothed[i]);
  }
  return top > 0 ? 1.25 * top : 1.0;
}

std::string plot_command(const std::vector<RangeCurve>& curves) {
  std::string cmd = "plot ";
  const char* marks[] = {"valley", "steepest", "min/10"};
  const int types[] = {7, 5, 9};  // circle, square, triangle
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const std::string data = "'gnuplot/range_" + std::to_string(i) + ".dat'";
    const std::string m = "'gnuplot/range_marks_" + std::to_string(i) + ".dat'";
    cmd += (i ? ", \\\n     " : "") + data + " using 1:2 with lines lc " + std::to_string(i + 1) +
           " title " + gnuplot_string(curves[i].label.empty() ? "smoothed loss" : curves[i].label);
    for (int k = 0; k < 3; ++k)
      cmd += ", \\\n     " + m + " every ::" + std::to_string(k) + "::" + std::to_string(k) +
             " using 1:2 with points pt " + std::to_string(types[k]) + " ps 2 lc " +
             std::to_string(i + 1) + " title " +
             gnuplot_string(i == 0 ? marks[k] : std::string());
  }
  return cmd + "\n";
}

}  // namespace

void write_range_figure(const std::vector<RangeCurve>& curves, const std::string& dir,
                        const std::string& name, const std::string& title) {
  const fs::path root = fs::absolute(dir);
  fs::create_directories(root / "gnuplot");
  for (std::size_t i = 0; i < curves.size(); ++i) {
    write_text_atomically(root / "gnuplot" / ("range_" + std::to_string(i) + ".dat"),
                          curve_data(curves[i]));
    write_text_atomically(root / "gnuplot" / ("range_marks_" + std::to_string(i) + ".dat"),
                          marks_data(curves[i]));
  }
  std::ostringstream gp;
  const std::string setup = "set title " + gnuplot_string(title) +
                            "\nset xlabel 'learning rate'\nset ylabel 'smoothed training loss'\n"
                            "set logscale x\nset format x '%g'\nset grid lc rgb '#dddddd'\n"
                            "set key outside right top\nset border 3\nset tics nomirror\n"
                            "set yrange [*:" + std::to_string(y_top(curves)) + "]\n";
  gp << "# The LR range test's figure. To restyle it, edit and run from its folder:\n"
     << "#   gnuplot gnuplot/" << name << ".gp\nset encoding utf8\n"
     << "set terminal pngcairo " << kCanvas << "\nset output '" << name << ".png'\n"
     << setup << plot_command(curves)
     << "set terminal svg " << kCanvas << " dynamic background '#ffffff'\nset output '" << name
     << ".svg'\nreplot\nunset output\n";
  write_text_atomically(root / "gnuplot" / (name + ".gp"), gp.str());
  run_gnuplot(root.string(), "gnuplot/" + name + ".gp");
}

}  // namespace lrtune::report
