// Checkpoints of single copies of a pack, in run_training's format (a
// ReferenceCnn and a torch::optim::SGD with its momentum buffers): a trial can
// resume alone, in another pack, or in a pack of another size.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <torch/types.h>

#include "core/config.h"
#include "model/packed_cnn.h"
#include "optim/packed_sgd.h"

namespace lrtune {

// Writes copy k after `epoch` completed epochs (atomically: temporary file, then rename).
void save_copy_checkpoint(const std::string& path, const PackedCnn& model, PackedSgd& optimizer,
                          std::int64_t k, const TrainConfig& cfg, std::int64_t epoch);

// Loads copy k from `path` and returns its completed epochs, or nothing when
// the file does not exist. Throws StoreError as load_checkpoint does.
std::optional<std::int64_t> load_copy_checkpoint(const std::string& path, PackedCnn& model,
                                                 PackedSgd& optimizer, std::int64_t k,
                                                 const TrainConfig& cfg,
                                                 const torch::Device& device);

}  // namespace lrtune
