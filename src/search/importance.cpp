// fANOVA over a random forest of regression trees (see importance.h).
#include "search/importance.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "search/sampler.h"

namespace lrtune::search {
namespace {

constexpr int kTrees = 64;

// A feature's axis: the key's internal scale and its bounds.
struct Axis {
  const Param* param;
  double lo, hi;
};

double feature(const Param& p, const nlohmann::json& v) {
  if (p.dist == Dist::choice) {
    for (std::size_t i = 0; i < p.choices.size(); ++i)
      if (p.choices[i] == v) return static_cast<double>(i);
    return 0;
  }
  return v.get<double>();
}

Axis axis_of(const Param& p) {
  if (p.dist == Dist::choice) return {&p, -0.5, static_cast<double>(p.choices.size()) - 0.5};
  return {&p, p.low, p.high};
}

struct Node {
  int feature = -1;  // -1: a leaf
  double threshold = 0, value = 0;
  int left = -1, right = -1;
};

// A CART regression tree grown to pure or single-sample leaves (sklearn's
// RandomForestRegressor defaults: squared error, every feature tried, the
// split at the midpoint between neighbouring values).
class Tree {
 public:
  Tree(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
       std::vector<std::size_t> rows) : x_(x), y_(y) { grow(std::move(rows)); }
  const std::vector<Node>& nodes() const { return nodes_; }

 private:
  int grow(std::vector<std::size_t> rows) {
    const int id = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    double sum = 0;
    for (auto r : rows) sum += y_[r];
    nodes_[id].value = sum / static_cast<double>(rows.size());
    double best_gain = 1e-12, best_threshold = 0;
    int best_feature = -1;
    for (std::size_t f = 0; f < x_[0].size(); ++f) {
      std::sort(rows.begin(), rows.end(), [&](auto a, auto b) { return x_[a][f] < x_[b][f]; });
      double left_sum = 0;
      for (std::size_t i = 0; i + 1 < rows.size(); ++i) {
        left_sum += y_[rows[i]];
        if (x_[rows[i]][f] == x_[rows[i + 1]][f]) continue;
        const double nl = static_cast<double>(i + 1), nr = static_cast<double>(rows.size() - i - 1);
        const double right_sum = sum - left_sum;
        // Reduction of the squared error: the children's sum^2/n against the parent's.
        const double gain = left_sum * left_sum / nl + right_sum * right_sum / nr -
                            sum * sum / static_cast<double>(rows.size());
        if (gain > best_gain) {
          best_gain = gain;
          best_feature = static_cast<int>(f);
          best_threshold = 0.5 * (x_[rows[i]][f] + x_[rows[i + 1]][f]);
        }
      }
    }
    if (best_feature < 0) return id;
    std::vector<std::size_t> left, right;
    for (auto r : rows) (x_[r][best_feature] <= best_threshold ? left : right).push_back(r);
    nodes_[id].feature = best_feature;
    nodes_[id].threshold = best_threshold;
    const int l = grow(std::move(left));
    const int r = grow(std::move(right));
    nodes_[id].left = l;
    nodes_[id].right = r;
    return id;
  }
  const std::vector<std::vector<double>>& x_;
  const std::vector<double>& y_;
  std::vector<Node> nodes_;
};

// A leaf's box within the space, and its prediction.
struct Leaf {
  std::vector<double> lo, hi;
  double value;
};

void leaves(const std::vector<Node>& nodes, int id, std::vector<double> lo, std::vector<double> hi,
            std::vector<Leaf>& out) {
  const Node& n = nodes[static_cast<std::size_t>(id)];
  if (n.feature < 0) {
    out.push_back({std::move(lo), std::move(hi), n.value});
    return;
  }
  const auto f = static_cast<std::size_t>(n.feature);
  auto left_hi = hi, right_lo = lo;
  left_hi[f] = std::min(hi[f], n.threshold);
  right_lo[f] = std::max(lo[f], n.threshold);
  leaves(nodes, n.left, lo, std::move(left_hi), out);
  leaves(nodes, n.right, std::move(right_lo), std::move(hi), out);
}

// Each feature's share of one tree's variance over the space (uniform
// measure on the axes): the variance of its marginal over the total.
std::vector<double> tree_shares(const std::vector<Node>& nodes, const std::vector<Axis>& axes) {
  const std::size_t d = axes.size();
  std::vector<double> lo(d), hi(d);
  for (std::size_t f = 0; f < d; ++f) lo[f] = axes[f].lo, hi[f] = axes[f].hi;
  std::vector<Leaf> ls;
  leaves(nodes, 0, lo, hi, ls);
  auto width = [&](const Leaf& l, std::size_t f) {
    return std::max(0.0, l.hi[f] - l.lo[f]) / (axes[f].hi - axes[f].lo);
  };
  double mean = 0, total = 0;
  std::vector<double> weight(ls.size(), 1.0);
  for (std::size_t i = 0; i < ls.size(); ++i) {
    for (std::size_t f = 0; f < d; ++f) weight[i] *= width(ls[i], f);
    mean += weight[i] * ls[i].value;
  }
  for (std::size_t i = 0; i < ls.size(); ++i) total += weight[i] * std::pow(ls[i].value - mean, 2);
  std::vector<double> shares(d, 0.0);
  if (total <= 0) return shares;
  for (std::size_t f = 0; f < d; ++f) {
    std::vector<double> cuts = {axes[f].lo, axes[f].hi};
    for (const auto& n : nodes)
      if (n.feature == static_cast<int>(f)) cuts.push_back(n.threshold);
    std::sort(cuts.begin(), cuts.end());
    double var = 0;
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
      const double mid = 0.5 * (cuts[k] + cuts[k + 1]);
      double marginal = 0;  // the prediction at x_f = mid, averaged over the other axes
      for (std::size_t i = 0; i < ls.size(); ++i)
        if (ls[i].lo[f] <= mid && mid <= ls[i].hi[f] && width(ls[i], f) > 0)
          marginal += ls[i].value * weight[i] / width(ls[i], f);
      var += (cuts[k + 1] - cuts[k]) / (axes[f].hi - axes[f].lo) * std::pow(marginal - mean, 2);
    }
    shares[f] = var / total;
  }
  return shares;
}

}  // namespace

std::vector<KeyImportance> param_importances(const SearchSpec& spec,
                                             const std::vector<ScoredTrial>& trials,
                                             std::uint64_t seed) {
  std::vector<Axis> axes;
  for (const auto& p : spec.space)
    if (std::all_of(trials.begin(), trials.end(),
                    [&](const ScoredTrial& t) { return t.values.contains(p.key); }))
      axes.push_back(axis_of(p));
  if (trials.size() < 2 || axes.empty()) return {};
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (const auto& t : trials) {
    x.emplace_back();
    for (const auto& a : axes) x.back().push_back(feature(*a.param, t.values.at(a.param->key)));
    y.push_back(t.objective);
  }
  std::vector<double> sum(axes.size(), 0.0);
  Rng rng(seed, /*stream=*/0x1a2b);
  for (int k = 0; k < kTrees; ++k) {
    std::vector<std::size_t> rows(trials.size());
    for (auto& r : rows) r = rng.index(trials.size());  // a bootstrap sample
    const auto shares = tree_shares(Tree(x, y, rows).nodes(), axes);
    for (std::size_t f = 0; f < axes.size(); ++f) sum[f] += shares[f];
  }
  const double all = std::accumulate(sum.begin(), sum.end(), 0.0);
  if (all <= 0) return {};
  std::vector<KeyImportance> out;
  for (std::size_t f = 0; f < axes.size(); ++f) out.push_back({axes[f].param->key, sum[f] / all});
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.importance > b.importance; });
  return out;
}

}  // namespace lrtune::search
