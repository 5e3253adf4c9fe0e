// An `lrtune lr-find` output folder as a section of the report: the folder's
// summary file (lr-find.json, written by lr-find beside its CSV files), read
// back with its curves, and rendered as Markdown, HTML and page data.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "report/range_figure.h"
#include "report/tables.h"

namespace lrtune::report {

inline constexpr const char* kRangeSummaryFile = "lr-find.json";

struct RangeTestRecord {
  RangeCurve curve;         // label, rates, smoothed losses and the suggestions
  std::string csv;          // the test's CSV file, relative to the folder
  std::int64_t points = 0;  // steps recorded
  bool stopped = false;     // stopped early: the loss diverged
};

struct RangeFolder {
  std::string dir;       // where it was read from
  std::string settings;  // the configuration's non-default keys, "momentum=0.9 ..."
  std::string ramp = "exp";
  double start_lr = 0, end_lr = 0;
  std::int64_t steps = 0;  // planned steps per test
  std::vector<RangeTestRecord> tests;
  std::string slug;      // the report's subfolder (set by the report)
};

// Writes DIR/lr-find.json describing `f` (its curves stay in the CSV files).
void write_range_summary(const std::string& dir, const RangeFolder& f);

// True when DIR holds an lr-find summary.
bool is_range_folder(const std::string& dir);

// Reads DIR/lr-find.json and each test's CSV. Throws ConfigError naming the
// file when one is missing or malformed.
RangeFolder read_range_folder(const std::string& dir);

// One row per test: steps, the rates it spanned, whether it diverged, and the
// three suggestions.
Table range_table(const RangeFolder& f);

// The report sections (figure paths under f.slug/).
std::string range_markdown(const RangeFolder& f, bool figures);
std::string range_html(const RangeFolder& f);
std::string range_anchor(const RangeFolder& f);

// What page.js needs to draw the folder's interactive chart.
nlohmann::json range_page_data(const RangeFolder& f);

}  // namespace lrtune::report
