// Static figures (PNG and SVG) drawn by gnuplot from a generated script and
// data files, which stay beside the figures so a user can restyle them.
#pragma once
#include <string>
#include <vector>

#include "report/series.h"

namespace lrtune::report {

// The gnuplot script drawing every figure of `figs` into the current folder
// (`fig.id`.png and .svg), reading gnuplot/series_<i>.dat, gnuplot/markers.dat
// (divergence marks) and gnuplot/pruned.dat (pruning marks).
std::string gnuplot_script(const std::vector<Series>& series, const std::vector<FigureSpec>& figs,
                           const std::string& subject);

// Writes data files, script and figures into `dir` (created) and runs
// gnuplot there. Throws ReportError when gnuplot is missing or fails.
void write_figures(const std::vector<Series>& series, const std::vector<FigureSpec>& figs,
                   const std::string& subject, const std::string& dir);

// Runs gnuplot on `script` (relative to `dir`) in `dir`, its messages in
// dir/gnuplot/gnuplot.log. Throws ReportError when gnuplot is missing or fails.
void run_gnuplot(const std::string& dir, const std::string& script);

// A line's legend in a figure: its label cut to kLegendChars characters
// with "…" (tables carry the full label), then its notes, never cut.
inline constexpr std::size_t kLegendChars = 56;
std::string figure_legend(const Series& s);

// The caption under every figure set: what lines, bands and marks mean.
std::string figure_caption(bool has_repeats, bool has_divergence, bool has_pruned = false);

}  // namespace lrtune::report
