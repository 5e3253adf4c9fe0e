// A worker that trains trials in packs: it claims up to `pack_size` trials
// that can share a pack and hands them to a PackTrialRunner together. Each
// trial keeps its own heartbeat, epochs, outcome and checkpoint.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "store/store.h"
#include "study/runner.h"
#include "study/worker.h"

namespace lrtune {

// What the pack worker needs from whatever trains; tests use fakes.
class PackTrialRunner {
 public:
  virtual ~PackTrialRunner() = default;
  // Trials with equal keys may train together; "" means "always alone".
  virtual std::string pack_key(const TrialRecord& trial) = 0;
  // Runs (or resumes) the trials together, one result per trial in order.
  // Throwing marks all of them failed with the message.
  virtual std::vector<TrialResult> run(const std::vector<TrialRecord>& trials,
                                       const std::vector<TrialContext>& contexts) = 0;
};

// Like run_worker, with packs of up to `pack_size` (>= 1) trials. A trial taken
// over by another worker (stale heartbeat) stops alone; the rest of its pack goes on.
WorkerSummary run_pack_worker(Store& store, PackTrialRunner& runner, const WorkerOptions& opts,
                              int pack_size, const std::function<bool()>& stop);

}  // namespace lrtune
