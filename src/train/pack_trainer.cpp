// The pack's epoch loop: per-copy schedules, masks for stopped and diverged
// copies, metrics summed on the device and read once per epoch.
#include "train/pack_trainer.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/format.h"
#include "data/split.h"
#include "model/network.h"
#include "model/packed_cnn.h"
#include "model/reference_cnn.h"
#include "optim/packed_sgd.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "model/autocast.h"
#include "train/meters.h"
#include "train/pack_batches.h"
#include "train/pack_checkpoint.h"
#include "train/seed_streams.h"
#include "train/session.h"
#include "train/threads.h"

namespace lrtune {
namespace {

// Per-sample cross-entropy of logits [K, n, 10] against labels [K, n]: [K, n].
torch::Tensor per_sample_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  namespace F = torch::nn::functional;
  const auto K = logits.size(0), n = logits.size(1);
  return F::cross_entropy(logits.reshape({K * n, -1}).to(torch::kFloat32), labels.reshape({K * n}),
                          F::CrossEntropyFuncOptions().reduction(torch::kNone))
      .view({K, n});
}

// Loss and correct counts per copy, summed on the device.
struct PackMeter {
  torch::Tensor loss_sum, correct;  // float64 [K], int64 [K]
  std::int64_t count = 0;
  PackMeter(std::int64_t K, const torch::Device& d)
      : loss_sum(torch::zeros({K}, torch::dtype(torch::kFloat64).device(d))),
        correct(torch::zeros({K}, torch::dtype(torch::kInt64).device(d))) {}
  void add(const torch::Tensor& mean_loss, const torch::Tensor& logits, const torch::Tensor& y) {
    torch::NoGradGuard no_grad;
    loss_sum.add_(mean_loss.detach().to(torch::kFloat64) * static_cast<double>(y.size(1)));
    correct.add_(logits.argmax(2).eq(y).sum(1));
    count += y.size(1);
  }
  std::vector<double> mean_loss() const { return divide(loss_sum); }
  std::vector<double> accuracy() const { return divide(correct.to(torch::kFloat64)); }
  std::vector<double> divide(const torch::Tensor& t) const {
    const auto host = t.cpu();
    std::vector<double> out(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
    for (auto& v : out) v /= static_cast<double>(std::max<std::int64_t>(count, 1));
    return out;
  }
};

// The pack's training session (train/session.h): run_session drives it.
class PackTrainer final : public TrainingSession {
 public:
  PackTrainer(const std::vector<TrainConfig>& configs, const ImageDataset& data,
              const std::vector<std::string>& paths, const PackHooks& hooks,
              const PackOptions& options);
  EpochRange resume() override;
  bool trains(std::int64_t epoch) const override;
  bool train_epoch(std::int64_t epoch) override;
  void finish_epoch(std::int64_t epoch) override;
  std::vector<RunOutcome> outcomes() const override;

 private:
  struct Copy {
    RunOutcome outcome;
    std::int64_t start = 0;
    bool running = true;
  };
  bool active(std::size_t k, std::int64_t epoch) const {
    return copies_[k].running && copies_[k].start <= epoch && epoch < configs_[k].epochs;
  }
  void log(std::size_t k, const std::string& line, bool transient) const {
    if (hooks_.on_log) hooks_.on_log(k, line, transient);
  }
  void build_model();
  void load_checkpoints();
  torch::Tensor active_mask(std::int64_t epoch) const;
  bool poll_stops(std::int64_t epoch);
  bool train_steps(std::int64_t epoch, PackMeter& meter, std::vector<double>& last_lr);
  PackMeter evaluate(bool validation);
  void record_epoch(std::int64_t epoch, const PackMeter& train, double train_seconds,
                    const Stopwatch& clock, const std::vector<double>& last_lr);

  std::vector<TrainConfig> configs_;
  std::vector<std::string> paths_;
  const PackHooks& hooks_;
  PackOptions options_;
  DataShape shape_;
  torch::Device device_;
  bool bf16_ = false;
  std::unique_ptr<PackBatches> batches_;
  PackedCnn model_{nullptr};
  std::unique_ptr<PackedSgd> optimizer_;
  std::vector<Copy> copies_;
  torch::Tensor alive_;  // bool [K]: false once a copy's loss was not finite
  std::uint64_t pack_seed_ = 0;
  // The epoch in progress, between train_epoch and finish_epoch.
  std::optional<PackMeter> meter_;
  std::vector<double> last_lr_;
  Stopwatch clock_;
  double train_seconds_ = 0;
};

PackTrainer::PackTrainer(const std::vector<TrainConfig>& configs, const ImageDataset& data,
                         const std::vector<std::string>& paths, const PackHooks& hooks,
                         const PackOptions& options)
    : configs_(configs), paths_(paths), hooks_(hooks), options_(options), shape_(data.shape()),
      device_(resolve_device(configs.at(0).device)), copies_(configs.size()) {
  if (paths_.size() != configs_.size())
    throw ConfigError("pack: one checkpoint path per trial is needed");
  const std::string key = pack_key(configs_[0]);
  for (const auto& cfg : configs_) {
    cfg.validate();
    if (!packable(cfg))
      throw ConfigError("pack: model '" + cfg.model +
                        "' has no packed form (packs train reference_cnn); run with --pack 1");
    if (!optimizer_kind(cfg.optimizer).packs)
      throw ConfigError("pack: optimizer '" + cfg.optimizer +
                        "' cannot be trained in a pack (only sgd can); run with --pack 1");
    const auto probe = make_schedule(cfg, {cfg.epochs, 1});
    if (probe->momentum(0, 0) || !probe->state().is_null())
      throw ConfigError("pack: schedule '" + cfg.schedule +
                        "' sets the momentum or keeps state, which packs do not support; run "
                        "with --pack 1");
    if (pack_key(cfg) != key)
      throw ConfigError("pack: trials differ in model, batch size, epochs, split, precision or device");
  }
  bf16_ = configs_[0].precision == "bf16";
  check_precision(configs_[0].precision, device_.is_cuda() ? "cuda" : "cpu");
  if (device_.is_cpu())
    at::globalContext().setDeterministicAlgorithms(configs_[0].deterministic, /*warn_only=*/false);
  const bool on_device =
      options_.data_on_device < 0 ? device_.is_cuda() : options_.data_on_device == 1;
  batches_ = std::make_unique<PackBatches>(configs_, data, device_, on_device);
  pack_seed_ = static_cast<std::uint64_t>(configs_[0].seed);
  for (std::size_t k = 1; k < configs_.size(); ++k)
    pack_seed_ = mix_seed(pack_seed_, static_cast<std::uint64_t>(configs_[k].seed));
  build_model();
}

void PackTrainer::build_model() {
  const auto K = static_cast<std::int64_t>(configs_.size());
  model_ = PackedCnn(K, shape_, options_.dropout);
  for (std::int64_t k = 0; k < K; ++k) {
    // The same initial weights as run_training gives this trial.
    torch::manual_seed(mix_seed(static_cast<std::uint64_t>(configs_[k].seed), streams::kInit));
    ReferenceCnn single(shape_, options_.dropout);
    model_->load_copy(k, single);
  }
  model_->to(device_);
  model_->set_channels_last(options_.channels_last < 0 ? device_.is_cpu()
                                                       : options_.channels_last == 1);
  std::vector<SgdSettings> settings;
  for (const auto& c : configs_)
    settings.push_back({c.real("momentum"), c.real("dampening"), c.flag("nesterov"),
                        c.weight_decay});
  optimizer_ = std::make_unique<PackedSgd>(model_->parameters(), settings);
  alive_ = torch::ones({K}, torch::dtype(torch::kBool).device(device_));
}

void PackTrainer::load_checkpoints() {
  for (std::size_t k = 0; k < configs_.size(); ++k) {
    const auto done = load_copy_checkpoint(paths_[k], model_, *optimizer_,
                                           static_cast<std::int64_t>(k), configs_[k], device_);
    if (!done) continue;
    copies_[k].start = *done;
    copies_[k].outcome.epochs_completed = *done;
    if (hooks_.on_resume) hooks_.on_resume(k, *done);
    log(k, "resuming after epoch " + std::to_string(*done) + " from " + paths_[k], false);
  }
}

torch::Tensor PackTrainer::active_mask(std::int64_t epoch) const {
  std::vector<std::uint8_t> on;
  for (std::size_t k = 0; k < configs_.size(); ++k) on.push_back(active(k, epoch));
  return torch::tensor(on, torch::kUInt8).to(torch::kBool).to(device_);
}

// Stops the copies whose hook asks for it; true when one did.
bool PackTrainer::poll_stops(std::int64_t epoch) {
  bool changed = false;
  for (std::size_t k = 0; k < configs_.size(); ++k) {
    if (!active(k, epoch) || !hooks_.should_stop(k)) continue;
    copies_[k].running = false;
    copies_[k].outcome.message = "stopped during epoch " + std::to_string(epoch + 1);
    changed = true;
  }
  return changed;
}

bool PackTrainer::train_steps(std::int64_t epoch, PackMeter& meter, std::vector<double>& last_lr) {
  const auto K = static_cast<std::int64_t>(configs_.size());
  const std::int64_t n_train = batches_->train_size(), batch = configs_[0].batch_size;
  const std::int64_t steps = (n_train + batch - 1) / batch;
  batches_->start_epoch(epoch);
  // Every copy's rate for every step of the epoch, uploaded once: [steps, K].
  std::vector<double> rates(static_cast<std::size_t>(steps * K));
  std::vector<std::unique_ptr<Schedule>> schedules;
  for (const auto& c : configs_) schedules.push_back(make_schedule(c, {c.epochs, steps}));
  for (std::int64_t s = 0; s < steps; ++s)
    for (std::int64_t k = 0; k < K; ++k) rates[s * K + k] = schedules[k]->lr(epoch, s);
  for (std::int64_t k = 0; k < K; ++k) last_lr[k] = rates[(steps - 1) * K + k];
  const auto lr_table = torch::tensor(rates, torch::kFloat64).view({steps, K}).to(device_, torch::kFloat32);
  torch::manual_seed(mix_seed(pack_seed_, streams::kDropout + static_cast<std::uint64_t>(epoch)));
  model_->train();
  auto in_epoch = active_mask(epoch);  // bool [K]: copies this epoch trains
  Stopwatch clock;
  double last_report = 0;
  for (std::int64_t step = 0; step < steps; ++step) {
    if (hooks_.should_stop && poll_stops(epoch)) {
      bool any = false;
      for (std::size_t k = 0; k < configs_.size(); ++k) any = any || active(k, epoch);
      if (!any) return false;
      in_epoch = active_mask(epoch);
    }
    const Stopwatch step_clock;
    const std::int64_t begin = step * batch;
    const Batch b = batches_->train(begin, std::min(n_train, begin + batch));
    optimizer_->zero_grad();
    torch::Tensor logits;
    {
      const Bf16Autocast autocast(device_, bf16_);
      logits = model_->forward(b.images);
    }
    const auto loss = per_sample_loss(logits, b.labels).mean(1);  // [K]
    alive_.logical_and_(torch::isfinite(loss.detach()).logical_or(in_epoch.logical_not()));
    const auto stepping = in_epoch.logical_and(alive_);
    // Stopped, finished and diverged copies add exactly nothing to the loss.
    torch::where(stepping, loss, torch::zeros_like(loss)).sum().backward();
    optimizer_->step(lr_table[step], stepping);
    meter.add(loss, logits, b.labels);
    if (device_.is_cpu()) after_training_step(step_clock.seconds(), b.labels.size(0) * K);
    if (hooks_.on_log && clock.seconds() - last_report >= kProgressEverySeconds) {
      last_report = clock.seconds();
      const auto losses = meter.mean_loss();
      for (std::size_t k = 0; k < configs_.size(); ++k)
        if (active(k, epoch))
          log(k, epoch_progress_line(epoch, configs_[k].epochs, meter.count, n_train, last_report,
                                     losses[k], /*per_trial=*/true),
              true);
    }
  }
  return true;
}

PackMeter PackTrainer::evaluate(bool validation) {
  torch::NoGradGuard no_grad;
  model_->eval();
  PackMeter meter(static_cast<std::int64_t>(configs_.size()), device_);
  const std::int64_t n = validation ? batches_->val_size() : batches_->test_size();
  const std::int64_t size =
      options_.eval_batch_size > 0 ? options_.eval_batch_size : configs_[0].eval_batch_size;
  for (std::int64_t b = 0; b < n; b += size) {
    const Batch batch = validation ? batches_->val(b, std::min(n, b + size))
                                   : batches_->test(b, std::min(n, b + size));
    torch::Tensor logits;
    {
      const Bf16Autocast autocast(device_, bf16_);
      logits = model_->forward(batch.images);
    }
    meter.add(per_sample_loss(logits, batch.labels).mean(1), logits, batch.labels);
  }
  return meter;
}

void PackTrainer::record_epoch(std::int64_t epoch, const PackMeter& train, double train_seconds,
                               const Stopwatch& clock, const std::vector<double>& last_lr) {
  const auto train_loss = train.mean_loss(), train_acc = train.accuracy();
  const PackMeter val = evaluate(true), test = evaluate(false);
  const auto val_loss = val.mean_loss(), val_acc = val.accuracy();
  const auto test_loss = test.mean_loss(), test_acc = test.accuracy();
  for (std::size_t k = 0; k < configs_.size(); ++k) {
    if (!active(k, epoch)) continue;
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.lr = last_lr[k];
    m.train_loss = train_loss[k];
    m.train_acc = train_acc[k];
    m.val_loss = val_loss[k];
    m.val_acc = val_acc[k];
    m.test_loss = test_loss[k];
    m.test_acc = test_acc[k];
    m.seconds = clock.seconds();  // the whole epoch, evaluation included
    m.images_per_s = static_cast<double>(batches_->train_size()) / train_seconds;
    if (hooks_.on_epoch) hooks_.on_epoch(k, m);
    log(k, epoch_summary_line(m, configs_[k].epochs, configs_.size()), false);
    auto& c = copies_[k];
    c.outcome.epochs_completed = epoch + 1;
    if (!std::isfinite(m.train_loss)) {
      c.running = false;
      c.outcome.status = RunStatus::diverged;
      c.outcome.message = "training loss became non-finite in epoch " + std::to_string(epoch + 1);
      log(k, "diverged: " + c.outcome.message, false);
      continue;
    }
    save_copy_checkpoint(paths_[k], model_, *optimizer_, static_cast<std::int64_t>(k),
                         configs_[k], epoch + 1);
    if (epoch + 1 == configs_[k].epochs) {
      c.running = false;
      c.outcome.status = RunStatus::done;
    }
  }
}

EpochRange PackTrainer::resume() {
  load_checkpoints();
  EpochRange range;
  bool any = false;
  for (std::size_t k = 0; k < configs_.size(); ++k) {
    if (copies_[k].start >= configs_[k].epochs) {
      copies_[k].running = false;  // finished before: nothing left to train
      copies_[k].outcome.status = RunStatus::done;
      continue;
    }
    range.first = any ? std::min(range.first, copies_[k].start) : copies_[k].start;
    range.end = std::max(range.end, configs_[k].epochs);
    any = true;
  }
  last_lr_.assign(configs_.size(), 0.0);
  return range;
}

bool PackTrainer::trains(std::int64_t epoch) const {
  for (std::size_t k = 0; k < configs_.size(); ++k)
    if (active(k, epoch)) return true;
  return false;
}

bool PackTrainer::train_epoch(std::int64_t epoch) {
  clock_ = Stopwatch();
  meter_.emplace(static_cast<std::int64_t>(configs_.size()), device_);
  if (!train_steps(epoch, *meter_, last_lr_)) return false;
  train_seconds_ = clock_.seconds();
  return true;
}

void PackTrainer::finish_epoch(std::int64_t epoch) {
  record_epoch(epoch, *meter_, train_seconds_, clock_, last_lr_);
}

std::vector<RunOutcome> PackTrainer::outcomes() const {
  std::vector<RunOutcome> out;
  for (const auto& c : copies_) out.push_back(c.outcome);
  return out;
}

}  // namespace

bool packable(const TrainConfig& cfg) {
  return cfg.model == "reference_cnn";
}

std::string pack_key(const TrainConfig& cfg) {
  return cfg.model + "|b" + std::to_string(cfg.batch_size) + "|e" + std::to_string(cfg.epochs) +
         "|s" + std::to_string(cfg.train_subset) + "|v" + std::to_string(cfg.val_size) + "|" +
         resolve_device(cfg.device) + "|" + cfg.dataset + "|" + cfg.data + "|" + cfg.precision +
         (cfg.deterministic ? "" : "|nondeterministic");
}

std::vector<RunOutcome> run_pack(const std::vector<TrainConfig>& configs, const ImageDataset& data,
                                 const std::vector<std::string>& checkpoint_paths,
                                 const PackHooks& hooks, const PackOptions& options) {
  if (configs.empty()) return {};
  PackTrainer trainer(configs, data, checkpoint_paths, hooks, options);
  return run_session(trainer);
}

}  // namespace lrtune
