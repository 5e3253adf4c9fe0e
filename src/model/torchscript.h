// Networks from Python: a TorchScript file (torch.jit.script(net).save(path)
// or torch.jit.trace) trained as any built-in network. Its parameters and
// buffers are this module's own, under the script's names (the same tensors,
// so an optimizer step, .to(device), a checkpoint and a resume reach the
// script); train() and eval() reach it too, for dropout and batch norm.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/script.h>

#include "model/network.h"

namespace lrtune {

class TorchScriptNet : public Network {
 public:
  // Loads `file` and checks one batch of `shape` before any training: the
  // output must be [batch, classes]. ConfigError naming the file otherwise.
  TorchScriptNet(const std::string& file, const DataShape& shape);
  // Batches in any memory format: channels-last on the CPU when the script
  // took a channels-last batch (its weights are then channels-last too),
  // contiguous otherwise (a script that view()s its activations refuses
  // channels-last tensors).
  torch::Tensor forward(torch::Tensor x) override;
  void train(bool on = true) override;
  bool channels_last() const { return channels_last_; }

 private:
  bool accepts_channels_last(const std::vector<std::int64_t>& in);
  torch::jit::Module script_;
  bool channels_last_ = false;
};

// content hash of a model file (16 hex digits, FNV-1a 64 of its bytes);
// ConfigError when it cannot be read. Cached per path, size and time.
std::string model_file_hash(const std::string& file);

// The model file a stored trial configuration trains from, as {hash, path}
// (none unless its model is torchscript); ConfigError when the file no
// longer holds those bytes.
std::vector<std::pair<std::string, std::string>> model_files(const nlohmann::json& config);

// Points cfg's model_file at the bytes of its model_hash: the file itself
// while it holds them, else `cache_dir`/HASH.pt, fetched with `fetch(hash,
// path)` when absent (a store's copy: hosts need not share files).
// ConfigError when neither has them.
void use_kept_model_file(TrainConfig& cfg, const std::string& cache_dir,
                         const std::function<bool(const std::string&, const std::string&)>& fetch);

// The "torchscript" kind: keys model_file and model_hash.
ModelKind torchscript_model();

}  // namespace lrtune
