// results.sqlite of a run folder restored from metrics.csv (docs/training.md,
// "The run directory").
#include "cli/run_recovery.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "core/errors.h"
#include "train/checkpoint.h"

namespace lrtune::cli {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
  return cells;
}

// One row by the header's columns; false when a cell is not a number.
bool parse_row(const std::vector<std::string>& header, const std::string& line, EpochMetrics& m) {
  const auto cells = split_csv(line);
  if (cells.size() != header.size()) return false;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    char* end = nullptr;
    const double v = std::strtod(cells[i].c_str(), &end);
    if (cells[i].empty() || *end != '\0') return false;
    if (header[i] == "epoch") m.epoch = static_cast<std::int64_t>(v);
    else if (const MetricField* f = find_metric_field(header[i])) m.*f->member = v;
  }
  return true;
}

// Epochs 1, 2, ... present without a gap.
std::int64_t leading_epochs(const std::map<std::int64_t, EpochMetrics>& rows) {
  std::int64_t n = 0;
  while (rows.count(n + 1)) ++n;
  return n;
}

}  // namespace

std::vector<EpochMetrics> read_metrics_csv(const fs::path& file) {
  std::ifstream in(file);
  std::vector<EpochMetrics> rows;
  std::string line;
  if (!std::getline(in, line)) return rows;
  const auto header = split_csv(line);
  while (std::getline(in, line)) {
    EpochMetrics m;
    if (!parse_row(header, line, m)) break;
    rows.push_back(m);
  }
  return rows;
}

void restore_from_csv(Store& store, const std::string& trial, const fs::path& dir,
                      const std::function<void(const std::string&)>& say) {
  const fs::path checkpoint = dir / "checkpoint.pt";
  if (!fs::exists(checkpoint)) return;
  std::int64_t epoch = 0;
  try {
    epoch = checkpoint_epoch(checkpoint.string());
  } catch (const DamagedCheckpointError&) {
    return;
  }
  std::map<std::int64_t, EpochMetrics> stored, merged;
  for (const auto& m : store.epochs(trial)) stored[m.epoch] = m;
  if (leading_epochs(stored) >= epoch) return;
  merged = stored;
  for (const auto& m : read_metrics_csv(dir / "metrics.csv")) merged.emplace(m.epoch, m);
  if (leading_epochs(merged) < epoch) return;
  for (std::int64_t e = 1; e <= epoch; ++e)
    if (!stored.count(e)) store.put_epoch(trial, merged[e]);
  say("results.sqlite lacked epochs the checkpoint covers; restored them from metrics.csv");
}

}  // namespace lrtune::cli
