// Hyperband against Optuna's own HyperbandPruner (Debian's python3-optuna):
// the same curves replayed through both, trial by trial and epoch by epoch,
// must fall in the same brackets and stop at the same epochs
// (tests/tools/hyperband_peer.py drives Optuna).
#include "search/pruner.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace lrtune::search {
namespace {

using json = nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Optuna's answer for these curves, replayed in `order`.
json optuna_replay(const std::string& study, std::int64_t min, std::int64_t max, std::int64_t eta,
                   const std::vector<std::vector<double>>& values, const std::string& order) {
  json trials = json::array();
  for (std::size_t n = 0; n < values.size(); ++n) {
    json v = json::array();
    for (double x : values[n]) v.push_back(std::isnan(x) ? json("nan") : json(x));
    trials.push_back({{"number", n}, {"values", v}, {"state", "complete"}});
  }
  test::TempDir dir;
  const auto in = dir.path() / "study.json";
  std::ofstream(in) << json{{"study_name", study}, {"min_resource", min}, {"max_resource", max},
                            {"reduction_factor", eta}, {"direction", "minimize"},
                            {"order", order}, {"trials", trials}}.dump();
  std::string out;
  const int rc = test::run_command(
      "/usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/hyperband_peer.py' '" + in.string() +
          "' 2>&1",
      &out);
  EXPECT_EQ(rc, 0) << out;
  return rc == 0 ? json::parse(out) : json{};
}

// Our pruner over the same replay: after each reported epoch the trial asks
// whether to stop, with every trial's curve as reported so far (a stopped
// trial keeps its epochs). Returns each trial's stopping epoch (0: never).
std::vector<std::int64_t> replay(const HyperbandPruner& hb, const std::vector<std::vector<double>>& values,
                                 bool interleaved) {
  const std::size_t n = values.size();
  std::vector<Curve> curves(n);
  for (std::size_t i = 0; i < n; ++i) curves[i].number = static_cast<std::int64_t>(i);
  std::vector<std::int64_t> stopped(n, 0);
  auto step = [&](std::size_t i) {
    if (stopped[i] || curves[i].loss.size() == values[i].size()) return;
    curves[i].loss.push_back(values[i][curves[i].loss.size()]);
    const auto epoch = static_cast<std::int64_t>(curves[i].loss.size());
    std::vector<Curve> others;
    for (std::size_t j = 0; j < n; ++j)
      if (j != i) others.push_back(curves[j]);
    if (hb.prune(curves[i], others, epoch)) stopped[i] = epoch;
  };
  const std::size_t epochs = values.front().size();
  if (interleaved) {
    for (std::size_t e = 0; e < epochs; ++e)
      for (std::size_t i = 0; i < n; ++i) step(i);
  } else {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t e = 0; e < epochs; ++e) step(i);
  }
  return stopped;
}

// Learning curves of `trials` trials: each a quality plus a decaying,
// noisy excess, so that rankings change between epochs; a few diverge for an
// epoch (NaN) somewhere before their last.
std::vector<std::vector<double>> curves(std::size_t trials, std::size_t epochs, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::vector<double>> out(trials);
  for (auto& c : out) {
    const double quality = u(rng), excess = 0.5 + u(rng);
    for (std::size_t e = 1; e <= epochs; ++e)
      c.push_back(quality + excess / static_cast<double>(e) + 0.1 * u(rng));
    if (u(rng) < 0.1) c[static_cast<std::size_t>(u(rng) * static_cast<double>(epochs - 1))] = kNaN;
  }
  return out;
}

struct Case {
  std::int64_t min, max, eta;
  std::size_t trials;
};

TEST(HyperbandPruner, StopsTheTrialsOptunaStopsInTheSameBrackets) {
  for (const Case c : {Case{1, 9, 3, 60}, Case{1, 27, 3, 80}, Case{2, 20, 2, 50}}) {
    for (const bool interleaved : {false, true}) {
      SCOPED_TRACE("min " + std::to_string(c.min) + ", max " + std::to_string(c.max) + ", eta " +
                   std::to_string(c.eta) + (interleaved ? ", interleaved" : ", one trial after another"));
      const std::string study = "hb-" + std::to_string(c.max);
      const auto values = curves(c.trials, static_cast<std::size_t>(c.max), static_cast<unsigned>(c.max));
      const HyperbandPruner hb(c.min, c.max, c.eta, study);
      const json optuna = optuna_replay(study, c.min, c.max, c.eta, values,
                                        interleaved ? "interleaved" : "sequential");
      ASSERT_TRUE(optuna.contains("trials"));
      EXPECT_EQ(hb.brackets(), optuna.at("n_brackets").get<std::int64_t>());
      const auto stopped = replay(hb, values, interleaved);
      int pruned = 0;
      for (std::size_t n = 0; n < values.size(); ++n) {
        const json& t = optuna.at("trials").at(n);
        EXPECT_EQ(hb.bracket_of(static_cast<std::int64_t>(n)), t.at("bracket").get<std::int64_t>())
            << "trial " << n;
        const std::int64_t expected = t.at("pruned_at_epoch").is_null() ? 0 : t.at("pruned_at_epoch").get<std::int64_t>();
        EXPECT_EQ(stopped[n], expected) << "trial " << n << " (bracket " << hb.bracket_of(static_cast<std::int64_t>(n)) << ")";
        pruned += expected > 0;
      }
      // The comparison means something: Optuna stopped many trials, not all.
      EXPECT_GT(pruned, static_cast<int>(c.trials) / 4);
      EXPECT_LT(pruned, static_cast<int>(c.trials));
    }
  }
}

TEST(HyperbandPruner, BracketsAndBudgetsAreOptunasIncludingItsRounding) {
  // log_3(243) and log_10(1000) come out just under 5 and 3 in doubles:
  // Optuna makes 5 and 3 brackets, and so must we, or trials meet others.
  for (const Case c : {Case{1, 9, 3, 0}, Case{1, 243, 3, 0}, Case{1, 1000, 10, 0}, Case{1, 100, 4, 0},
                       Case{3, 3, 3, 0}}) {
    SCOPED_TRACE("min " + std::to_string(c.min) + ", max " + std::to_string(c.max));
    const HyperbandPruner hb(c.min, c.max, c.eta, "s");
    const json optuna = optuna_replay("s", c.min, c.max, c.eta, {{1.0}}, "sequential");
    ASSERT_TRUE(optuna.contains("trial_allocation_budgets"));
    EXPECT_EQ(hb.budgets(), optuna.at("trial_allocation_budgets").get<std::vector<std::int64_t>>());
  }
  // Each bracket judges from its own first rung on.
  const HyperbandPruner hb(1, 9, 3, "s");
  EXPECT_EQ(hb.rungs(0, 9), (std::vector<std::int64_t>{1, 3, 9}));
  EXPECT_EQ(hb.rungs(1, 9), (std::vector<std::int64_t>{3, 9}));
  EXPECT_EQ(hb.rungs(2, 9), (std::vector<std::int64_t>{9}));
}

TEST(HyperbandPruner, ATrialCompetesOnlyWithItsOwnBracket) {
  const HyperbandPruner hb(1, 9, 3, "s");
  // Two trials in bracket 0 and one elsewhere (found, not assumed).
  std::vector<std::int64_t> first;
  std::int64_t other = -1;
  for (std::int64_t n = 0; n < 50 && (first.size() < 2 || other < 0); ++n)
    if (hb.bracket_of(n) == 0 && first.size() < 2) first.push_back(n);
    else if (hb.bracket_of(n) != 0 && other < 0) other = n;
  ASSERT_EQ(first.size(), 2u);
  ASSERT_GE(other, 0);
  Curve better{{0.1}, false, first[1]}, rival{{0.05}, false, other}, self{{0.5}, false, first[0]};
  // Epoch 1 is bracket 0's first rung: a better trial of its bracket stops it ...
  EXPECT_TRUE(hb.prune(self, {better}, 1));
  // ... one of another bracket does not.
  EXPECT_FALSE(hb.prune(self, {rival}, 1));
}

}  // namespace
}  // namespace lrtune::search
