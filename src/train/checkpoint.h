// Per-epoch checkpoints: model, optimizer state, epoch, the configuration's
// identity and the schedule's state, with a CRC-32C of it all, written
// atomically (temporary file, then rename) and verified on load.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "core/config.h"
#include "core/errors.h"

namespace lrtune {

// A checkpoint that cannot be trusted: its checksum does not match, or it is
// cut short or unreadable. The message names the file; `reason` says why.
struct DamagedCheckpointError : StoreError {
  DamagedCheckpointError(const std::string& path, const std::string& why);
  std::string reason;
};

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
// file. Throws DamagedCheckpointError when the file is damaged, StoreError
// when it was made with another configuration (checkpoints of lrtune 0.1, which stored every identity key,
// are compared by value and load).
std::optional<LoadedCheckpoint> load_checkpoint(const std::string& path, torch::nn::Module& model,
                                                torch::optim::Optimizer& optimizer,
                                                const TrainConfig& cfg,
                                                const torch::Device& device);

// The completed epochs of an existing checkpoint file, after verifying it
// (DamagedCheckpointError when it is damaged).
std::int64_t checkpoint_epoch(const std::string& path);

// Whether an identity stored with a checkpoint (today's sparse form or 0.1's
// full one) is the identity of `cfg`.
bool same_identity(const std::string& stored, const TrainConfig& cfg);

}  // namespace lrtune
