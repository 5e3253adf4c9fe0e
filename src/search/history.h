// From stored trials (configuration, status, epochs) to what samplers and
// pruners see, and the objective reports and progress lines show.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "search/pruner.h"
#include "search/sampler.h"
#include "search/space.h"

namespace lrtune::search {

// One epoch's objective turned into a loss (lower is better): -val_acc or val_loss.
double epoch_loss(const EpochMetrics& m, const SearchSpec& spec);

// The trial's objective in the user's terms (val_acc or val_loss) at its best
// epoch, or at its last with at = "last"; nothing before its first epoch or
// when every epoch counted is NaN.
std::optional<double> trial_objective(const std::vector<EpochMetrics>& epochs,
                                      const SearchSpec& spec);

// The internal number of a configuration value for `p` (a choice's index);
// nothing when the value is outside the space (a study whose space changed).
std::optional<double> internal_of(const Param& p, const nlohmann::json& value);

// The searched keys' values in a trial's configuration, those whose condition
// fails left out: what the sampler drew for it.
nlohmann::json searched_values(const SearchSpec& spec, const nlohmann::json& config);

// A searched value as labels show it: on/off, reals to 4 significant digits.
std::string value_text(const nlohmann::json& v);

// A trial for the pruners: its losses by epoch; complete when done.
Curve curve_of(const std::vector<EpochMetrics>& epochs, RunStatus status, const SearchSpec& spec);

// A trial for the samplers, or nothing when it tells nothing (failed).
// `values`: the searched keys the sampler drew for it (SearchSpec::values), so
// a conditional key left out stays out.
// done and diverged: complete, at the objective (a diverged last epoch is
// the worst loss); pruned and stopped: the last epoch trained and its loss;
// pending and running: running (the constant liar's worst result).
std::optional<Observation> observation_of(const nlohmann::json& values, RunStatus status,
                                          const std::vector<EpochMetrics>& epochs,
                                          const SearchSpec& spec);

}  // namespace lrtune::search
