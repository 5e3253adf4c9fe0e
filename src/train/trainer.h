// One training run: the epoch loop, evaluation, divergence detection and
// per-epoch checkpoints. Where metrics go is the caller's choice (hooks).
#pragma once
#include <functional>
#include <string>

#include "core/config.h"
#include "core/metrics.h"
#include "data/cifar10.h"

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
  // Progress lines (in-epoch progress and epoch summaries); nullptr = silent.
  std::function<void(const std::string& line, bool transient)> on_log;
};

struct RunOutcome {
  RunStatus status = RunStatus::running;  // done, diverged, or running (stopped)
  std::int64_t epochs_completed = 0;
  std::string message;  // e.g. "loss became nan at epoch 3, step 17"
};

// Trains `cfg` (validated) on `data`, checkpointing to `checkpoint_path` after
// every epoch (atomically) and resuming from it if it exists.
RunOutcome run_training(const TrainConfig& cfg, const Cifar10& data,
                        const std::string& checkpoint_path, const TrainHooks& hooks);

// Sets LibTorch's thread count (0 = all cores); returns the count used.
int apply_threads(std::int64_t threads);

// "cpu" or "cuda" for cfg.device ("auto" picks cuda when available); throws
// ConfigError when cuda is asked for and absent.
std::string resolve_device(const std::string& device);

}  // namespace lrtune
