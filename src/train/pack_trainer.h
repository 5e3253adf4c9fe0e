// Trains K trials of one architecture together as one packed model: each copy
// with its own seed (init, split, order, augmentation), learning-rate schedule
// and SGD settings, its own per-epoch metrics, checkpoint and outcome.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "data/cifar10.h"
#include "train/trainer.h"

namespace lrtune {

// TrainHooks with the copy's index (its position in `configs`) first.
struct PackHooks {
  // After each completed epoch of a copy, before that copy's checkpoint.
  std::function<void(std::size_t copy, const EpochMetrics&)> on_epoch;
  // A copy's checkpoint was found: it continues after `last_epoch`.
  std::function<void(std::size_t copy, std::int64_t last_epoch)> on_resume;
  // Polled between steps for each running copy; true stops that copy (it keeps
  // its last checkpoint) while the others go on.
  std::function<bool(std::size_t copy)> should_stop;
  // Per-copy lines (progress lines are transient); nullptr = silent.
  std::function<void(std::size_t copy, const std::string& line, bool transient)> on_log;
};

// The pack's precision is its trials' `precision` key (equal: it is part of
// pack_key).
struct PackOptions {
  // Data path: -1 = on the device on CUDA and BatchMakers on the CPU;
  // 0 = BatchMakers; 1 = DeviceBatcher (also works on the CPU, for tests).
  int data_on_device = -1;
  // Channels-last convolutions: -1 = on the CPU only; 0 = off; 1 = on.
  int channels_last = -1;
  // Images per copy in an evaluation forward pass (0 = the configs'
  // eval_batch_size, which is speed-only).
  std::int64_t eval_batch_size = 0;
  // Dropout probability of the packed model (tests set 0 for exact comparisons).
  double dropout = 0.3;
};

// Whether `cfg` can train in a pack at all: its model has a packed form
// (reference_cnn, for any data shape and augmentation).
bool packable(const TrainConfig& cfg);

// Trials with equal keys can share a pack: model, batch size, epochs, data
// split sizes, device and data folder.
std::string pack_key(const TrainConfig& cfg);

// Trains `configs` (all packable, one pack key) together. `checkpoint_paths`
// has one file per copy, in run_training's format: a copy resumes from its
// file, alone or in any pack. Copies that start at different epochs (after a
// crash between two checkpoint writes) are frozen until the pack reaches them.
// A copy whose training loss turns non-finite stops with status diverged at
// that epoch; its parameters freeze and its NaNs never reach other copies.
// Returns one outcome per copy, in order.
std::vector<RunOutcome> run_pack(const std::vector<TrainConfig>& configs, const ImageDataset& data,
                                 const std::vector<std::string>& checkpoint_paths,
                                 const PackHooks& hooks, const PackOptions& options = {});

}  // namespace lrtune
