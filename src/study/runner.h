// What the study scheduler needs from whatever trains a trial. The real one
// trains with LibTorch (study/torch_runner.h); tests use fakes that return
// canned metrics, throw or hang.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "store/store.h"

namespace lrtune {

struct TrialContext {
  std::string trial_dir;  // Store::trial_dir(id): checkpoint and files of this trial
  // After each completed epoch, before its checkpoint (rows are replaced, so a
  // redone epoch is never duplicated).
  std::function<void(const EpochMetrics&)> on_epoch;
  // The run continues after `last_epoch` (0 = from scratch): later rows go.
  std::function<void(std::int64_t last_epoch)> on_resume;
  // After each checkpoint written in trial_dir (the store may copy it).
  std::function<void(const std::string& file)> on_checkpoint;
  // Polled between steps: stop, keeping the last completed epoch.
  std::function<bool()> should_stop;
  // Lines worth showing (epoch summaries); the worker prefixes the label.
  std::function<void(const std::string& line)> on_log;
  // Provenance of this run (versions, device, threads), kept with the trial.
  std::function<void(const nlohmann::json& info)> on_info;
};

struct TrialResult {
  // done or diverged when the trial ended; running when it stopped on request.
  RunStatus status = RunStatus::done;
  std::int64_t epochs_completed = 0;
  std::string message;
};

class TrialRunner {
 public:
  virtual ~TrialRunner() = default;
  // Runs (or resumes) one trial. Throwing marks the trial failed with the
  // message; the study goes on.
  virtual TrialResult run(const TrialRecord& trial, const TrialContext& ctx) = 0;
};

}  // namespace lrtune
