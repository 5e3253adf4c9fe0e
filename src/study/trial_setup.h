// What the single-trial and pack runners share: the data cache of a worker, a
// trial's effective configuration, its folder (config.json with provenance) and
// the trainer hooks that forward to a trial's context.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "data/cifar10.h"
#include "study/runner.h"
#include "train/trainer.h"

namespace lrtune {

struct TorchRunnerOptions {
  std::int64_t threads = 0;  // LibTorch threads of this worker (0 = all cores)
  std::string device;        // "" = each trial's own setting
  std::string data;          // folder; "" = each trial's own setting (data/datasets.h, data_folder)
  bool adapt_threads = false;  // up to `threads`, fewer while fewer train faster
  int pack_size = 1;           // trials per pack the worker claims (--pack)
};

// One data set in memory per worker, reloaded only when a trial names another
// (another kind, other values of its keys, or another folder).
class DataCache {
 public:
  const ImageDataset& get(const TrainConfig& cfg);
  // The set the last get() returned (one must have been made).
  const ImageDataset& current() const { return *data_; }

 private:
  std::string key_;  // dataset_key and folder of the set held
  std::unique_ptr<ImageDataset> data_;
};

// Sets the worker's thread count and loads the data a first trial would use,
// so that a missing data folder stops the worker before it claims anything.
// Returns the thread count.
int prepare_worker(const TorchRunnerOptions& opts, const nlohmann::json& first_config,
                   DataCache& data);

// The trial's stored configuration with the worker's overrides, validated.
TrainConfig trial_config(const TrialRecord& trial, const TorchRunnerOptions& opts);

// Creates the trial's folder, reports `info` (with the fingerprint of `data`,
// the copy the trial trains on, and the first start's time added) to the
// context and writes config.json: made with the trial's id and label, its
// "config" and "provenance" refreshed at each start, other keys kept; one line
// when `data` is not the copy the trial started with.
// Returns the checkpoint path; when there is no checkpoint yet the context is
// told the run starts from scratch (rows a lost checkpoint can no longer vouch
// for are dropped). A damaged checkpoint is renamed checkpoint.pt.damaged, one
// ahead of the store's epochs checkpoint.pt.orphaned, and the trial starts
// from scratch, with one line saying so.
std::string open_trial_dir(const TrialRecord& trial, const TrialContext& ctx,
                           const TrainConfig& cfg, nlohmann::json info, const ImageDataset& data);

// run_training's hooks, forwarding to the context (transient lines too: the
// worker drops them, unless its train_log wants them).
TrainHooks train_hooks(const TrialContext& ctx);

}  // namespace lrtune
