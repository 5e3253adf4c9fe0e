// The repeat-group statistics of a report table and the status text of a
// trial, from the per-trial summaries (store/trial_summary.h; pure functions:
// no files, no plotting).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "store/store.h"
#include "store/trial_summary.h"

namespace lrtune::report {

// "diverged @ep 4", "running 12/100", "pruned 3/10", "done", ...
std::string status_text(const TrialSummary& s);

// Trials that differ only in their seed or repeat share a group: the label
// with any "seed=..", "repeat=.." or "rep=.." word removed.
std::string group_key(const std::string& label);

// Mean and sample standard deviation (n - 1; 0 for n = 1) of present values.
struct Spread {
  std::size_t n = 0;
  double mean = 0;
  double std = 0;
};
Spread spread(const std::vector<std::optional<double>>& values);

// One line per repeat group (trials sharing group_key), in first-seen order.
struct GroupSummary {
  std::string label;  // the group key
  std::size_t trials = 0;
  std::size_t diverged = 0;
  Spread best_val_acc, test_at_best_val, final_test_acc;
};
std::vector<GroupSummary> summarize_groups(const std::vector<TrialSummary>& trials);

}  // namespace lrtune::report
