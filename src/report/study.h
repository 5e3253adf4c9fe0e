// A results folder as a report sees it: its trials, their table numbers and
// chart lines, read through the Store interface. A study file with several
// sweeps (studies/quick.toml: one per question) becomes one section per sweep.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/search_report.h"
#include "report/series.h"
#include "report/summary.h"
#include "store/store.h"

namespace lrtune::report {

// What the store holds, as read once.
struct StudyRecords {
  std::string name;         // study name, or the folder name for a single run
  std::string description;
  std::string source;       // the folder as given on the command line
  nlohmann::json spec;      // StudyInfo::spec (its "points" name each trial's sweep)
  std::vector<TrialRecord> trials;
  std::vector<std::vector<EpochMetrics>> epochs;  // epochs[i] belongs to trials[i]
  std::string data_warning;  // one line when the trials used different copies of the data
};
// The study's current trials: those of its study file as last run
// (StudyInfo::trial_ids, in that order). Trials of earlier versions of the
// file (another base configuration, a quick `--epochs 2` try) stay in the
// store but never enter a report, so they are never averaged with current
// trials of the same label. A store without a study (a `lrtune train` run)
// or without a recorded list gives all its trials.
StudyRecords read_study(Store& store, const std::string& source);

// One section of a report: a study, one sweep of it, or a comparison.
struct StudyData {
  std::string name;
  std::string description;
  std::string source;
  std::string slug;         // output sub-folder, unique within a report
  std::vector<TrialSummary> trials;
  std::vector<GroupSummary> groups;
  std::vector<Series> series;
  std::string warning;      // shown under the heading (mixed copies of the data)
  std::string data_sets;    // what the trials trained on, with shape and class count
  std::optional<SearchSection> search;  // a search study's views (StudyInfo::spec["search"])
  bool has_repeats() const;
  bool has_divergence() const;
  bool has_pruned() const;
};

// The whole study as one section, labels as stored.
StudyData make_study(const StudyRecords& r);

// One section per sweep when the study names two or more sweeps in its
// spec's "points" (a trial two sweeps share shows in both, under each
// sweep's label, without the sweep's name); otherwise make_study(r).
std::vector<StudyData> sweep_sections(const StudyRecords& r);

inline StudyData load_study(Store& store, const std::string& source) {
  return make_study(read_study(store, source));
}

}  // namespace lrtune::report
