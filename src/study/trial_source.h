// Where a study's trials come from. The scheduler and every worker ask the
// study's source for work until it has none left: the grid of a study file is
// one source (all its trials are added up front), and search samplers are
// others (they add trials to the store while workers run, as results come in).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace lrtune {

class TrialSource {
 public:
  virtual ~TrialSource() = default;
  // The study's trials so far, in the order workers should try to claim them
  // (status, export and reports show these).
  virtual std::vector<std::string> trial_ids(Store& store) = 0;
  // Called by a worker that found nothing to claim: adds trials to the store
  // and returns true when it added any (the worker then claims again); false
  // when it has nothing to add now. Must be safe with many workers at once.
  virtual bool grow(Store& store) = 0;
  // How many more trials the source may still add (a sampler's budget left).
  // 0 means the study is complete once no trial is pending or running. While
  // it is above 0, grow() adds a trial when called (the scheduler keeps
  // starting workers for it), so a budget is never left waiting.
  virtual std::int64_t remaining(Store& store) = 0;
  // After `epoch` of trial `id` was stored: whether the study's pruner stops
  // the trial there (it then ends as pruned, keeping its epochs).
  virtual bool should_prune(Store& /*store*/, const std::string& /*id*/, std::int64_t /*epoch*/) {
    return false;
  }
  // A line for progress reports (a search's best trial so far); "" for none.
  virtual std::string progress_note(Store& /*store*/) { return ""; }
};

// A fixed list of trials, already in the store (a study file's grid).
class GridSource final : public TrialSource {
 public:
  explicit GridSource(std::vector<std::string> ids) : ids_(std::move(ids)) {}
  std::vector<std::string> trial_ids(Store&) override { return ids_; }
  bool grow(Store&) override { return false; }
  std::int64_t remaining(Store&) override { return 0; }

 private:
  std::vector<std::string> ids_;
};

// The source a stored study describes: the grid of its study file as last
// run, or its search (study/search_source.h). Worker processes on any host
// build their source from the store.
std::unique_ptr<TrialSource> source_for(const StudyInfo& study);

}  // namespace lrtune
