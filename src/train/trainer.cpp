// The epoch loop: set-up, one training epoch, evaluation, checkpoint, resume.
#include "train/trainer.h"

#include <cmath>
#include <thread>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/format.h"
#include "data/batcher.h"
#include "data/split.h"
#include "model/network.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "train/checkpoint.h"
#include "train/meters.h"
#include "train/seed_streams.h"

#include <nlohmann/json.hpp>

namespace lrtune {
namespace {

constexpr double kProgressEverySeconds = 2.0;

void to_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

struct Evaluation {
  double loss = 0, acc = 0;
};

Evaluation evaluate(Network& model, const BatchMaker& maker, const std::vector<std::int64_t>& idx,
                    std::int64_t batch_size, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  model.eval();
  AccuracyMeter meter(device);
  const auto n = static_cast<std::int64_t>(idx.size());
  for (std::int64_t b = 0; b < n; b += batch_size) {
    Batch batch = maker.make(idx, b, std::min(n, b + batch_size), nullptr);
    auto x = batch.images.to(device, /*non_blocking=*/true);
    auto y = batch.labels.to(device, /*non_blocking=*/true);
    auto logits = model.forward(x);
    meter.add(torch::nn::functional::cross_entropy(logits, y), logits, y);
  }
  return {meter.mean_loss(), meter.accuracy()};
}

std::string summary_line(const TrainConfig& cfg, const EpochMetrics& m) {
  return "epoch " + std::to_string(m.epoch) + "/" + std::to_string(cfg.epochs) +
         "  lr " + format_fixed(m.lr, 6) + "  train loss " + format_fixed(m.train_loss, 4) +
         " acc " + format_fixed(m.train_acc, 4) + "  val loss " + format_fixed(m.val_loss, 4) +
         " acc " + format_fixed(m.val_acc, 4) + "  test loss " + format_fixed(m.test_loss, 4) +
         " acc " + format_fixed(m.test_acc, 4) + "  " + format_fixed(m.seconds, 1) + "s  " +
         format_count(m.images_per_s) + " img/s";
}

}  // namespace

int apply_threads(std::int64_t threads) {
  int n = threads > 0 ? static_cast<int>(threads)
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  return n;
}

std::string resolve_device(const std::string& device) {
  const bool cuda = torch::cuda::is_available();
  if (device == "cuda" && !cuda)
    throw ConfigError("device: cuda was asked for, but this LibTorch build sees no CUDA GPU " +
                      std::string("(use --device cpu or auto)"));
  if (device == "auto") return cuda ? "cuda" : "cpu";
  return device;
}

RunOutcome run_training(const TrainConfig& cfg, const Cifar10& data,
                        const std::string& checkpoint_path, const TrainHooks& hooks) {
  cfg.validate();
  const torch::Device device(resolve_device(cfg.device));
  const bool on_cpu = device.is_cpu();
  if (on_cpu) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  auto log = [&](const std::string& line, bool transient) {
    if (hooks.on_log) hooks.on_log(line, transient);
  };

  const auto seed = static_cast<std::uint64_t>(cfg.seed);
  const Split split = stratified_split(data.train.labels, cfg.val_size, cfg.train_subset, seed);
  const ChannelStats stats = channel_stats(data.train.images, split.train);
  // Channels-last is faster for these convolutions on the CPU (see docs/performance.md).
  const BatchMaker train_maker(data.train, stats, on_cpu);
  const BatchMaker test_maker(data.test, stats, on_cpu);
  std::vector<std::int64_t> test_idx(static_cast<std::size_t>(data.test.size()));
  for (std::int64_t i = 0; i < data.test.size(); ++i) test_idx[i] = i;

  torch::manual_seed(mix_seed(seed, streams::kInit));
  auto model = build_model(cfg);
  model->to(device);
  if (on_cpu) to_channels_last(*model);
  auto optimizer = build_optimizer(model->parameters(), cfg);
  const auto n_train = static_cast<std::int64_t>(split.train.size());
  const std::int64_t steps = (n_train + cfg.batch_size - 1) / cfg.batch_size;
  auto schedule = make_schedule(cfg, {cfg.epochs, steps});

  std::int64_t start_epoch = 0;
  if (auto done = load_checkpoint(checkpoint_path, *model, optimizer->torch(), cfg, device)) {
    start_epoch = done->epoch;
    optimizer->restore_hyper_parameters();
    schedule->load_state(done->schedule_state);
    if (on_cpu) to_channels_last(*model);
    if (hooks.on_resume) hooks.on_resume(start_epoch);
    log("resuming after epoch " + std::to_string(start_epoch) + " from " + checkpoint_path, false);
  }

  RunOutcome outcome;
  outcome.epochs_completed = start_epoch;
  AccuracyMeter meter(device);
  for (std::int64_t epoch = start_epoch; epoch < cfg.epochs; ++epoch) {
    Stopwatch epoch_clock;
    std::vector<std::int64_t> order(static_cast<std::size_t>(n_train));
    const auto perm = permutation(n_train, mix_seed(seed, streams::kOrder + epoch));
    for (std::int64_t i = 0; i < n_train; ++i) order[i] = split.train[perm[i]];
    std::mt19937_64 augment_rng(mix_seed(seed, streams::kAugment + epoch));
    torch::manual_seed(mix_seed(seed, streams::kDropout + epoch));

    model->train();
    meter.reset();
    double lr = cfg.lr, last_report = 0;
    for (std::int64_t step = 0; step < steps; ++step) {
      if (hooks.should_stop && hooks.should_stop()) {
        outcome.message = "stopped during epoch " + std::to_string(epoch + 1);
        return outcome;
      }
      lr = schedule->lr(epoch, step);
      optimizer->set_lr(lr);
      if (auto momentum = schedule->momentum(epoch, step)) optimizer->set_momentum(*momentum);
      const std::int64_t begin = step * cfg.batch_size;
      Batch batch = train_maker.make(order, begin, std::min(n_train, begin + cfg.batch_size),
                                     cfg.augment == "flipcrop" ? &augment_rng : nullptr);
      auto x = batch.images.to(device, /*non_blocking=*/true);
      auto y = batch.labels.to(device, /*non_blocking=*/true);
      optimizer->torch().zero_grad();
      auto logits = model->forward(x);
      auto loss = torch::nn::functional::cross_entropy(logits, y);
      loss.backward();
      optimizer->torch().step();
      meter.add(loss, logits, y);
      if (hooks.on_log && epoch_clock.seconds() - last_report >= kProgressEverySeconds) {
        last_report = epoch_clock.seconds();
        const double rate = static_cast<double>(meter.count()) / last_report;
        log("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(cfg.epochs) + "  [" +
                format_count(static_cast<double>(meter.count())) + "/" +
                format_count(static_cast<double>(n_train)) + "]  " + format_count(rate) +
                " img/s  loss " + format_fixed(meter.mean_loss(), 4) + "  training left " +
                format_duration(static_cast<double>(n_train - meter.count()) / rate),
            true);
      }
    }
    const double train_seconds = epoch_clock.seconds();

    EpochMetrics m;
    m.epoch = epoch + 1;
    m.lr = lr;
    m.train_loss = meter.mean_loss();
    m.train_acc = meter.accuracy();
    const Evaluation val = evaluate(*model, train_maker, split.val, cfg.eval_batch_size, device);
    const Evaluation test = evaluate(*model, test_maker, test_idx, cfg.eval_batch_size, device);
    m.val_loss = val.loss;
    m.val_acc = val.acc;
    m.test_loss = test.loss;
    m.test_acc = test.acc;
    m.seconds = epoch_clock.seconds();
    m.images_per_s = static_cast<double>(n_train) / train_seconds;
    if (hooks.on_epoch) hooks.on_epoch(m);
    log(summary_line(cfg, m), false);
    outcome.epochs_completed = epoch + 1;
    if (!std::isfinite(m.train_loss)) {
      outcome.status = RunStatus::diverged;
      outcome.message = "training loss became non-finite in epoch " + std::to_string(epoch + 1);
      log("diverged: " + outcome.message, false);
      return outcome;
    }
    schedule->observe(m);
    save_checkpoint(checkpoint_path, *model, optimizer->torch(), epoch + 1, cfg, schedule->state());
    if (hooks.on_checkpoint) hooks.on_checkpoint(checkpoint_path);
  }
  outcome.status = RunStatus::done;
  return outcome;
}

}  // namespace lrtune
