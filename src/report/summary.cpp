// Table numbers of a report: best and final accuracies, threshold epochs,
// divergence, and repeat-group means.
#include "report/summary.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace lrtune::report {

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
  s.id = trial.spec.id;
  s.label = trial.spec.label;
  s.status = trial.status;
  s.error = trial.error;
  s.epochs_total = trial.spec.epochs_total;
  s.epochs_done = static_cast<std::int64_t>(epochs.size());
  s.diverged_epoch = divergence_epoch(trial, epochs);
  for (const auto& m : epochs) {
    if (std::isfinite(m.seconds)) s.wall_seconds += m.seconds;
    if (std::isfinite(m.val_acc)) {
      if (!s.best_val_acc || m.val_acc > *s.best_val_acc) {
        s.best_val_acc = m.val_acc;
        s.best_val_epoch = m.epoch;
        s.test_at_best_val =
            std::isfinite(m.test_acc) ? std::optional<double>(m.test_acc) : std::nullopt;
      }
      for (std::size_t i = 0; i < kAccuracyThresholds.size(); ++i)
        if (!s.first_epoch_at[i] && m.val_acc >= kAccuracyThresholds[i])
          s.first_epoch_at[i] = m.epoch;
    }
  }
  if (!epochs.empty() && std::isfinite(epochs.back().test_acc))
    s.final_test_acc = epochs.back().test_acc;
  return s;
}

std::string status_text(const TrialSummary& s) {
  switch (s.status) {
    case RunStatus::diverged:
      return "diverged @ep " + std::to_string(s.diverged_epoch.value_or(0));
    case RunStatus::running:
    case RunStatus::pending:
    case RunStatus::pruned:
    case RunStatus::stopped:
      if (s.epochs_done == 0) return to_string(s.status);
      return std::string(to_string(s.status)) + " " + std::to_string(s.epochs_done) + "/" +
             std::to_string(s.epochs_total);
    default:
      return to_string(s.status);
  }
}

std::string group_key(const std::string& label) {
  std::istringstream words(label);
  std::string word, out;
  while (words >> word) {
    bool repeat_word = word.rfind("seed=", 0) == 0 || word.rfind("repeat=", 0) == 0 ||
                       word.rfind("rep=", 0) == 0;
    if (repeat_word) continue;
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

Spread spread(const std::vector<std::optional<double>>& values) {
  Spread s;
  double sum = 0;
  for (const auto& v : values)
    if (v) { ++s.n; sum += *v; }
  if (s.n == 0) return s;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n > 1) {
    double sq = 0;
    for (const auto& v : values)
      if (v) sq += (*v - s.mean) * (*v - s.mean);
    s.std = std::sqrt(sq / static_cast<double>(s.n - 1));
  }
  return s;
}

std::vector<GroupSummary> summarize_groups(const std::vector<TrialSummary>& trials) {
  std::vector<std::string> order;
  for (const auto& t : trials) {
    std::string key = group_key(t.label);
    if (std::find(order.begin(), order.end(), key) == order.end()) order.push_back(key);
  }
  std::vector<GroupSummary> out;
  for (const auto& key : order) {
    GroupSummary g;
    g.label = key;
    std::vector<std::optional<double>> best, at_best, final_test;
    for (const auto& t : trials) {
      if (group_key(t.label) != key) continue;
      ++g.trials;
      if (t.status == RunStatus::diverged) ++g.diverged;
      best.push_back(t.best_val_acc);
      at_best.push_back(t.test_at_best_val);
      final_test.push_back(t.final_test_acc);
    }
    g.best_val_acc = spread(best);
    g.test_at_best_val = spread(at_best);
    g.final_test_acc = spread(final_test);
    out.push_back(g);
  }
  return out;
}

}  // namespace lrtune::report
