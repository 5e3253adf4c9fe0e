// Pruners: whether a running trial should stop after an epoch, from its curve
// and the other trials' curves. Pure functions of the stored epochs, so any
// worker (or a study run again) decides the same.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "search/space.h"

namespace lrtune::search {

// One trial's objective after each epoch (index 0 = epoch 1), turned so that
// lower is better (val_acc is negated); NaN for a diverged epoch.
struct Curve {
  std::vector<double> loss;
  bool complete = false;  // trained all its epochs (done)
  std::int64_t number = -1;  // the trial's number in the study (0-based), -1 unknown
  bool has(std::int64_t epoch) const { return epoch >= 1 && epoch <= static_cast<std::int64_t>(loss.size()); }
  double at(std::int64_t epoch) const { return loss[static_cast<std::size_t>(epoch - 1)]; }
};

class Pruner {
 public:
  virtual ~Pruner() = default;
  // After `epoch` of `trial` (its curve holds epochs 1..epoch); `others` are
  // the study's other trials in any state.
  virtual bool prune(const Curve& trial, const std::vector<Curve>& others,
                     std::int64_t epoch) const = 0;
};

// Optuna's MedianPruner: stop a trial whose best loss so far is worse than
// the median of the complete trials' losses at this epoch; never before
// `startup_trials` trials are complete, nor in the first `warmup_epochs`.
class MedianPruner final : public Pruner {
 public:
  MedianPruner(std::int64_t startup_trials, std::int64_t warmup_epochs)
      : startup_(startup_trials), warmup_(warmup_epochs) {}
  bool prune(const Curve& trial, const std::vector<Curve>& others, std::int64_t epoch) const override;

 private:
  std::int64_t startup_, warmup_;
};

// Asynchronous successive halving (Optuna's SuccessiveHalvingPruner): rungs at
// min_epochs * eta^k epochs. A trial reaching a rung goes on when its loss
// there is among the best 1/eta of all trials that reached the rung so far
// (itself included; alone, it goes on), and stops otherwise: no waiting. A
// diverged (NaN) loss at a rung stops the trial and competes with no one.
class AshaPruner final : public Pruner {
 public:
  AshaPruner(std::int64_t min_epochs, std::int64_t eta) : min_(min_epochs), eta_(eta) {}
  bool prune(const Curve& trial, const std::vector<Curve>& others, std::int64_t epoch) const override;
  // The rung epochs up to `max_epoch`: min, min*eta, ...
  std::vector<std::int64_t> rungs(std::int64_t max_epoch) const;

 private:
  std::int64_t min_, eta_;
};

// Hyperband (Optuna's HyperbandPruner, max_resource = the trials' epochs):
// n = floor(log_eta(max / min)) + 1 successive-halving brackets; bracket b
// has rungs at min * eta^(b + k) and takes ceil(n * eta^s / (s + 1)) of every
// sum-of-these trials (s = n - 1 - b), a trial's bracket being
// crc32("STUDY_NUMBER") modulo that sum. A trial competes only with its own
// bracket, so late brackets judge on longer curves.
class HyperbandPruner final : public Pruner {
 public:
  // No brackets (it never prunes) when max_epochs < min_epochs, as in Optuna.
  HyperbandPruner(std::int64_t min_epochs, std::int64_t max_epochs, std::int64_t eta,
                  std::string study_name);
  bool prune(const Curve& trial, const std::vector<Curve>& others, std::int64_t epoch) const override;
  std::int64_t brackets() const { return static_cast<std::int64_t>(budgets_.size()); }
  // Trials per bracket in each round of their sum (Optuna's allocation budgets).
  const std::vector<std::int64_t>& budgets() const { return budgets_; }
  // The bracket of the trial with this number (0-based).
  std::int64_t bracket_of(std::int64_t number) const;
  // The rung epochs of bracket b up to `max_epoch`.
  std::vector<std::int64_t> rungs(std::int64_t bracket, std::int64_t max_epoch) const;

 private:
  // Bracket b: successive halving from min * eta^b among the bracket's trials.
  AshaPruner bracket_pruner(std::int64_t bracket) const;
  std::int64_t min_, eta_;
  std::string study_;
  std::vector<std::int64_t> budgets_;  // trials per bracket in each round of their sum
  std::int64_t total_ = 0;             // their sum
};

// None for pruner = "none". `max_epochs` (the most epochs a trial has) and
// the study's name matter to Hyperband.
std::unique_ptr<Pruner> make_pruner(const SearchSpec& spec, std::int64_t max_epochs = 0,
                                    const std::string& study_name = "");

// numpy.percentile's default (linear) of values, NaN left out; NaN when none.
double percentile(std::vector<double> values, double q);

}  // namespace lrtune::search
