// TorchTrialRunner: a trial's config from the store, run_training, hooks to the worker.
#include "study/torch_runner.h"

#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/errors.h"
#include "core/process.h"
#include "core/provenance.h"
#include "data/cifar10.h"
#include "train/trainer.h"

namespace lrtune {

struct TorchTrialRunner::Loaded {
  std::string dir;
  Cifar10 data;
};

TorchTrialRunner::TorchTrialRunner(TorchRunnerOptions opts) : opts_(std::move(opts)) {}
TorchTrialRunner::~TorchTrialRunner() = default;

const TorchTrialRunner::Loaded& TorchTrialRunner::data_for(const std::string& dir) {
  if (!loaded_ || loaded_->dir != dir) {
    loaded_.reset();  // free the old set first: two copies need twice the memory
    loaded_ = std::make_unique<Loaded>(Loaded{dir, load_cifar10(dir)});
  }
  return *loaded_;
}

void TorchTrialRunner::prepare(const nlohmann::json& first_config) {
  threads_used_ = apply_threads(opts_.threads);
  TrainConfig cfg;
  apply_json(cfg, first_config, "trial configuration");
  data_for(resolve_data_dir(opts_.data.empty() ? cfg.data : opts_.data));
}

TrialResult TorchTrialRunner::run(const TrialRecord& trial, const TrialContext& ctx) {
  TrainConfig cfg;
  apply_json(cfg, trial.spec.config, "trial " + trial.spec.id);
  if (!opts_.device.empty()) cfg.device = opts_.device;
  if (!opts_.data.empty()) cfg.data = opts_.data;
  cfg.threads = opts_.threads;
  cfg.validate("trial '" + trial.spec.label + "'");
  if (!threads_used_) threads_used_ = apply_threads(cfg.threads);
  const std::string device = resolve_device(cfg.device);
  const Cifar10& data = data_for(resolve_data_dir(cfg.data)).data;

  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(ctx.trial_dir, ec);
  if (ec) throw StoreError(ctx.trial_dir + ": cannot create: " + ec.message());
  const nlohmann::json info = {{"lrtune", lrtune_version()}, {"git_commit", git_commit()},
                               {"libtorch", torch_version()}, {"device", device},
                               {"threads", threads_used_},    {"seed", cfg.seed},
                               {"host", host_name()}};
  if (ctx.on_info) ctx.on_info(info);
  std::ofstream(fs::path(ctx.trial_dir) / "config.json")
      << nlohmann::json{{"id", trial.spec.id}, {"label", trial.spec.label},
                        {"config", to_json(cfg)}, {"provenance", info}}
             .dump(2)
      << "\n";

  const std::string checkpoint = (fs::path(ctx.trial_dir) / "checkpoint.pt").string();
  // A fresh start drops rows a lost checkpoint can no longer vouch for.
  if (!fs::exists(checkpoint) && ctx.on_resume) ctx.on_resume(0);
  TrainHooks hooks;
  hooks.on_epoch = ctx.on_epoch;
  hooks.on_resume = ctx.on_resume;
  hooks.should_stop = ctx.should_stop;
  if (ctx.on_log)
    hooks.on_log = [log = ctx.on_log](const std::string& line, bool transient) {
      if (!transient) log(line);
    };
  const RunOutcome out = run_training(cfg, data, checkpoint, hooks);
  return {out.status, out.epochs_completed, out.message};
}

}  // namespace lrtune
