// Per-epoch checkpoints: model, optimizer state, epoch and the configuration
// identity, written atomically (temporary file, then rename).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace lrtune {

// Saves after `epoch` completed epochs. Random state needs no saving: every
// epoch reseeds its generators from (seed, epoch), so the epoch number is it.
void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, std::int64_t epoch,
                     const std::string& config_identity);

// Loads into `model` and `optimizer` and returns the completed epoch count, or
// nothing when there is no checkpoint file. Throws StoreError when the file is
// unreadable or was made with another configuration.
std::optional<std::int64_t> load_checkpoint(const std::string& path, torch::nn::Module& model,
                                            torch::optim::Optimizer& optimizer,
                                            const std::string& config_identity,
                                            const torch::Device& device);

}  // namespace lrtune
