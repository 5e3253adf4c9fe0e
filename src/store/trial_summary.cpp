// Per-trial summaries from stored records, and the selection of a study's
// current trials.
#include "store/trial_summary.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace lrtune {

std::optional<std::int64_t> divergence_epoch(const TrialRecord& trial,
                                             const std::vector<EpochMetrics>& epochs) {
  if (trial.status != RunStatus::diverged) return std::nullopt;
  std::optional<std::int64_t> first_bad;
  std::int64_t last = 0;
  for (const auto& m : epochs) {
    last = std::max(last, m.epoch);
    if (!std::isfinite(m.train_loss) && (!first_bad || m.epoch < *first_bad)) first_bad = m.epoch;
  }
  return first_bad ? *first_bad : last + 1;
}

TrialSummary summarize_trial(const TrialRecord& trial, std::vector<EpochMetrics> epochs) {
  std::sort(epochs.begin(), epochs.end(),
            [](const EpochMetrics& a, const EpochMetrics& b) { return a.epoch < b.epoch; });
  TrialSummary s;
  s.trial = trial;
  s.trial.epochs_done = static_cast<std::int64_t>(epochs.size());
  s.diverged_epoch = divergence_epoch(trial, epochs);
  s.wall_seconds = finite_seconds(epochs);
  if (!epochs.empty()) s.mean_epoch_s = s.wall_seconds / static_cast<double>(epochs.size());
  if (const EpochMetrics* best = best_epoch(epochs, &EpochMetrics::val_acc)) {
    s.best_val_acc = best->val_acc;
    s.best_val_epoch = best->epoch;
    if (std::isfinite(best->test_acc)) s.test_at_best_val = best->test_acc;
  }
  for (const auto& m : epochs)
    for (std::size_t i = 0; i < kAccuracyThresholds.size(); ++i)
      if (!s.first_epoch_at[i] && std::isfinite(m.val_acc) && m.val_acc >= kAccuracyThresholds[i])
        s.first_epoch_at[i] = m.epoch;
  if (!epochs.empty() && std::isfinite(epochs.back().test_acc))
    s.final_test_acc = epochs.back().test_acc;
  return s;
}

std::vector<TrialRecord> select_trials(Store& store, const std::vector<std::string>& ids) {
  std::vector<TrialRecord> all = store.trials();
  if (ids.empty()) return all;
  std::map<std::string, TrialRecord> by_id;
  for (auto& t : all) by_id.emplace(t.spec.id, std::move(t));
  std::vector<TrialRecord> out;
  for (const auto& id : ids)
    if (auto it = by_id.find(id); it != by_id.end()) out.push_back(it->second);
  return out;
}

std::vector<std::string> current_ids(Store& store) {
  const auto info = store.study();
  return info ? info->trial_ids : std::vector<std::string>{};
}

std::vector<TrialRecord> current_trials(Store& store) {
  return select_trials(store, current_ids(store));
}

}  // namespace lrtune
