// A report's repeat-group means and trial status texts.
#include "report/summary.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace lrtune::report {

std::string status_text(const TrialSummary& s) {
  switch (s.status()) {
    case RunStatus::diverged:
      return "diverged @ep " + std::to_string(s.diverged_epoch.value_or(0));
    case RunStatus::running:
    case RunStatus::pending:
    case RunStatus::pruned:
    case RunStatus::stopped:
      if (s.trial.epochs_done == 0) return to_string(s.status());
      return std::string(to_string(s.status())) + " " + std::to_string(s.trial.epochs_done) + "/" +
             std::to_string(s.trial.spec.epochs_total);
    default:
      return to_string(s.status());
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
    std::string key = group_key(t.label());
    if (std::find(order.begin(), order.end(), key) == order.end()) order.push_back(key);
  }
  std::vector<GroupSummary> out;
  for (const auto& key : order) {
    GroupSummary g;
    g.label = key;
    std::vector<std::optional<double>> best, at_best, final_test;
    for (const auto& t : trials) {
      if (group_key(t.label()) != key) continue;
      ++g.trials;
      if (t.status() == RunStatus::diverged) ++g.diverged;
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
