// Median and ASHA pruners (see pruner.h).
#include "search/pruner.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lrtune::search {

double percentile(std::vector<double> values, double q) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
               values.end());
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double pos = q / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
}

bool MedianPruner::prune(const Curve& trial, const std::vector<Curve>& others,
                         std::int64_t epoch) const {
  if (epoch <= warmup_ || !trial.has(epoch)) return false;
  std::vector<double> at_epoch;
  std::int64_t complete = 0;
  for (const auto& c : others) {
    if (!c.complete) continue;
    ++complete;
    if (c.has(epoch)) at_epoch.push_back(c.at(epoch));
  }
  if (complete == 0 || complete < startup_) return false;
  double best = std::numeric_limits<double>::quiet_NaN();
  for (std::int64_t e = 1; e <= epoch; ++e)
    if (!std::isnan(trial.at(e)) && !(trial.at(e) >= best)) best = trial.at(e);
  if (std::isnan(best)) return true;  // nothing but diverged epochs
  const double median = percentile(at_epoch, 50);
  return !std::isnan(median) && best > median;
}

std::vector<std::int64_t> AshaPruner::rungs(std::int64_t max_epoch) const {
  std::vector<std::int64_t> out;
  for (std::int64_t r = min_; r <= max_epoch; r *= eta_) out.push_back(r);
  return out;
}

bool AshaPruner::prune(const Curve& trial, const std::vector<Curve>& others,
                       std::int64_t epoch) const {
  const auto at_rung = rungs(epoch);
  if (at_rung.empty() || at_rung.back() != epoch || !trial.has(epoch)) return false;
  const double value = trial.at(epoch);
  if (std::isnan(value)) return true;
  std::vector<double> competing{value};
  for (const auto& c : others)
    if (c.has(epoch)) competing.push_back(std::isnan(c.at(epoch)) ? std::numeric_limits<double>::infinity() : c.at(epoch));
  std::sort(competing.begin(), competing.end());
  auto idx = static_cast<std::int64_t>(competing.size()) / eta_ - 1;
  if (idx < 0) idx = 0;
  return value > competing[static_cast<std::size_t>(idx)];
}

std::unique_ptr<Pruner> make_pruner(const SearchSpec& spec) {
  if (spec.pruner == "median")
    return std::make_unique<MedianPruner>(spec.prune_startup_trials, spec.prune_warmup_epochs);
  if (spec.pruner == "asha") return std::make_unique<AshaPruner>(spec.min_epochs, spec.eta);
  return nullptr;
}

}  // namespace lrtune::search
