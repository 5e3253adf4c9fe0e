// Moving a study from one store to another (`lrtune store copy FROM TO`):
// a laptop's SQLite study finished on a cluster's PostgreSQL, or a cluster's
// study taken home for its report. Written against the Store interface
// alone, so any two backends copy both ways.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "store/store.h"

namespace lrtune {

struct CopyCounts {
  std::int64_t trials = 0;       // trials copied (every one, pending ones too)
  std::int64_t epochs = 0;       // epoch rows copied
  std::int64_t checkpoints = 0;  // checkpoints copied (trials that can resume)
  std::int64_t files = 0;        // kept files copied (TorchScript models)
};

// Copies the study `from` acts for into `to`: the study (its file, current
// trials), every trial with its status, error, provenance and epochs, and
// each trial's last checkpoint (file `checkpoint_file` in the trial's
// folder), so that a trial stopped half-way resumes from the copy. A trial
// running in `from` arrives pending. The copy's trials are claimed once by
// the copier (attempts 1, started when copied); metrics are kept exactly.
// StoreError, before anything is written, when `from` holds no study or `to`
// already holds one of that name. `progress` hears one line per 100 trials.
CopyCounts copy_study(Store& from, Store& to, const std::string& checkpoint_file = "checkpoint.pt",
                      const std::function<void(const std::string&)>& progress = {});

}  // namespace lrtune
