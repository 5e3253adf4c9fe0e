// TorchTrialRunner: a trial's config from the store, run_training, hooks to the worker.
#include "study/torch_runner.h"

#include "core/process.h"
#include "core/provenance.h"

namespace lrtune {

TorchTrialRunner::TorchTrialRunner(TorchRunnerOptions opts) : opts_(std::move(opts)) {}

void TorchTrialRunner::prepare(const nlohmann::json& first_config) {
  threads_used_ = prepare_worker(opts_, first_config, data_);
}

TrialResult TorchTrialRunner::run(const TrialRecord& trial, const TrialContext& ctx) {
  const TrainConfig cfg = trial_config(trial, opts_);
  if (!threads_used_) threads_used_ = apply_threads(cfg.threads);
  const std::string device = resolve_device(cfg.device);
  const Cifar10& data = data_.get(resolve_data_dir(cfg.data));
  const std::string checkpoint =
      open_trial_dir(trial, ctx, cfg, run_provenance(device, threads_used_, cfg.seed));
  const RunOutcome out = run_training(cfg, data, checkpoint, train_hooks(ctx));
  return {out.status, out.epochs_completed, out.message};
}

}  // namespace lrtune
