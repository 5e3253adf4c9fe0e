// Per-epoch checkpoints: model, optimizer state, epoch, the configuration's
// identity and the schedule's state, written atomically (temporary file, then
// rename).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "core/config.h"

namespace lrtune {

// Saves after `epoch` completed epochs. Random state needs no saving: every
// epoch reseeds its generators from (seed, epoch), so the epoch number is it.
// `schedule_state` is Schedule::state() (null for stateless schedules).
void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, std::int64_t epoch,
                     const TrainConfig& cfg,
                     const nlohmann::json& schedule_state = nullptr);

struct LoadedCheckpoint {
  std::int64_t epoch = 0;
  nlohmann::json schedule_state;  // null when none was saved
};

// Loads into `model` and `optimizer`, or nothing when there is no checkpoint
// file. Throws StoreError when the file is unreadable or was made with another
// configuration (checkpoints of lrtune 0.1, which stored every identity key,
// are compared by value and load).
std::optional<LoadedCheckpoint> load_checkpoint(const std::string& path, torch::nn::Module& model,
                                                torch::optim::Optimizer& optimizer,
                                                const TrainConfig& cfg,
                                                const torch::Device& device);

// Whether an identity stored with a checkpoint (today's sparse form or 0.1's
// full one) is the identity of `cfg`.
bool same_identity(const std::string& stored, const TrainConfig& cfg);

}  // namespace lrtune
