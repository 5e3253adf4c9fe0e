// Median, ASHA and Hyperband pruners (see pruner.h).
#include "search/pruner.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <zlib.h>

namespace lrtune::search {
namespace {

// Successive halving's rule at a rung (Optuna's _is_trial_promotable_to_next_rung):
// the trial goes on when its loss is no worse than the k-th best of the
// rung's losses, k = max(1, n / eta), n counting itself. NaN losses of the
// others never reached a rung (they were stopped there) and are left out.
bool halving_prunes(double value, const std::vector<double>& others, std::int64_t eta) {
  if (std::isnan(value)) return true;
  std::vector<double> competing{value};
  for (double v : others)
    if (!std::isnan(v)) competing.push_back(v);
  std::sort(competing.begin(), competing.end());
  const auto idx = std::max<std::int64_t>(static_cast<std::int64_t>(competing.size()) / eta - 1, 0);
  return value > competing[static_cast<std::size_t>(idx)];
}

}  // namespace

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
  std::vector<double> rivals;
  for (const auto& c : others)
    if (c.has(epoch)) rivals.push_back(c.at(epoch));
  return halving_prunes(trial.at(epoch), rivals, eta_);
}

HyperbandPruner::HyperbandPruner(std::int64_t min_epochs, std::int64_t max_epochs,
                                 std::int64_t eta, std::string study_name)
    : min_(min_epochs), eta_(eta), study_(std::move(study_name)) {
  // In doubles, as Optuna (math.log(R / r, eta)): log_3(243) comes out just
  // under 5, so 5 brackets, not 6, and the same trials meet as in Optuna.
  const double log_ratio = std::log(static_cast<double>(max_epochs) / static_cast<double>(min_)) /
                           std::log(static_cast<double>(eta_));
  const auto n = static_cast<std::int64_t>(std::floor(log_ratio)) + 1;
  for (std::int64_t b = 0; b < n; ++b) {
    const auto s = static_cast<double>(n - 1 - b);
    budgets_.push_back(static_cast<std::int64_t>(
        std::ceil(static_cast<double>(n) * std::pow(static_cast<double>(eta_), s) / (s + 1))));
    total_ += budgets_.back();
  }
}

std::int64_t HyperbandPruner::bracket_of(std::int64_t number) const {
  if (total_ == 0) return 0;
  const std::string key = study_ + "_" + std::to_string(number);
  const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(key.data()), static_cast<uInt>(key.size()));
  auto left = static_cast<std::int64_t>(crc % static_cast<unsigned long>(total_));
  for (std::size_t b = 0; b < budgets_.size(); ++b) {
    left -= budgets_[b];
    if (left < 0) return static_cast<std::int64_t>(b);
  }
  return brackets() - 1;
}

AshaPruner HyperbandPruner::bracket_pruner(std::int64_t bracket) const {
  std::int64_t first = min_;
  for (std::int64_t i = 0; i < bracket; ++i) first *= eta_;
  return AshaPruner(first, eta_);
}

std::vector<std::int64_t> HyperbandPruner::rungs(std::int64_t bracket, std::int64_t max_epoch) const {
  return bracket_pruner(bracket).rungs(max_epoch);
}

bool HyperbandPruner::prune(const Curve& trial, const std::vector<Curve>& others,
                            std::int64_t epoch) const {
  if (budgets_.empty() || trial.number < 0) return false;
  const std::int64_t bracket = bracket_of(trial.number);
  std::vector<Curve> mates;
  for (const auto& c : others)
    if (c.number >= 0 && c.has(epoch) && bracket_of(c.number) == bracket) mates.push_back(c);
  return bracket_pruner(bracket).prune(trial, mates, epoch);
}

std::unique_ptr<Pruner> make_pruner(const SearchSpec& spec, std::int64_t max_epochs,
                                    const std::string& study_name) {
  if (spec.pruner == "median")
    return std::make_unique<MedianPruner>(spec.prune_startup_trials, spec.prune_warmup_epochs);
  if (spec.pruner == "asha") return std::make_unique<AshaPruner>(spec.min_epochs, spec.eta);
  if (spec.pruner == "hyperband")
    return std::make_unique<HyperbandPruner>(spec.hyperband_min_epochs, max_epochs,
                                             spec.hyperband_eta, study_name);
  return nullptr;
}

}  // namespace lrtune::search
