// The LR range test's figure: the smoothed loss against the learning rate
// (log scale), one line per test, each with its three suggested rates marked.
#pragma once
#include <string>
#include <vector>

namespace lrtune::report {

struct RangeCurve {
  std::string label;                   // "momentum=0.9"; "" for a single test
  std::vector<double> lr, smoothed;    // one point per step
  double valley = 0, steepest = 0, minimum_tenth = 0;  // NaN: none
};

// Writes DIR/NAME.png and DIR/NAME.svg (data and script in DIR/gnuplot/, to
// restyle). Throws ReportError when gnuplot is missing or fails.
void write_range_figure(const std::vector<RangeCurve>& curves, const std::string& dir,
                        const std::string& name, const std::string& title);

}  // namespace lrtune::report
