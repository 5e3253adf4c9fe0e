// What a trial's stored records say: its best validation accuracy and where,
// the test accuracy there and at the end, when it crossed each accuracy
// threshold, where it diverged, its time; and which trials are a study's
// current ones. One type for the status table (study/summary.h), reports and
// exports (report/), computed from the store's records only.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "store/store.h"

namespace lrtune {

// Validation accuracies (fractions) whose first crossing reports show.
inline constexpr std::array<double, 3> kAccuracyThresholds = {0.5, 0.7, 0.8};

struct TrialSummary {
  TrialRecord trial;                         // its epochs_done: the epochs stored
  std::optional<double> best_val_acc;        // fraction; empty before a finite one
  std::int64_t best_val_epoch = 0;           // earliest epoch holding the best
  std::optional<double> test_at_best_val;    // test accuracy at best_val_epoch
  std::optional<double> final_test_acc;      // test accuracy of the last stored epoch
  // First epoch whose validation accuracy is >= kAccuracyThresholds[i].
  std::array<std::optional<std::int64_t>, kAccuracyThresholds.size()> first_epoch_at;
  std::optional<std::int64_t> diverged_epoch;  // set only for diverged trials
  double wall_seconds = 0;  // stored epochs' times, non-finite ones left out (gaps excluded)
  double mean_epoch_s = 0;  // wall_seconds per stored epoch; 0 = no epoch yet
  double seconds_left = 0;  // estimated by the status table (study/summary.h); 0 = unknown or none

  const std::string& id() const { return trial.spec.id; }
  const std::string& label() const { return trial.spec.label; }
  RunStatus status() const { return trial.status; }
};

// The epoch where a diverged trial's training loss first became non-finite
// (the trainer stores that epoch, then stops); one past the last stored epoch
// when no stored epoch shows it. Empty for trials that did not diverge.
std::optional<std::int64_t> divergence_epoch(const TrialRecord& trial,
                                             const std::vector<EpochMetrics>& epochs);

// `epochs` in any order; non-finite accuracies and seconds are ignored.
TrialSummary summarize_trial(const TrialRecord& trial, std::vector<EpochMetrics> epochs);

// The trials among `ids`, in that order (ids the store lacks are left out);
// all the store's trials when `ids` is empty.
std::vector<TrialRecord> select_trials(Store& store, const std::vector<std::string>& ids);

// A study's current trials: those of its study file as last run
// (StudyInfo::trial_ids, in that order); all trials when the store records no
// such list (a `lrtune train` run folder). Trials of earlier versions of the
// file stay in the store but are not current.
std::vector<std::string> current_ids(Store& store);
std::vector<TrialRecord> current_trials(Store& store);

}  // namespace lrtune
