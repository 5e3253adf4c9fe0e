// The benchmark's results: medians, ratios to PyTorch and to the machine's
// peak, as a Markdown table (docs/performance.md) and as CSV.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "machine.h"
#include "timing.h"

namespace lrtune::bench {

struct RowResult {
  std::string mode;  // "steps" or "epoch"
  Work work;
  std::vector<Timing> cpp, py;  // one per repeat, in the order they ran
};

struct Report {
  Machine machine;
  int threads = 1;
  DataShape shape;  // of the data the rows trained on
  std::string versions, settings, load_before, load_after;
  std::vector<RowResult> rows;
};

double median(std::vector<double> v);

void write_markdown(std::ostream& out, const Report& r);
void write_csv(std::ostream& out, const Report& r);

}  // namespace lrtune::bench
