// What a study has done so far: per-trial summaries (`lrtune study status`),
// overall progress (`lrtune study run`), and the per-epoch export.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "store/store.h"
#include "store/trial_summary.h"

namespace lrtune {

// The trials among `ids` (in that order; all trials when `ids` is empty),
// each summarized (store/trial_summary.h) with the time it has left: its
// remaining epochs at its mean epoch time, or the study's mean before its
// first epoch; 0 when finished.
std::vector<TrialSummary> summarize(Store& store, const std::vector<std::string>& ids);

struct StudyProgress {
  int done = 0, diverged = 0, failed = 0, pruned = 0, stopped = 0, running = 0, pending = 0;
  std::int64_t undrawn = 0;  // a search's budget not drawn yet
  std::int64_t epochs_done = 0, epochs_total = 0;
  double seconds_left = 0;  // with `parallel` trials at a time; 0 = unknown
  int finished() const { return done + diverged + failed + pruned + stopped; }
};

StudyProgress progress(const std::vector<TrialSummary>& trials, int parallel);

// Adds a search's `undrawn` trials to `p`: each counted as long as the
// finished ones took on average (time left unknown before the first).
void add_undrawn(StudyProgress& p, const std::vector<TrialSummary>& trials, std::int64_t undrawn,
                 int parallel);

// "3/10 trials finished (1 diverged), 2 running, 5 waiting; epoch 120/1,000; about 12m left";
// a search's undrawn trials count in the total ("3/40 ..., 30 not drawn yet").
std::string progress_line(const StudyProgress& p);

// The status table, one line per trial, and a closing line with the totals;
// then one warning line when the trials were trained on different copies of
// the data (their provenances record different data fingerprints). A search's
// `undrawn` trials count in the totals, as in progress_line: a stopped search
// is never shown as finished.
std::string status_table(const std::vector<TrialSummary>& trials, int parallel,
                         std::int64_t undrawn = 0);

// One row per (trial, epoch): trial_id, label, the swept keys (a key named like
// an epoch column gets "config_": config_lr), status, then the EpochMetrics
// columns. CSV with a header, or a JSON array of objects.
void write_epochs_csv(Store& store, const std::vector<std::string>& ids,
                      const std::vector<std::string>& swept_keys, std::ostream& out);
void write_epochs_json(Store& store, const std::vector<std::string>& ids,
                       const std::vector<std::string>& swept_keys, std::ostream& out);

}  // namespace lrtune
