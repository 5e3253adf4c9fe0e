// The real trial runner: trains a trial's configuration with LibTorch, keeping
// its checkpoint in the trial's folder. Data is loaded once per worker.
#pragma once
#include <string>

#include "study/runner.h"
#include "study/trial_setup.h"

namespace lrtune {

class TorchTrialRunner final : public TrialRunner {
 public:
  explicit TorchTrialRunner(TorchRunnerOptions opts);
  // Sets the thread count and loads the data a first trial would use, so a
  // missing data folder stops the worker before it claims anything.
  void prepare(const nlohmann::json& first_config);
  TrialResult run(const TrialRecord& trial, const TrialContext& ctx) override;

 private:
  TorchRunnerOptions opts_;
  int threads_used_ = 0;
  DataCache data_;
};

}  // namespace lrtune
