// The real pack runner: trains a pack of a study's trials with run_pack (or a
// lone CPU trial with run_training), each trial in its own folder, with its
// own checkpoint, config.json and provenance. Data is loaded once per worker.
#pragma once
#include <set>
#include <string>

#include "core/config.h"
#include "study/runner.h"
#include "study/trial_setup.h"

namespace lrtune {

// Pack size when none is given: 1 on the CPU (a pack there is no faster per
// trial than run_training), kCudaPackSize on a GPU.
constexpr int kCudaPackSize = 32;
// Evaluation images per copy and forward pass on a GPU (a CPU keeps each
// trial's eval_batch_size: larger batches fall out of its caches).
constexpr std::int64_t kCudaEvalBatch = 1000;
int default_pack_size(const std::string& device);

class TorchPackRunner final : public PackTrialRunner {
 public:
  explicit TorchPackRunner(TorchRunnerOptions opts);
  // Sets the thread count and loads the data the first trial would use;
  // returns that data (its warnings are the caller's to show).
  const ImageDataset& prepare(const nlohmann::json& first_config);
  int threads() const { return threads_used_; }
  std::string pack_key(const TrialRecord& trial) override;
  std::vector<TrialResult> run(const std::vector<TrialRecord>& trials,
                               const std::vector<TrialContext>& contexts) override;

 private:
  TorchRunnerOptions opts_;
  int threads_used_ = 0;
  DataCache data_;
  std::set<std::string> told_unpacked_;  // models already said to train as packs of one
};

}  // namespace lrtune
