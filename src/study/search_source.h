// A search study's trials: its sampler draws each new trial from the study's
// history inside a store transaction (so workers on any number of hosts never
// draw the same trial twice nor pass the budget), and its pruner stops
// trials after an epoch. Everything it needs is in the store's study info, so
// every worker rebuilds the same source (docs/search.md).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "search/history.h"
#include "search/pruner.h"
#include "search/sampler.h"
#include "search/space.h"
#include "store/store.h"
#include "study/trial_source.h"

namespace lrtune {

class SearchSource final : public TrialSource {
 public:
  // `base`: the configuration every trial starts from ([base] and the
  // command-line overrides); `file` names the study file in messages;
  // `study_name` places trials in Hyperband's brackets (as Optuna's name).
  SearchSource(search::SearchSpec spec, TrainConfig base, std::string file,
               const std::string& study_name = "");

  std::vector<std::string> trial_ids(Store& store) override;
  bool grow(Store& store) override;
  std::int64_t remaining(Store& store) override;
  bool should_prune(Store& store, const std::string& id, std::int64_t epoch) override;
  std::string progress_note(Store& store) override;

  // The trial the sampler adds after `history` (it becomes trial number
  // history.size()), or nothing once the budget is reached.
  std::optional<TrialSpec> choose(const std::vector<TrialHistory>& history) const;
  const search::SearchSpec& spec() const { return spec_; }

 private:
  search::SearchSpec spec_;
  TrainConfig base_;
  std::string file_;
  std::string search_hash_;  // of the search's identity, part of every trial id
  std::unique_ptr<search::Sampler> sampler_;
  std::unique_ptr<search::Pruner> pruner_;  // nullptr: pruner = "none"
};

// The source of a stored search study (StudyInfo::spec["search"], written by
// study_info(): the [search] table, the study file's name, the base
// configuration and the identity compared when the study is run again);
// nullptr when `study_spec` is not one.
std::unique_ptr<SearchSource> search_source_of(const nlohmann::json& study_spec,
                                               const std::string& study_name = "");

// The best complete trial of a search so far (nullopt before the first).
struct BestTrial {
  std::string id, label;
  double objective = 0;
};
std::optional<BestTrial> best_trial(const search::SearchSpec& spec,
                                    const std::vector<TrialHistory>& history);

}  // namespace lrtune
