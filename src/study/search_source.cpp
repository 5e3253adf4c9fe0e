// A search study's source: sampling in store transactions, pruning after epochs.
#include "study/search_source.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/errors.h"
#include "core/identity.h"

namespace lrtune {
namespace {

using json = nlohmann::json;

std::string search_label(std::size_t number, const json& values) {
  std::string label = "#" + std::to_string(number + 1);
  for (const auto& [key, v] : values.items()) label += " " + key + "=" + search::value_text(v);
  return label;
}

// The study's trials as the sampler sees them (failed ones tell nothing).
std::vector<search::Observation> observations(const search::SearchSpec& spec,
                                              const std::vector<TrialHistory>& history) {
  std::vector<search::Observation> out;
  for (const auto& h : history) {
    const json values = search::searched_values(spec, h.trial.spec.config);
    if (auto o = search::observation_of(values, h.trial.status, h.epochs, spec)) out.push_back(*o);
  }
  return out;
}

}  // namespace

SearchSource::SearchSource(search::SearchSpec spec, TrainConfig base, std::string file,
                           const std::string& study_name)
    : spec_(std::move(spec)),
      base_(std::move(base)),
      file_(std::move(file)),
      search_hash_(identity_hash(spec_.identity())),
      sampler_(search::make_sampler(spec_)),
      pruner_(search::make_pruner(spec_, spec_.most_epochs(base_.epochs), study_name)) {}

std::vector<std::string> SearchSource::trial_ids(Store& store) {
  const auto info = store.study();
  return info ? info->trial_ids : std::vector<std::string>{};
}

bool SearchSource::grow(Store& store) {
  return store.add_trial_with([this](const std::vector<TrialHistory>& h) { return choose(h); })
      .has_value();
}

std::int64_t SearchSource::remaining(Store& store) {
  const auto n = static_cast<std::int64_t>(trial_ids(store).size());
  return std::max<std::int64_t>(0, spec_.trials - n);
}

std::optional<TrialSpec> SearchSource::choose(const std::vector<TrialHistory>& history) const {
  const std::size_t number = history.size();
  if (static_cast<std::int64_t>(number) >= spec_.trials) return std::nullopt;
  const auto draw = sampler_->sample(observations(spec_, history), number);
  json values = spec_.values(draw);
  TrainConfig cfg = base_;
  // A draw that makes no valid configuration (keys checked one by one at
  // registration, not every combination) is added anyway: its worker fails
  // it with the message, as Optuna fails a trial, and the search goes on.
  apply_json(cfg, values, file_ + ": search trial " + std::to_string(number));
  // A searched key the drawn kinds do not read (momentum drawn for adam) is
  // left out, as a conditional key whose condition fails: it changes nothing.
  for (const auto& key : keys_not_read(cfg)) {
    if (!values.contains(key)) continue;
    cfg.options.erase(key);
    values.erase(key);
  }
  const std::string label = search_label(number, values);
  const std::string id = identity_hash(
      json{{"config", identity_json(cfg)}, {"search", search_hash_}, {"trial", number}});
  return TrialSpec{id, label, to_json(cfg), 0, cfg.epochs};
}

bool SearchSource::should_prune(Store& store, const std::string& id, std::int64_t epoch) {
  if (!pruner_) return false;
  const std::vector<TrialHistory> history = store.history();
  const auto self = std::find_if(history.begin(), history.end(),
                                 [&](const TrialHistory& h) { return h.trial.spec.id == id; });
  if (self == history.end() || epoch >= self->trial.spec.epochs_total) return false;
  std::vector<EpochMetrics> upto;
  for (const auto& m : self->epochs)
    if (m.epoch <= epoch) upto.push_back(m);
  search::Curve curve = search::curve_of(upto, RunStatus::running, spec_);
  curve.number = self - history.begin();  // trials are numbered in the order they were drawn
  std::vector<search::Curve> others;
  for (std::size_t i = 0; i < history.size(); ++i) {
    const TrialHistory& h = history[i];
    if (h.trial.spec.id == id || h.trial.status == RunStatus::failed) continue;
    others.push_back(search::curve_of(h.epochs, h.trial.status, spec_));
    others.back().number = static_cast<std::int64_t>(i);
  }
  return pruner_->prune(curve, others, epoch);
}

std::optional<BestTrial> best_trial(const search::SearchSpec& spec,
                                    const std::vector<TrialHistory>& history) {
  std::optional<BestTrial> best;
  for (const auto& h : history) {
    if (h.trial.status != RunStatus::done && h.trial.status != RunStatus::diverged) continue;
    const auto v = search::trial_objective(h.epochs, spec);
    if (!v) continue;
    if (!best || (spec.maximize() ? *v > best->objective : *v < best->objective))
      best = BestTrial{h.trial.spec.id, h.trial.spec.label, *v};
  }
  return best;
}

std::string SearchSource::progress_note(Store& store) {
  const std::vector<TrialHistory> history = store.history();
  std::int64_t saved = 0;
  int pruned = 0;
  for (const auto& h : history) {
    if (h.trial.status == RunStatus::pruned) {
      ++pruned;
      saved += h.trial.spec.epochs_total - static_cast<std::int64_t>(h.epochs.size());
    }
  }
  std::string note = std::to_string(history.size()) + "/" + std::to_string(spec_.trials) +
                     " trials drawn";
  if (const auto best = best_trial(spec_, history)) {
    char value[32];
    std::snprintf(value, sizeof value, "%.4f", best->objective);
    note += "; best " + spec_.objective + " " + value + " (" + best->label + ")";
  }
  if (pruned)
    note += "; " + std::to_string(pruned) + " pruned, " + std::to_string(saved) +
            " trial-epochs saved";
  return note;
}

std::unique_ptr<SearchSource> search_source_of(const json& study_spec, const std::string& study_name) {
  if (!study_spec.is_object() || !study_spec.contains("search")) return nullptr;
  const json& s = study_spec.at("search");
  const std::string file = s.value("file", std::string("study"));
  search::SearchSpec spec = search::parse_search(s.at("table"), file);
  TrainConfig base;
  apply_json(base, s.at("base"), file + ": base");
  return std::make_unique<SearchSource>(std::move(spec), std::move(base), file, study_name);
}

}  // namespace lrtune
