// One training run: its session (set-up, training epoch, evaluation,
// divergence detection, per-epoch checkpoint and resume) and run_training,
// which drives it with the one epoch loop. Where metrics go is the caller's
// choice (hooks).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/metrics.h"
#include "data/cifar10.h"
#include "train/session.h"
#include "train/threads.h"

namespace lrtune {

struct TrainHooks {
  // After each completed epoch, BEFORE its checkpoint is written: a crash in
  // between redoes the epoch, and stores replace the row (no loss, no duplicate).
  std::function<void(const EpochMetrics&)> on_epoch;
  // When a checkpoint is found: the run continues after `last_epoch`; stores
  // should drop rows after it.
  std::function<void(std::int64_t last_epoch)> on_resume;
  // After each checkpoint is written (a store that shares checkpoints across
  // hosts copies it).
  std::function<void(const std::string& path)> on_checkpoint;
  // Polled between steps; true stops the run, keeping the last checkpoint.
  std::function<bool()> should_stop;
  // Progress lines; nullptr = silent. Transient: in-epoch progress ("epoch
  // 3/15  [12,800/45,000]  ... training left 20s"). Lasting: "resuming after
  // epoch N from PATH", each epoch's summary ("epoch 3/15  lr 0.010000  train
  // loss ..."), and "diverged: training loss became non-finite in epoch N".
  std::function<void(const std::string& line, bool transient)> on_log;
};

// The session of one run (`lrtune train`, a study trial): its data split,
// model, optimizer and schedule, checkpointed to `checkpoint_path` after every
// epoch (atomically) and resumed from it if it exists.
class SingleSession final : public TrainingSession {
 public:
  SingleSession(const TrainConfig& cfg, const ImageDataset& data, std::string checkpoint_path,
                TrainHooks hooks);
  ~SingleSession() override;
  EpochRange resume() override;
  bool trains(std::int64_t epoch) const override;
  bool train_epoch(std::int64_t epoch) override;
  void finish_epoch(std::int64_t epoch) override;
  std::vector<RunOutcome> outcomes() const override;

  // One training step outside the epoch loop (the LR range test): batch
  // `index` counted over epochs (each epoch in its own order), at rate `lr`
  // and the optimizer's own momentum. Returns the batch's mean loss.
  double step_at(std::int64_t index, double lr);
  std::int64_t steps_per_epoch() const;

 private:
  struct State;  // LibTorch objects, kept out of this header
  std::unique_ptr<State> s_;
};

// Trains `cfg` (validated) on `data`, checkpointing to `checkpoint_path` after
// every epoch (atomically) and resuming from it if it exists.
RunOutcome run_training(const TrainConfig& cfg, const ImageDataset& data,
                        const std::string& checkpoint_path, const TrainHooks& hooks);

// "cpu" or "cuda" for cfg.device ("auto" picks cuda when available); throws
// ConfigError when cuda is asked for and absent.
std::string resolve_device(const std::string& device);

}  // namespace lrtune
