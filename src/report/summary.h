// The per-trial numbers of a report table, and the repeat-group statistics,
// computed from stored records only (pure functions: no files, no plotting).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "store/store.h"

namespace lrtune::report {

// Validation accuracies (fractions) whose first crossing the table reports.
inline constexpr std::array<double, 3> kAccuracyThresholds = {0.5, 0.7, 0.8};

struct TrialSummary {
  std::string id;
  std::string label;
  RunStatus status = RunStatus::pending;
  std::optional<std::int64_t> diverged_epoch;  // set only for diverged trials
  std::int64_t epochs_done = 0;                // epochs stored so far
  std::int64_t epochs_total = 0;
  std::optional<double> best_val_acc;          // fraction; empty before epoch 1
  std::int64_t best_val_epoch = 0;             // earliest epoch holding the best
  std::optional<double> test_at_best_val;      // test accuracy at best_val_epoch
  std::optional<double> final_test_acc;        // test accuracy of the last stored epoch
  // First epoch whose validation accuracy is >= kAccuracyThresholds[i].
  std::array<std::optional<std::int64_t>, kAccuracyThresholds.size()> first_epoch_at;
  double wall_seconds = 0;  // sum of stored epochs' times (gaps between resumes excluded)
  std::string error;        // message of a failed trial
};

// The epoch where a diverged trial's training loss first became non-finite
// (the trainer stores that epoch, then stops); one past the last stored epoch
// when no stored epoch shows it. Empty for trials that did not diverge.
std::optional<std::int64_t> divergence_epoch(const TrialRecord& trial,
                                             const std::vector<EpochMetrics>& epochs);

// `epochs` in any order; non-finite accuracies are ignored.
TrialSummary summarize_trial(const TrialRecord& trial, std::vector<EpochMetrics> epochs);

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
