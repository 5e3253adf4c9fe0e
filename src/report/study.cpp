// Reading a results folder into report sections, whole or one per sweep.
#include "report/study.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/provenance.h"
#include "report/escape.h"

namespace lrtune::report {

namespace {

std::string folder_name(const std::string& source) {
  namespace fs = std::filesystem;
  std::string name = fs::path(source).lexically_normal().filename().string();
  if (name.empty() || name == ".")
    name = fs::absolute(source).lexically_normal().parent_path().filename().string();
  return name;
}

StudyData section(const std::string& name, const StudyRecords& r,
                  const std::vector<TrialRecord>& trials,
                  const std::vector<std::vector<EpochMetrics>>& epochs) {
  StudyData d;
  d.name = name;
  d.description = r.description;
  d.source = r.source;
  d.warning = r.data_warning;
  std::vector<nlohmann::json> provenances;
  for (const auto& t : trials) provenances.push_back(t.info);
  d.data_sets = data_sets_line(provenances);
  for (std::size_t i = 0; i < trials.size(); ++i) {
    d.trials.push_back(summarize_trial(trials[i], epochs[i]));
    auto& label = d.trials.back().trial.spec.label;
    label = clean_text(label);
    if (label.empty()) label = trials[i].spec.id.substr(0, 12);
  }
  d.groups = summarize_groups(d.trials);
  d.series = build_series(trials, epochs);
  d.search = read_search(r.spec, trials, epochs);
  return d;
}

// The point label without its sweep's name in front ("part1 lr=0.1" -> "lr=0.1").
std::string without_sweep(const std::string& label, const std::string& sweep) {
  if (!sweep.empty() && label.rfind(sweep + " ", 0) == 0) return label.substr(sweep.size() + 1);
  return label;
}

}  // namespace

bool StudyData::has_repeats() const {
  return std::any_of(series.begin(), series.end(), [](const Series& s) { return s.n > 1; });
}

bool StudyData::has_divergence() const {
  return std::any_of(series.begin(), series.end(),
                     [](const Series& s) { return s.diverged_epoch.has_value(); });
}

bool StudyData::has_pruned() const {
  return std::any_of(series.begin(), series.end(),
                     [](const Series& s) { return s.pruned_epoch.has_value(); });
}

StudyRecords read_study(Store& store, const std::string& source) {
  StudyRecords r;
  r.source = source;
  if (auto info = store.study()) {
    r.name = clean_text(info->name);
    r.description = clean_text(info->description);
    r.spec = info->spec;
  }
  if (r.name.empty()) r.name = clean_text(folder_name(source));
  r.trials = current_trials(store);
  std::vector<nlohmann::json> provenances;
  for (const auto& t : r.trials) {
    r.epochs.push_back(store.epochs(t.spec.id));
    provenances.push_back(t.info);
  }
  r.data_warning = mixed_data_warning(provenances);
  return r;
}

StudyData make_study(const StudyRecords& r) { return section(r.name, r, r.trials, r.epochs); }

std::vector<StudyData> sweep_sections(const StudyRecords& r) {
  const nlohmann::json* points = nullptr;
  if (r.spec.is_object() && r.spec.contains("points") && r.spec["points"].is_array())
    points = &r.spec["points"];
  std::vector<std::string> sweeps;
  if (points)
    for (const auto& p : *points) {
      std::string sweep = p.value("sweep", "");
      if (std::find(sweeps.begin(), sweeps.end(), sweep) == sweeps.end()) sweeps.push_back(sweep);
    }
  if (sweeps.size() < 2) return {make_study(r)};

  std::map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < r.trials.size(); ++i) by_id[r.trials[i].spec.id] = i;
  std::vector<StudyData> out;
  for (const auto& sweep : sweeps) {
    std::vector<TrialRecord> trials;
    std::vector<std::vector<EpochMetrics>> epochs;
    for (const auto& p : *points) {
      auto it = by_id.find(p.value("id", ""));
      if (p.value("sweep", "") != sweep || it == by_id.end()) continue;
      trials.push_back(r.trials[it->second]);
      trials.back().spec.label = without_sweep(p.value("label", ""), sweep);
      epochs.push_back(r.epochs[it->second]);
    }
    if (trials.empty()) continue;
    std::string name = r.name + ": " + (sweep.empty() ? "base" : clean_text(sweep));
    out.push_back(section(name, r, trials, epochs));
  }
  return out;
}

}  // namespace lrtune::report
