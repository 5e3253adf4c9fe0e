// One training session: the stages every way lrtune trains goes through, and
// the one epoch loop that drives them. A session sets up (its constructor),
// resumes from checkpoints, trains an epoch, then evaluates, records and
// checkpoints it. `lrtune train` and study trials run a SingleSession
// (train/trainer.h), trial packs a pack session (train/pack_trainer.h), and
// the LR range test drives a SingleSession's steps itself.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/metrics.h"

namespace lrtune {

struct RunOutcome {
  RunStatus status = RunStatus::running;  // done, diverged, or running (stopped)
  std::int64_t epochs_completed = 0;
  std::string message;  // e.g. "training loss became non-finite in epoch 3"
};

struct EpochRange {
  std::int64_t first = 0;  // 0-based: the first epoch to train
  std::int64_t end = 0;    // one past the last
};

class TrainingSession {
 public:
  virtual ~TrainingSession() = default;
  // Loads what checkpoints there are; the epochs left to train.
  virtual EpochRange resume() = 0;
  // Whether any run of the session trains in `epoch` (a pack's copies may
  // start later or end sooner than others).
  virtual bool trains(std::int64_t epoch) const = 0;
  // Trains one epoch; false when every run stopped on request during it.
  virtual bool train_epoch(std::int64_t epoch) = 0;
  // Evaluates the epoch just trained, records it (hooks), marks diverged runs
  // and checkpoints the others.
  virtual void finish_epoch(std::int64_t epoch) = 0;
  // One outcome per run, in order.
  virtual std::vector<RunOutcome> outcomes() const = 0;
};

// The epoch loop: resume, then train and finish every epoch left while any
// run trains. Returns the outcomes.
std::vector<RunOutcome> run_session(TrainingSession& session);

}  // namespace lrtune
