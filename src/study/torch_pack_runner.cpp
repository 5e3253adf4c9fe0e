// TorchPackRunner: trial configs from the store, run_pack, hooks to each trial's context.
#include "study/torch_pack_runner.h"

#include <filesystem>

#include "core/config.h"
#include "core/errors.h"
#include "core/process.h"
#include "core/provenance.h"
#include "model/torchscript.h"
#include "train/pack_trainer.h"
#include "train/trainer.h"

namespace lrtune {

int default_pack_size(const std::string& device) {
  return resolve_device(device) == "cuda" ? kCudaPackSize : 1;
}

TorchPackRunner::TorchPackRunner(TorchRunnerOptions opts) : opts_(std::move(opts)) {}

const ImageDataset& TorchPackRunner::prepare(const nlohmann::json& first_config) {
  threads_used_ = prepare_worker(opts_, first_config, data_);
  return data_.current();
}

std::string TorchPackRunner::pack_key(const TrialRecord& trial) {
  try {
    const TrainConfig cfg = trial_config(trial, opts_);
    return packable(cfg) ? lrtune::pack_key(cfg) : "";
  } catch (const Error&) {
    return "";  // a bad trial runs alone, where its error is reported
  }
}

std::vector<TrialResult> TorchPackRunner::run(const std::vector<TrialRecord>& trials,
                                              const std::vector<TrialContext>& contexts) {
  std::vector<TrainConfig> configs;
  std::vector<std::string> checkpoints;
  for (std::size_t k = 0; k < trials.size(); ++k) {
    configs.push_back(trial_config(trials[k], opts_));
    // A model file from the store where this host lacks the trial's bytes.
    const auto models = std::filesystem::path(contexts[k].trial_dir).parent_path().parent_path() / "models";
    use_kept_model_file(configs.back(), models.string(), contexts[k].fetch_file);
  }
  if (!threads_used_) threads_used_ = apply_threads(configs[0].threads, opts_.adapt_threads);
  const std::string device = resolve_device(configs[0].device);
  const ImageDataset& data = data_.get(configs[0]);
  // A lone trial trains as `lrtune train` does, but for bf16 on a GPU, which
  // the pack trainer's device batcher feeds faster.
  const bool alone = trials.size() == 1 && (device == "cpu" || !packable(configs[0]) ||
                                            configs[0].precision == "fp32");

  for (std::size_t k = 0; k < trials.size(); ++k) {
    nlohmann::json info = run_provenance(device, threads_used_, configs[k].seed);
    if (!alone) info["pack"] = trials.size();
    checkpoints.push_back(open_trial_dir(trials[k], contexts[k], configs[k], info, data));
  }

  std::vector<TrialResult> results;
  const std::string& model = configs[0].model;
  if (opts_.pack_size > 1 && !packable(configs[0]) && told_unpacked_.insert(model).second &&
      contexts[0].on_log)
    contexts[0].on_log("model '" + model + "' has no packed form: its trials train as packs of one (--pack " +
                           std::to_string(opts_.pack_size) + " packs reference_cnn trials)",
                       false);
  if (alone) {
    const RunOutcome out = run_training(configs[0], data, checkpoints[0], train_hooks(contexts[0]));
    results.push_back({out.status, out.epochs_completed, out.message});
    return results;
  }
  PackHooks hooks;
  hooks.on_epoch = [&](std::size_t k, const EpochMetrics& m) {
    if (contexts[k].on_epoch) contexts[k].on_epoch(m);
  };
  hooks.on_resume = [&](std::size_t k, std::int64_t last) {
    if (contexts[k].on_resume) contexts[k].on_resume(last);
  };
  hooks.should_stop = [&](std::size_t k) {
    return contexts[k].should_stop && contexts[k].should_stop();
  };
  hooks.on_log = [&](std::size_t k, const std::string& line, bool transient) {
    if (contexts[k].on_log) contexts[k].on_log(line, transient);
  };
  PackOptions options;
  if (device == "cuda") options.eval_batch_size = kCudaEvalBatch;
  for (const auto& out : run_pack(configs, data, checkpoints, hooks, options))
    results.push_back({out.status, out.epochs_completed, out.message});
  return results;
}

}  // namespace lrtune
