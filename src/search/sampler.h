// Samplers: where the next trial of a search goes, from the trials so far.
// Pure functions of (spec, history, trial number): two workers, or one
// study run again, given the same stored history draw the same point.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "search/space.h"

namespace lrtune::search {

// One earlier trial as a sampler sees it. Losses are the objective turned so
// that lower is better (val_acc is negated).
struct Observation {
  enum class State { complete, pruned, running };
  std::map<std::string, double> params;  // internal numbers of the keys it searched
  State state = State::complete;
  double loss = 0;              // complete: its objective
  std::int64_t last_epoch = 0;  // pruned: the last epoch it trained
  double last_loss = 0;         // pruned: the objective at that epoch
};

// Deterministic draws: a 64-bit Mersenne Twister (its output sequence is fixed
// by the C++ standard) seeded from the search seed and the trial number, with
// our own conversions (the standard's distributions differ between libraries).
class Rng {
 public:
  Rng(std::uint64_t seed, std::uint64_t stream);
  double uniform();                      // [0, 1)
  double uniform(double lo, double hi);  // [lo, hi)
  double normal();                       // standard normal
  std::size_t index(std::size_t n);      // 0 .. n-1
  std::size_t pick(const std::vector<double>& weights);  // by weight (sum > 0)

 private:
  std::mt19937_64 gen_;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // The internal numbers of trial `number` (0-based, in the order trials were
  // added), keys whose condition fails left out.
  virtual std::map<std::string, double> sample(const std::vector<Observation>& history,
                                               std::uint64_t number) const = 0;
};

// One value of `p` drawn uniformly (log-uniformly on a log scale; evenly over
// the steps or whole numbers; a choice's index).
double draw_uniform(const Param& p, Rng& rng);

// Every key of the space drawn so (conditional keys only when they hold).
std::map<std::string, double> draw_all_uniform(const SearchSpec& spec, Rng& rng);

// Whether `p` is searched given the keys drawn before it.
bool active(const Param& p, const std::map<std::string, double>& drawn, const SearchSpec& spec);

std::unique_ptr<Sampler> make_sampler(const SearchSpec& spec);  // random or tpe

class RandomSampler final : public Sampler {
 public:
  explicit RandomSampler(SearchSpec spec) : spec_(std::move(spec)) {}
  std::map<std::string, double> sample(const std::vector<Observation>& history,
                                       std::uint64_t number) const override;

 private:
  SearchSpec spec_;
};

// The tree-structured Parzen estimator, univariate, with Optuna 3.1's
// defaults: startup_trials random trials, then per key a Parzen estimator of
// the best gamma(n) = min(ceil(0.1 n), 25) trials (l) and of the rest (g),
// each with a prior; ei_candidates draws from l, keeping the one with the
// highest l(x)/g(x). Running trials count as the worst results ("constant
// liar"), so workers drawing at once spread out. Pruned trials rank after the
// complete ones, those that trained longer first. Densities are those of
// properly scaled truncated normals: Optuna 3.1 left out each component's
// 1/sigma (its issue #5109), fixed since Optuna 3.5; we follow the fix.
class TpeSampler final : public Sampler {
 public:
  explicit TpeSampler(SearchSpec spec) : spec_(std::move(spec)) {}
  std::map<std::string, double> sample(const std::vector<Observation>& history,
                                       std::uint64_t number) const override;

 private:
  SearchSpec spec_;
};

// Optuna's default_gamma and default_weights, used by TpeSampler.
std::size_t tpe_gamma(std::size_t n);
std::vector<double> tpe_weights(std::size_t n);

// A univariate Parzen estimator over one key's internal numbers (exposed for
// tests): a mixture of truncated normals (numbers) or of category weights
// (choices), one component per observation plus a prior.
class ParzenEstimator {
 public:
  ParzenEstimator(const Param& p, const std::vector<double>& observations);
  double sample(Rng& rng) const;    // an internal number
  double log_pdf(double x) const;   // of an internal number

 private:
  double to_space(double x) const;    // log for a log scale
  double from_space(double y) const;  // back, rounded to steps, clipped

  const Param& p_;
  std::vector<double> weights_;
  // numbers
  double low_ = 0, high_ = 0, q_ = 0;  // in the estimator's space
  std::vector<double> mus_, sigmas_;
  // choices: one row of category probabilities per component
  std::vector<std::vector<double>> categories_;
};

}  // namespace lrtune::search
