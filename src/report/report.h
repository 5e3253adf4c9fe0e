// `lrtune report`: figures, tables, report.md and index.html for one or more
// results folders (studies or single runs), plus an optional comparison.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace lrtune::report {

// One trial group of one study on the comparison chart: LABEL is a trial
// label (repeats included), or "best" for the group with the highest mean
// best validation accuracy.
struct CompareItem {
  std::string dir;
  std::string label;
};
// "DIR:LABEL" (split at the last ':' before which an existing folder ends,
// else at the first ':'); throws ConfigError without a ':'.
CompareItem parse_compare(const std::string& text);

struct ReportOptions {
  std::vector<std::string> dirs;       // results folders, each holding results.sqlite
  std::vector<CompareItem> compare;    // overlaid on one set of charts
  std::string out;                     // output folder
  std::int64_t zoom_epochs = 10;       // epochs in the zoomed figures (0 = none)
  bool figures = true;                 // false: tables and page only (no gnuplot)
};

// Opens the store of a results folder (the CLI passes SQLite; tests a fake).
using StoreOpener = std::function<std::unique_ptr<Store>(const std::string& dir)>;

struct ReportResult {
  std::string markdown;  // path of report.md
  std::string html;      // path of index.html
  std::size_t studies = 0;  // results folders read
};

// Writes OUT/report.md, OUT/index.html and, per study and for the
// comparison, OUT/<slug>/ with figures (PNG, SVG) and trials.csv.
// Progress lines go to `log` (may be empty).
ReportResult write_report(const ReportOptions& opts, const StoreOpener& open,
                          const std::function<void(const std::string&)>& log = {});

}  // namespace lrtune::report
