// The real trial runner: trains a trial's configuration with LibTorch, keeping
// its checkpoint in the trial's folder. Data is loaded once per worker.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "study/runner.h"

namespace lrtune {

struct TorchRunnerOptions {
  std::int64_t threads = 0;  // LibTorch threads of this worker (0 = all cores)
  std::string device;        // "" = each trial's own setting
  std::string data;          // "" = each trial's own setting, else $LRTUNE_DATA, ...
};

class TorchTrialRunner final : public TrialRunner {
 public:
  explicit TorchTrialRunner(TorchRunnerOptions opts);
  ~TorchTrialRunner() override;
  // Sets the thread count and loads the data a first trial would use, so a
  // missing data folder stops the worker before it claims anything.
  void prepare(const nlohmann::json& first_config);
  TrialResult run(const TrialRecord& trial, const TrialContext& ctx) override;

 private:
  struct Loaded;
  const Loaded& data_for(const std::string& dir);
  TorchRunnerOptions opts_;
  int threads_used_ = 0;
  std::unique_ptr<Loaded> loaded_;
};

}  // namespace lrtune
