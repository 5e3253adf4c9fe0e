// What a study worker needs from whatever trains its trials. The real one
// trains with LibTorch (study/torch_pack_runner.h); tests use fakes that
// return canned metrics, throw, hang or kill their process.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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
  // How many epochs from the first the store holds without a gap: a
  // checkpoint ahead of them is set aside and the trial redone (nullptr: not checked).
  std::function<std::int64_t()> stored_epochs;
  // After each checkpoint written in trial_dir (the store may copy it).
  std::function<void(const std::string& file)> on_checkpoint;
  // Before a run starts without a local checkpoint: the store makes the
  // trial's last saved checkpoint available at `file` (a trial taken over on
  // another host resumes); false when it has none.
  std::function<bool(const std::string& file)> fetch_checkpoint;
  // Writes the store's copy of a file kept under its content hash (a
  // TorchScript model) to `file`; false when the store has none.
  std::function<bool(const std::string& hash, const std::string& file)> fetch_file;
  // Polled between steps: stop, keeping the last completed epoch.
  std::function<bool()> should_stop;
  // The trainer's lines: epoch summaries, set-aside checkpoints and, with
  // `transient`, progress within an epoch (a terminal redraws it in place).
  std::function<void(const std::string& line, bool transient)> on_log;
  // Provenance of this run (versions, device, threads), kept with the trial.
  std::function<void(const nlohmann::json& info)> on_info;
};

struct TrialResult {
  // done or diverged when the trial ended; running when it stopped on request.
  RunStatus status = RunStatus::done;
  std::int64_t epochs_completed = 0;
  std::string message;
};

// Trains trials in packs: trials whose keys are equal may train together as
// one model, each keeping its own epochs, outcome and checkpoint. A runner of
// single trials is a pack runner whose packs hold one trial (TrialRunner).
class PackTrialRunner {
 public:
  virtual ~PackTrialRunner() = default;
  // Trials with equal keys may train together; "" means "always alone".
  virtual std::string pack_key(const TrialRecord& trial) = 0;
  // Runs (or resumes) the trials together, one result per trial in order.
  // Throwing marks all of them failed with the message; the study goes on.
  virtual std::vector<TrialResult> run(const std::vector<TrialRecord>& trials,
                                       const std::vector<TrialContext>& contexts) = 0;
};

// A runner of one trial at a time: a pack runner whose packs hold one trial.
class TrialRunner : public PackTrialRunner {
 public:
  // Runs (or resumes) one trial. Throwing marks the trial failed with the
  // message; the study goes on.
  virtual TrialResult run(const TrialRecord& trial, const TrialContext& ctx) = 0;

  std::string pack_key(const TrialRecord&) final { return ""; }
  std::vector<TrialResult> run(const std::vector<TrialRecord>& trials,
                               const std::vector<TrialContext>& contexts) final {
    std::vector<TrialResult> out;
    for (std::size_t i = 0; i < trials.size(); ++i) out.push_back(run(trials[i], contexts[i]));
    return out;
  }
};

}  // namespace lrtune
