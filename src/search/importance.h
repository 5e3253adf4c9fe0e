// Which searched keys mattered: fANOVA (Hutter, Hoos and Leyton-Brown, "An
// efficient approach for assessing hyperparameter importance", ICML 2014),
// the evaluator Optuna's get_param_importances uses by default. A random
// forest is fitted to the complete trials' objectives; for each tree, the
// share of the variance of its prediction over the whole space that the
// key's own marginal explains; averaged over the trees and normalised to sum
// to 1, as Optuna does.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/space.h"

namespace lrtune::search {

struct ScoredTrial {
  nlohmann::json values;  // the searched keys it ran with
  double objective = 0;
};

struct KeyImportance {
  std::string key;
  double importance = 0;  // the shares of all keys sum to 1
};

// The importances of the keys every trial searched (conditional keys that
// some trials lack are left out, as Optuna leaves them), most important
// first; empty with fewer than 2 trials or when the objective never varies.
// Numbers count on their own scale, log-scaled keys too (as Optuna 3.1's
// evaluator, which takes no logs: a learning rate searched over [1e-4, 1]
// weighs by how much of that interval each value covers); a choice counts by
// its index. The forest
// (64 trees, each on a bootstrap sample, grown to single trials) is drawn
// from `seed`, so the same trials give the same answer.
std::vector<KeyImportance> param_importances(const SearchSpec& spec,
                                             const std::vector<ScoredTrial>& trials,
                                             std::uint64_t seed = 0);

}  // namespace lrtune::search
