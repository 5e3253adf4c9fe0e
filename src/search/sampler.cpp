// Random and TPE samplers (see sampler.h).
#include "search/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace lrtune::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// log(erfc(x)), also far in the tail where erfc underflows.
double log_erfc(double x) {
  if (x < 25) return std::log(std::erfc(x));
  const double x2 = x * x;
  return -x2 - std::log(x) - 0.5 * std::log(kPi) + std::log1p(-0.5 / x2);
}

// log(Phi(b) - Phi(a)) for a <= b, without cancellation in either tail.
double log_gauss_mass(double a, double b) {
  if (!(b > a)) return -kInf;
  if (b - a < 1e-6) {  // a thin slice: the density times the width
    const double m = 0.5 * (a + b);
    return std::log(b - a) - 0.5 * m * m - 0.5 * std::log(2 * kPi);
  }
  if (a >= 0) {  // both in the upper tail: 0.5 (erfc(a/√2) - erfc(b/√2))
    const double la = log_erfc(a / std::sqrt(2.0)), lb = log_erfc(b / std::sqrt(2.0));
    return la + std::log1p(-std::exp(lb - la)) - std::log(2.0);
  }
  if (b <= 0) return log_gauss_mass(-b, -a);
  return std::log1p(-0.5 * std::erfc(-a / std::sqrt(2.0)) - 0.5 * std::erfc(b / std::sqrt(2.0)));
}

double log_sum_exp(const std::vector<double>& v) {
  double top = -kInf;
  for (double x : v) top = std::max(top, x);
  if (!std::isfinite(top)) return top;
  double sum = 0;
  for (double x : v) sum += std::exp(x - top);
  return top + std::log(sum);
}

// NaN ranks as the worst loss.
double rank_loss(double x) { return std::isnan(x) ? kInf : x; }

}  // namespace

Rng::Rng(std::uint64_t seed, std::uint64_t stream)
    : gen_(splitmix64(splitmix64(seed) ^ splitmix64(stream ^ 0xA5A5A5A5A5A5A5A5ULL))) {}

double Rng::uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Rng::normal() {  // Box–Muller
  const double u1 = 1.0 - uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * u2);
}

std::size_t Rng::index(std::size_t n) {
  return std::min(n - 1, static_cast<std::size_t>(uniform() * static_cast<double>(n)));
}

std::size_t Rng::pick(const std::vector<double>& weights) {
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double r = uniform() * total;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  return weights.size() - 1;
}

double draw_uniform(const Param& p, Rng& rng) {
  if (p.dist == Dist::choice) return static_cast<double>(rng.index(p.choices.size()));
  if (p.log()) {
    if (!p.integer) return std::clamp(std::exp(rng.uniform(std::log(p.low), std::log(p.high))), p.low, p.high);
    const double x = std::exp(rng.uniform(std::log(p.low - 0.5), std::log(p.high + 0.5)));
    return std::clamp(std::round(x), p.low, p.high);
  }
  if (p.step > 0) {
    const auto n = static_cast<std::size_t>(std::floor((p.high - p.low) / p.step + 1e-9)) + 1;
    return p.low + static_cast<double>(rng.index(n)) * p.step;
  }
  return rng.uniform(p.low, p.high);
}

bool active(const Param& p, const std::map<std::string, double>& drawn, const SearchSpec& spec) {
  if (!p.when) return true;
  const auto it = drawn.find(p.when->key);
  const Param* parent = spec.find(p.when->key);
  if (it == drawn.end() || !parent) return false;
  const nlohmann::json v = parent->value(it->second);
  return v.is_number() && p.when->holds(v.get<double>());
}

std::unique_ptr<Sampler> make_sampler(const SearchSpec& spec) {
  if (spec.sampler == "tpe") return std::make_unique<TpeSampler>(spec);
  return std::make_unique<RandomSampler>(spec);
}

std::map<std::string, double> draw_all_uniform(const SearchSpec& spec, Rng& rng) {
  std::map<std::string, double> out;
  for (const auto& p : spec.space)
    if (active(p, out, spec)) out[p.key] = draw_uniform(p, rng);
  return out;
}

std::map<std::string, double> RandomSampler::sample(const std::vector<Observation>&,
                                                    std::uint64_t number) const {
  Rng rng(spec_.seed, number);
  return draw_all_uniform(spec_, rng);
}

std::size_t tpe_gamma(std::size_t n) {
  return std::min<std::size_t>(static_cast<std::size_t>(std::ceil(0.1 * static_cast<double>(n))), 25);
}

std::vector<double> tpe_weights(std::size_t n) {
  if (n < 25) return std::vector<double>(n, 1.0);
  std::vector<double> w;
  const std::size_t ramp = n - 25;  // numpy.linspace(1/n, 1, n - 25), then 25 ones
  for (std::size_t i = 0; i < ramp; ++i)
    w.push_back(ramp == 1 ? 1.0 / static_cast<double>(n)
                          : 1.0 / static_cast<double>(n) +
                                (1.0 - 1.0 / static_cast<double>(n)) * static_cast<double>(i) /
                                    static_cast<double>(ramp - 1));
  w.insert(w.end(), 25, 1.0);
  return w;
}

ParzenEstimator::ParzenEstimator(const Param& p, const std::vector<double>& observations) : p_(p) {
  const std::size_t n = observations.size();
  weights_ = tpe_weights(n);
  weights_.push_back(1.0);  // the prior
  const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  for (double& w : weights_) w /= total;

  if (p.dist == Dist::choice) {
    const std::size_t k = p.choices.size();
    const double prior = 1.0 / static_cast<double>(n + 1);
    for (std::size_t i = 0; i <= n; ++i) {
      std::vector<double> row(k, prior);
      if (i < n) row[static_cast<std::size_t>(observations[i])] += 1;
      const double s = std::accumulate(row.begin(), row.end(), 0.0);
      for (double& c : row) c /= s;
      categories_.push_back(std::move(row));
    }
    return;
  }
  if (p.log()) {
    low_ = std::log(p.integer ? p.low - 0.5 : p.low);
    high_ = std::log(p.integer ? p.high + 0.5 : p.high);
  } else {
    q_ = p.step;
    low_ = p.low - 0.5 * q_;
    high_ = p.high + 0.5 * q_;
  }
  for (double x : observations) mus_.push_back(to_space(x));
  mus_.push_back(0.5 * (low_ + high_));  // the prior
  // Each component as wide as the larger gap to its neighbours (the range's
  // ends count as neighbours, except for the outermost observations).
  std::vector<std::size_t> order(mus_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return mus_[a] < mus_[b]; });
  std::vector<double> sorted{low_};
  for (auto i : order) sorted.push_back(mus_[i]);
  sorted.push_back(high_);
  std::vector<double> sorted_sigma(mus_.size());
  for (std::size_t j = 0; j < mus_.size(); ++j)
    sorted_sigma[j] = std::max(sorted[j + 1] - sorted[j], sorted[j + 2] - sorted[j + 1]);
  if (sorted.size() >= 4) {
    sorted_sigma.front() = sorted[2] - sorted[1];
    sorted_sigma[mus_.size() - 1] = sorted[sorted.size() - 2] - sorted[sorted.size() - 3];
  }
  sigmas_.assign(mus_.size(), 0);
  for (std::size_t j = 0; j < order.size(); ++j) sigmas_[order[j]] = sorted_sigma[j];
  const double range = high_ - low_;
  const double min_sigma = range / std::min(100.0, 1.0 + static_cast<double>(mus_.size()));
  for (double& s : sigmas_) s = std::clamp(s, min_sigma, range);
  sigmas_.back() = range;  // the prior's
}

double ParzenEstimator::to_space(double x) const { return p_.log() ? std::log(x) : x; }

double ParzenEstimator::from_space(double y) const {
  if (p_.log()) {
    const double x = std::exp(y);
    return std::clamp(p_.integer ? std::round(x) : x, p_.low, p_.high);
  }
  if (q_ > 0) return std::clamp(std::round((y - p_.low) / q_) * q_ + p_.low, p_.low, p_.high);
  return std::clamp(y, p_.low, p_.high);
}

double ParzenEstimator::sample(Rng& rng) const {
  const std::size_t i = rng.pick(weights_);
  if (p_.dist == Dist::choice) return static_cast<double>(rng.pick(categories_[i]));
  // A normal truncated to the range, by rejection: each component keeps a
  // fair share of its mass inside (its centre is inside, its width at least
  // range / 100), so a few tries are enough.
  for (int tries = 0; tries < 1000; ++tries) {
    const double y = mus_[i] + sigmas_[i] * rng.normal();
    if (y >= low_ && y <= high_) return from_space(y);
  }
  return from_space(std::clamp(mus_[i], low_, high_));
}

double ParzenEstimator::log_pdf(double x) const {
  std::vector<double> terms(weights_.size());
  if (p_.dist == Dist::choice) {
    const auto c = static_cast<std::size_t>(x);
    double p = 0;
    for (std::size_t i = 0; i < weights_.size(); ++i) p += weights_[i] * categories_[i][c];
    return std::log(p);
  }
  const double y = to_space(x);
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    const double mu = mus_[i], s = sigmas_[i];
    const double inside = log_gauss_mass((low_ - mu) / s, (high_ - mu) / s);
    double lp;
    if (q_ > 0) {
      const double lo = std::max(y - 0.5 * q_, low_), hi = std::min(y + 0.5 * q_, high_);
      lp = log_gauss_mass((lo - mu) / s, (hi - mu) / s) - inside;
    } else {
      const double z = (y - mu) / s;
      lp = -0.5 * z * z - std::log(s) - 0.5 * std::log(2 * kPi) - inside;
    }
    terms[i] = std::log(weights_[i]) + lp;
  }
  return log_sum_exp(terms);
}

std::map<std::string, double> TpeSampler::sample(const std::vector<Observation>& history,
                                                 std::uint64_t number) const {
  using State = Observation::State;
  Rng rng(spec_.seed, number);
  std::size_t n = 0;  // finished trials: running ones are not results yet
  for (const auto& o : history) n += o.state != State::running;
  if (n < static_cast<std::size_t>(spec_.startup_trials)) return draw_all_uniform(spec_, rng);
  // Rank: complete trials by loss, then pruned ones (longer first, then by
  // their last loss), then running ones (the constant liar: worst of all).
  struct Key {
    double a, b;
  };
  std::vector<Key> keys;
  for (const auto& o : history) {
    if (o.state == State::complete) keys.push_back({-kInf, rank_loss(o.loss)});
    else if (o.state == State::pruned)
      keys.push_back({-static_cast<double>(o.last_epoch), rank_loss(o.last_loss)});
    else keys.push_back({kInf, kInf});
  }
  std::vector<std::size_t> order(history.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto i, auto j) {
    return keys[i].a < keys[j].a || (keys[i].a == keys[j].a && keys[i].b < keys[j].b);
  });
  const std::size_t n_below = std::min(tpe_gamma(n), order.size());
  std::vector<std::size_t> below(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_below));
  std::vector<std::size_t> above(order.begin() + static_cast<std::ptrdiff_t>(n_below), order.end());
  std::sort(below.begin(), below.end());  // oldest first: the weights favour recent trials
  std::sort(above.begin(), above.end());

  const auto values_of = [&](const std::vector<std::size_t>& idx, const std::string& key) {
    std::vector<double> v;
    for (auto i : idx) {
      const auto it = history[i].params.find(key);
      if (it != history[i].params.end()) v.push_back(it->second);
    }
    return v;
  };
  std::map<std::string, double> out;
  for (const auto& p : spec_.space) {
    if (!active(p, out, spec_)) continue;
    const ParzenEstimator l(p, values_of(below, p.key)), g(p, values_of(above, p.key));
    double best = 0, best_score = -kInf;
    for (std::int64_t c = 0; c < spec_.ei_candidates; ++c) {
      const double x = l.sample(rng);
      const double score = l.log_pdf(x) - g.log_pdf(x);
      if (c == 0 || score > best_score) best = x, best_score = score;
    }
    out[p.key] = best;
  }
  return out;
}

}  // namespace lrtune::search
