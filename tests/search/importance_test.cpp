// Parameter importances (fANOVA over a random forest) on a synthetic
// objective whose answer is known, against Optuna's own
// get_param_importances on the same trials (Debian's python3-optuna, through
// tests/tools/importance_peer.py).
#include "search/importance.h"

#include <cmath>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace lrtune::search {
namespace {

using json = nlohmann::json;

SearchSpec synthetic_space() {
  return parse_search(
      json{{"sampler", "random"},
           {"trials", 80},
           {"space",
            {{"lr", {{"uniform", {0.01, 1.0}}}},
             {"momentum", {{"uniform", {0.0, 0.99}}}},
             {"weight_decay", {{"log_uniform", {1e-5, 1e-2}}}},
             {"batch_size", {{"choice", {64, 128, 256}}}}}}},
      "s.toml");
}

// y = 4 lr + index(batch) / 2 + momentum; weight decay (log-scaled) does
// nothing. Variances over the space: 1.33, 0.17, 0.08 and 0, so the answer
// is lr, batch_size, momentum, weight_decay.
std::vector<ScoredTrial> synthetic_trials(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<ScoredTrial> out;
  for (std::size_t i = 0; i < n; ++i) {
    const double lr = 0.01 + 0.99 * u(rng), momentum = 0.99 * u(rng), log_wd = -5 + 3 * u(rng);
    const int batch = static_cast<int>(u(rng) * 3);
    ScoredTrial t;
    t.values = {{"lr", lr},
                {"momentum", momentum},
                {"weight_decay", std::pow(10, log_wd)},
                {"batch_size", json::array({64, 128, 256})[static_cast<std::size_t>(batch)]}};
    t.objective = 4 * lr + 0.5 * batch + momentum;
    out.push_back(t);
  }
  return out;
}

std::vector<std::string> ranking(const std::vector<KeyImportance>& v) {
  std::vector<std::string> keys;
  for (const auto& k : v) keys.push_back(k.key);
  return keys;
}

json optuna_importances(const std::vector<ScoredTrial>& trials) {
  json space = {{"lr", {{"low", 0.01}, {"high", 1.0}}},
                {"momentum", {{"low", 0.0}, {"high", 0.99}}},
                {"weight_decay", {{"low", 1e-5}, {"high", 1e-2}, {"log", true}}},
                {"batch_size", {{"choices", {64, 128, 256}}}}};
  json ts = json::array();
  for (const auto& t : trials) ts.push_back({{"values", t.values}, {"objective", t.objective}});
  test::TempDir dir;
  const auto in = dir.path() / "trials.json";
  std::ofstream(in) << json{{"space", space}, {"trials", ts}}.dump();
  std::string out;
  const int rc = test::run_command("/usr/bin/python3 '" LRTUNE_SOURCE_DIR
                                   "/tests/tools/importance_peer.py' '" + in.string() + "' 2>&1",
                                   &out);
  EXPECT_EQ(rc, 0) << out;
  return rc == 0 ? json::parse(out) : json::object();
}

TEST(ParamImportances, RankTheKeysAsTheObjectiveWeighsThemAndAsOptunaDoes) {
  const auto trials = synthetic_trials(80, 3);
  const auto ours = param_importances(synthetic_space(), trials, 0);
  ASSERT_EQ(ours.size(), 4u);
  EXPECT_EQ(ranking(ours), (std::vector<std::string>{"lr", "batch_size", "momentum", "weight_decay"}));
  double sum = 0;
  for (const auto& k : ours) sum += k.importance;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_LT(ours.back().importance, 0.05);  // weight decay does nothing

  const json optuna = optuna_importances(trials);
  ASSERT_EQ(optuna.size(), 4u) << optuna.dump();
  std::vector<std::string> theirs;
  for (const auto& [key, v] : optuna.items()) theirs.push_back(key);
  std::sort(theirs.begin(), theirs.end(),
            [&](const auto& a, const auto& b) { return optuna.at(a) > optuna.at(b); });
  EXPECT_EQ(ranking(ours), theirs) << "Optuna: " << optuna.dump();
  for (const auto& k : ours)
    EXPECT_NEAR(k.importance, optuna.at(k.key).get<double>(), 0.15) << k.key << "; Optuna: " << optuna.dump();
}

TEST(ParamImportances, TheSameTrialsGiveTheSameAnswerAndTooFewGiveNone) {
  const auto trials = synthetic_trials(40, 5);
  const auto a = param_importances(synthetic_space(), trials, 1);
  const auto b = param_importances(synthetic_space(), trials, 1);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].importance, b[i].importance);
  }
  EXPECT_TRUE(param_importances(synthetic_space(), {trials.front()}).empty());
  // A key some trials lack (a conditional one) is left out.
  auto partial = trials;
  partial.front().values.erase("momentum");
  for (const auto& k : param_importances(synthetic_space(), partial)) EXPECT_NE(k.key, "momentum");
}

}  // namespace
}  // namespace lrtune::search
