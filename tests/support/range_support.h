// An lr-find output folder made by hand, for report tests: a bowl-shaped
// smoothed loss over exponentially spaced rates, and the summary naming it.
#pragma once
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "report/range_report.h"

namespace lrtune::test {

// Writes DIR/lr-find.csv (or one CSV per label) and DIR/lr-find.json; the
// first test suggests valley 0.0123, steepest 0.0456 and no min/10.
inline report::RangeFolder write_range_folder(const std::filesystem::path& dir,
                                              const std::vector<std::string>& labels = {""}) {
  std::filesystem::create_directories(dir);
  report::RangeFolder f;
  f.settings = "momentum=0.9";
  f.start_lr = 1e-5;
  f.end_lr = 10;
  f.steps = 60;
  for (std::size_t t = 0; t < labels.size(); ++t) {
    report::RangeTestRecord r;
    r.curve.label = labels[t];
    r.csv = labels[t].empty() ? "lr-find.csv" : "lr-find-" + labels[t] + ".csv";
    std::ofstream csv(dir / r.csv);
    csv.precision(17);
    csv << "step,lr,loss,smoothed_loss\n";
    for (int i = 0; i < 50; ++i) {  // stops at step 50 of 60: diverged
      const double lr = 1e-5 * std::pow(10.0, i * 6.0 / 59), x = std::log10(lr) + 2 + 0.3 * t;
      const double loss = 1.2 + 0.3 * x * x;
      csv << i + 1 << "," << lr << "," << loss * 1.01 << "," << loss << "\n";
      r.curve.lr.push_back(lr);
      r.curve.smoothed.push_back(loss);
    }
    r.points = 50;
    r.stopped = true;
    r.curve.valley = 0.0123 * (t + 1);
    r.curve.steepest = 0.0456 * (t + 1);
    r.curve.minimum_tenth = t == 0 ? NAN : 0.001;
    f.tests.push_back(r);
  }
  report::write_range_summary(dir.string(), f);
  f.dir = dir.string();
  return f;
}

}  // namespace lrtune::test
