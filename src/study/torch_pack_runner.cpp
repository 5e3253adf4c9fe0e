// TorchPackRunner: trial configs from the store, run_pack, hooks to each trial's context.
#include "study/torch_pack_runner.h"

#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/errors.h"
#include "core/process.h"
#include "core/provenance.h"
#include "data/cifar10.h"
#include "train/pack_trainer.h"
#include "train/trainer.h"

namespace lrtune {
namespace fs = std::filesystem;

struct TorchPackRunner::Loaded {
  std::string dir;
  Cifar10 data;
};

int default_pack_size(const std::string& device) {
  return resolve_device(device) == "cuda" ? kCudaPackSize : 1;
}

TorchPackRunner::TorchPackRunner(TorchRunnerOptions opts, std::string precision)
    : opts_(std::move(opts)), precision_(std::move(precision)) {}
TorchPackRunner::~TorchPackRunner() = default;

const TorchPackRunner::Loaded& TorchPackRunner::data_for(const std::string& dir) {
  if (!loaded_ || loaded_->dir != dir) {
    loaded_.reset();  // free the old set first: two copies need twice the memory
    loaded_ = std::make_unique<Loaded>(Loaded{dir, load_cifar10(dir)});
  }
  return *loaded_;
}

void TorchPackRunner::prepare(const nlohmann::json& first_config) {
  threads_used_ = apply_threads(opts_.threads);
  TrainConfig cfg;
  apply_json(cfg, first_config, "trial configuration");
  data_for(resolve_data_dir(opts_.data.empty() ? cfg.data : opts_.data));
}

TrainConfig TorchPackRunner::config_of(const TrialRecord& trial) const {
  TrainConfig cfg;
  apply_json(cfg, trial.spec.config, "trial " + trial.spec.id);
  if (!opts_.device.empty()) cfg.device = opts_.device;
  if (!opts_.data.empty()) cfg.data = opts_.data;
  cfg.threads = opts_.threads;
  cfg.validate("trial '" + trial.spec.label + "'");
  return cfg;
}

std::string TorchPackRunner::pack_key(const TrialRecord& trial) {
  try {
    const TrainConfig cfg = config_of(trial);
    return packable(cfg) ? lrtune::pack_key(cfg) : "";
  } catch (const Error&) {
    return "";  // a bad trial runs alone, where its error is reported
  }
}

std::vector<TrialResult> TorchPackRunner::run(const std::vector<TrialRecord>& trials,
                                              const std::vector<TrialContext>& contexts) {
  std::vector<TrainConfig> configs;
  std::vector<std::string> checkpoints;
  for (const auto& t : trials) configs.push_back(config_of(t));
  if (!threads_used_) threads_used_ = apply_threads(configs[0].threads);
  const std::string device = resolve_device(configs[0].device);
  const Cifar10& data = data_for(resolve_data_dir(configs[0].data)).data;
  const bool alone = trials.size() == 1 && (device == "cpu" || !packable(configs[0]));

  for (std::size_t k = 0; k < trials.size(); ++k) {
    const auto& ctx = contexts[k];
    std::error_code ec;
    fs::create_directories(ctx.trial_dir, ec);
    if (ec) throw StoreError(ctx.trial_dir + ": cannot create: " + ec.message());
    nlohmann::json info = {{"lrtune", lrtune_version()}, {"git_commit", git_commit()},
                           {"libtorch", torch_version()}, {"device", device},
                           {"threads", threads_used_},    {"seed", configs[k].seed},
                           {"host", host_name()}};
    if (!alone) {
      info["pack"] = trials.size();
      info["precision"] = precision_;
    }
    if (ctx.on_info) ctx.on_info(info);
    std::ofstream(fs::path(ctx.trial_dir) / "config.json")
        << nlohmann::json{{"id", trials[k].spec.id}, {"label", trials[k].spec.label},
                          {"config", to_json(configs[k])}, {"provenance", info}}
               .dump(2)
        << "\n";
    checkpoints.push_back((fs::path(ctx.trial_dir) / "checkpoint.pt").string());
    // A fresh start drops rows a lost checkpoint can no longer vouch for.
    if (!fs::exists(checkpoints.back()) && ctx.on_resume) ctx.on_resume(0);
  }

  std::vector<TrialResult> results;
  if (alone) {
    const auto& ctx = contexts[0];
    TrainHooks hooks;
    hooks.on_epoch = ctx.on_epoch;
    hooks.on_resume = ctx.on_resume;
    hooks.should_stop = ctx.should_stop;
    if (ctx.on_log)
      hooks.on_log = [log = ctx.on_log](const std::string& line, bool transient) {
        if (!transient) log(line);
      };
    const RunOutcome out = run_training(configs[0], data, checkpoints[0], hooks);
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
    if (!transient && contexts[k].on_log) contexts[k].on_log(line);
  };
  PackOptions options;
  options.precision = precision_;
  if (device == "cuda") options.eval_batch_size = kCudaEvalBatch;
  for (const auto& out : run_pack(configs, data, checkpoints, hooks, options))
    results.push_back({out.status, out.epochs_completed, out.message});
  return results;
}

}  // namespace lrtune
