// From a study file to its trials: grid expansion, labels, overrides, identity.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "store/store.h"
#include "study/study_file.h"

namespace lrtune {

// Command-line changes applied to every trial before its identity is hashed,
// so trying things out makes new trials instead of overwriting finished ones.
struct Overrides {
  std::optional<std::int64_t> epochs;
  std::optional<std::int64_t> train_subset;
  std::vector<std::pair<std::string, std::string>> set;  // --set key=value
  bool empty() const { return !epochs && !train_subset && set.empty(); }
  nlohmann::json to_json() const;
};

// One point of a sweep. Two points with the same configuration (two sweeps
// sharing a baseline) are one trial, listed once in `trials`.
struct StudyPoint {
  std::string sweep;   // sweep name ("" when unnamed)
  std::string label;
  std::string id;
  nlohmann::json values;  // the swept keys and their values
};

struct Expansion {
  std::vector<TrialSpec> trials;  // unique, in file order
  std::vector<StudyPoint> points;
  std::vector<std::string> swept_keys;  // union over sweeps, "seed" with repeats
  std::vector<std::string> ids() const;
};

// The most points a study may have (docs/studies.md): each point is a trial to
// train, and expanding one costs about 4 KB, so a larger grid is a mistake to
// report, not a run to start.
constexpr std::uint64_t kMaxStudyPoints = 10000;

// How many points the study has (sweeps' products times repeats), counted
// without expanding them; saturates at UINT64_MAX.
std::uint64_t count_points(const Study& study);

// The configuration every trial starts from: [base] with the overrides.
TrainConfig study_base(const Study& study, const Overrides& overrides = {});

// Expands sweeps (grid crossed, zip groups moved together, each crossed with
// the rest) and repeats (seeds seed, seed+1, ...). Every trial's configuration
// is validated; errors name the study file and the trial's label. A study of
// more than kMaxStudyPoints points is refused before anything is expanded.
// A search study has no trials up front (its sampler adds them): its
// expansion lists only the searched keys, after checking that the base with
// each end of each searched range (each choice) is a valid configuration.
Expansion expand_study(const Study& study, const Overrides& overrides = {});

// 16 hex digits: FNV-1a 64 of identity_json(cfg), the result-changing keys
// that differ from their defaults (core/config.h). Adding a key with a default
// leaves every id as it was; changing a default would change ids, so defaults
// are never changed (a new default is a new key or a new kind).
std::string trial_id(const TrainConfig& cfg);

// A value as labels show it: "0.1", "on"/"off", "50,100,150".
std::string label_value(const TrainConfig& cfg, const std::string& key);

// The StudyInfo stored with the results: the file, overrides, points,
// provenance; for a search study its search (study/search_source.h).
StudyInfo study_info(const Study& study, const Overrides& overrides, const Expansion& e);

}  // namespace lrtune
