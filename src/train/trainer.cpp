// The session of one run: set-up, one training epoch, evaluation, checkpoint,
// resume; run_training drives it with the one epoch loop (train/session.h).
#include "train/trainer.h"

#include <cmath>
#include <optional>
#include <random>
#include <thread>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/format.h"
#include "data/batcher.h"
#include "data/split.h"
#include "model/autocast.h"
#include "model/network.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "train/checkpoint.h"
#include "train/meters.h"
#include "train/seed_streams.h"

#include <nlohmann/json.hpp>

namespace lrtune {
namespace {

void to_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

struct Evaluation {
  double loss = 0, acc = 0;
};

Evaluation evaluate(Network& model, const BatchMaker& maker, const std::vector<std::int64_t>& idx,
                    std::int64_t batch_size, const torch::Device& device, bool bf16) {
  torch::NoGradGuard no_grad;
  const Bf16Autocast autocast(device, bf16);
  model.eval();
  AccuracyMeter meter(device);
  const auto n = static_cast<std::int64_t>(idx.size());
  for (std::int64_t b = 0; b < n; b += batch_size) {
    Batch batch = maker.make(idx, b, std::min(n, b + batch_size), nullptr);
    auto x = batch.images.to(device, /*non_blocking=*/true);
    auto y = batch.labels.to(device, /*non_blocking=*/true);
    auto logits = model.forward(x).to(torch::kFloat32);
    meter.add(torch::nn::functional::cross_entropy(logits, y), logits, y);
  }
  return {meter.mean_loss(), meter.accuracy()};
}

}  // namespace

std::string resolve_device(const std::string& device) {
  const bool cuda = torch::cuda::is_available();
  if (device == "cuda" && !cuda)
    throw ConfigError("device: cuda was asked for, but this LibTorch build sees no CUDA GPU " +
                      std::string("(use --device cpu or auto)"));
  if (device == "auto") return cuda ? "cuda" : "cpu";
  return device;
}

struct SingleSession::State {
  State(const TrainConfig& c, const ImageDataset& data, std::string path, TrainHooks h)
      : cfg(c), hooks(std::move(h)), checkpoint_path(std::move(path)),
        device(resolve_device(c.device)), bf16(c.precision == "bf16"),
        seed(static_cast<std::uint64_t>(c.seed)),
        shape(data.shape()),
        split(stratified_split(data.train.labels, shape.classes, c.val_size, c.train_subset, seed)),
        stats(channel_stats(data.train.images, split.train)),
        // Channels-last is faster for these convolutions on the CPU (docs/performance.md).
        channels_last(device.is_cpu() && model_kind(c.model).channels_last),
        train_maker(data.train, stats, channels_last),
        test_maker(data.test, stats, channels_last), meter(device) {}

  void log(const std::string& line, bool transient) const {
    if (hooks.on_log) hooks.on_log(line, transient);
  }

  // The epoch's order, augmentation and dropout streams: pure functions of
  // the seed and the epoch, so a resumed run draws what an uninterrupted one does.
  void begin_epoch(std::int64_t epoch) {
    order.resize(static_cast<std::size_t>(n_train));
    const auto perm = permutation(n_train, mix_seed(seed, streams::kOrder + epoch));
    for (std::int64_t i = 0; i < n_train; ++i) order[i] = split.train[perm[i]];
    augment_rng.seed(mix_seed(seed, streams::kAugment + epoch));
    torch::manual_seed(mix_seed(seed, streams::kDropout + epoch));
    order_epoch = epoch;
    model->train();
  }

  // One optimizer step on batch `step` of the epoch begun, at rate `lr`; the
  // batch goes into the meter. Returns the batch's mean loss.
  torch::Tensor train_step(std::int64_t step, double lr, std::optional<double> momentum) {
    const Stopwatch step_clock;
    optimizer->set_lr(lr);
    if (momentum) optimizer->set_momentum(*momentum);
    const std::int64_t begin = step * cfg.batch_size;
    Batch batch = train_maker.make(order, begin, std::min(n_train, begin + cfg.batch_size),
                                   cfg.augmentation() == "none" ? nullptr : &augment_rng,
                                   /*flip=*/cfg.augmentation() == "flipcrop");
    auto x = batch.images.to(device, /*non_blocking=*/true);
    auto y = batch.labels.to(device, /*non_blocking=*/true);
    optimizer->torch().zero_grad();
    torch::Tensor logits;
    {
      const Bf16Autocast autocast(device, bf16);
      logits = model->forward(x);
    }
    // The loss in fp32, as PyTorch's autocast computes it.
    logits = logits.to(torch::kFloat32);
    auto loss = torch::nn::functional::cross_entropy(logits, y);
    loss.backward();
    optimizer->torch().step();
    meter.add(loss, logits, y);
    if (device.is_cpu())  // on a GPU the step is asynchronous: its time here means nothing
      after_training_step(step_clock.seconds(), batch.labels.size(0));
    return loss;
  }

  TrainConfig cfg;
  TrainHooks hooks;
  std::string checkpoint_path;
  torch::Device device;
  bool bf16;  // forward passes under bf16 autocast
  std::uint64_t seed;
  DataShape shape;
  Split split;
  ChannelStats stats;
  bool channels_last;  // weights and batches (CPU, and a network that allows it)
  BatchMaker train_maker, test_maker;
  std::vector<std::int64_t> test_idx;
  std::vector<std::int64_t> order;  // the epoch begun: training images in their order
  std::mt19937_64 augment_rng;
  std::int64_t order_epoch = -1;
  std::shared_ptr<Network> model;
  std::unique_ptr<TrainOptimizer> optimizer;
  std::unique_ptr<Schedule> schedule;
  std::int64_t n_train = 0, steps = 0;
  AccuracyMeter meter;
  Stopwatch epoch_clock;
  double train_seconds = 0, last_lr = 0;
  RunOutcome outcome;
};

SingleSession::SingleSession(const TrainConfig& cfg, const ImageDataset& data,
                             std::string checkpoint_path, TrainHooks hooks) {
  cfg.validate();
  const std::string device = resolve_device(cfg.device);
  check_precision(cfg.precision, device);
  if (device == "cpu") at::globalContext().setDeterministicAlgorithms(cfg.deterministic, /*warn_only=*/false);
  s_ = std::make_unique<State>(cfg, data, std::move(checkpoint_path), std::move(hooks));
  s_->test_idx.resize(static_cast<std::size_t>(data.test.size()));
  for (std::int64_t i = 0; i < data.test.size(); ++i) s_->test_idx[i] = i;
  torch::manual_seed(mix_seed(s_->seed, streams::kInit));
  s_->model = build_model(cfg, s_->shape);
  s_->model->to(s_->device);
  if (s_->channels_last) to_channels_last(*s_->model);
  s_->optimizer = build_optimizer(s_->model->parameters(), cfg);
  s_->n_train = static_cast<std::int64_t>(s_->split.train.size());
  s_->steps = (s_->n_train + cfg.batch_size - 1) / cfg.batch_size;
  s_->schedule = make_schedule(cfg, {cfg.epochs, s_->steps});
}

SingleSession::~SingleSession() = default;

EpochRange SingleSession::resume() {
  State& s = *s_;
  auto done = load_checkpoint(s.checkpoint_path, *s.model, s.optimizer->torch(), s.cfg, s.device);
  if (done) {
    s.outcome.epochs_completed = done->epoch;
    s.optimizer->restore_hyper_parameters();
    s.schedule->load_state(done->schedule_state);
    if (s.channels_last) to_channels_last(*s.model);
    if (s.hooks.on_resume) s.hooks.on_resume(done->epoch);
    s.log("resuming after epoch " + std::to_string(done->epoch) + " from " + s.checkpoint_path,
          false);
  }
  if (s.outcome.epochs_completed >= s.cfg.epochs) s.outcome.status = RunStatus::done;
  return {s.outcome.epochs_completed, s.cfg.epochs};
}

bool SingleSession::trains(std::int64_t) const { return s_->outcome.status == RunStatus::running; }

bool SingleSession::train_epoch(std::int64_t epoch) {
  State& s = *s_;
  s.epoch_clock = Stopwatch();
  s.begin_epoch(epoch);
  s.meter.reset();
  double last_report = 0;
  for (std::int64_t step = 0; step < s.steps; ++step) {
    if (s.hooks.should_stop && s.hooks.should_stop()) {
      s.outcome.message = "stopped during epoch " + std::to_string(epoch + 1);
      return false;
    }
    s.last_lr = s.schedule->lr(epoch, step);
    s.train_step(step, s.last_lr, s.schedule->momentum(epoch, step));
    if (s.hooks.on_log && s.epoch_clock.seconds() - last_report >= kProgressEverySeconds) {
      last_report = s.epoch_clock.seconds();
      s.log(epoch_progress_line(epoch, s.cfg.epochs, s.meter.count(), s.n_train, last_report,
                                s.meter.mean_loss()),
            true);
    }
  }
  s.train_seconds = s.epoch_clock.seconds();
  return true;
}

double SingleSession::step_at(std::int64_t index, double lr) {
  State& s = *s_;
  const std::int64_t epoch = index / s.steps, step = index % s.steps;
  if (epoch != s.order_epoch) s.begin_epoch(epoch);
  return s.train_step(step, lr, std::nullopt).item<double>();
}

std::int64_t SingleSession::steps_per_epoch() const { return s_->steps; }

void SingleSession::finish_epoch(std::int64_t epoch) {
  State& s = *s_;
  EpochMetrics m;
  m.epoch = epoch + 1;
  m.lr = s.last_lr;
  m.train_loss = s.meter.mean_loss();
  m.train_acc = s.meter.accuracy();
  const Evaluation val =
      evaluate(*s.model, s.train_maker, s.split.val, s.cfg.eval_batch_size, s.device, s.bf16);
  const Evaluation test =
      evaluate(*s.model, s.test_maker, s.test_idx, s.cfg.eval_batch_size, s.device, s.bf16);
  m.val_loss = val.loss;
  m.val_acc = val.acc;
  m.test_loss = test.loss;
  m.test_acc = test.acc;
  m.seconds = s.epoch_clock.seconds();
  m.images_per_s = static_cast<double>(s.n_train) / s.train_seconds;
  if (s.hooks.on_epoch) s.hooks.on_epoch(m);
  s.log(epoch_summary_line(m, s.cfg.epochs), false);
  s.outcome.epochs_completed = epoch + 1;
  if (!std::isfinite(m.train_loss)) {
    s.outcome.status = RunStatus::diverged;
    s.outcome.message = "training loss became non-finite in epoch " + std::to_string(epoch + 1);
    s.log("diverged: " + s.outcome.message, false);
    return;
  }
  s.schedule->observe(m);
  save_checkpoint(s.checkpoint_path, *s.model, s.optimizer->torch(), epoch + 1, s.cfg,
                  s.schedule->state());
  if (s.hooks.on_checkpoint) s.hooks.on_checkpoint(s.checkpoint_path);
  if (epoch + 1 >= s.cfg.epochs) s.outcome.status = RunStatus::done;
}

std::vector<RunOutcome> SingleSession::outcomes() const { return {s_->outcome}; }

RunOutcome run_training(const TrainConfig& cfg, const ImageDataset& data,
                        const std::string& checkpoint_path, const TrainHooks& hooks) {
  SingleSession session(cfg, data, checkpoint_path, hooks);
  try {
    return run_session(session).front();
  } catch (const std::exception& e) {  // c10::Error, and TorchScript's own errors
    rethrow_determinism_refusal(e);
    throw;
  }
}

}  // namespace lrtune
