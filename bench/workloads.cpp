// Floor steps on pre-made tensors, and lrtune's real epoch through run_training.
#include "workloads.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <sys/resource.h>

#include "core/config.h"
#include "model/autocast.h"
#include "train/trainer.h"

namespace lrtune::bench {
namespace {

// Distinct pre-made inputs, cycled (1 instead of 8 measured the same).
constexpr std::int64_t kPremadeBatches = 8;

// The optimiser every benchmark uses, in both languages.
constexpr double kLr = 0.01, kMomentum = 0.9, kWeightDecay = 5e-4;

void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}

// Seconds on the work's clock: wall time, or this process's CPU time.
double now(const std::string& clock) {
  if (clock == "cpu") {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

torch::Tensor premade_images(std::int64_t n, const torch::Device& device, const DataShape& s,
                             bool channels_last) {
  auto x = torch::randn({n, s.channels, s.height, s.width}).to(device);
  if (!device.is_cpu() || !channels_last) return x;
  // Channels-last strides, as the trainer's batches have: x.contiguous(ChannelsLast)
  // leaves a one-channel tensor as it is, which convolutions take as contiguous.
  return torch::empty(x.sizes(), x.options().memory_format(torch::MemoryFormat::ChannelsLast)).copy_(x);
}

// The network of the work as lrtune's trainer builds it: the reference CNN, or
// model "torchscript" with the work's file.
TrainConfig model_config(const Work& work) {
  TrainConfig cfg;
  if (work.model != "native") {
    cfg.model = "torchscript";
    cfg.set("model_file", work.model_file);
  }
  return cfg;
}

double minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_minflt);
}

}  // namespace

void configure_torch(int threads, bool deterministic) {
  torch::set_num_threads(threads);
  at::globalContext().setDeterministicAlgorithms(deterministic, /*warn_only=*/false);
}

StepsBench::StepsBench(const Work& work) : work_(work), device_(work.device) {
  torch::manual_seed(1);
  const TrainConfig cfg = model_config(work);
  model_ = build_model(cfg, work.shape);  // for the data's shape
  model_->to(device_);
  // As the trainer: channels-last on the CPU where the network allows it.
  const bool channels_last = device_.is_cpu() && model_kind(cfg.model).channels_last;
  if (channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : model_->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  opt_ = std::make_unique<torch::optim::SGD>(
      model_->parameters(),
      torch::optim::SGDOptions(kLr).momentum(kMomentum).weight_decay(kWeightDecay));
  for (std::int64_t i = 0; i < kPremadeBatches; ++i) {
    train_x_.push_back(premade_images(work.batch, device_, work.shape, channels_last));
    train_y_.push_back(torch::randint(work.shape.classes, {work.batch}, torch::kInt64).to(device_));
    eval_x_.push_back(premade_images(work.eval_batch, device_, work.shape, channels_last));
  }
}

Timing StepsBench::run() {
  Timing t;
  const std::int64_t steps = (work_.train_images() + work_.batch - 1) / work_.batch;
  const bool bf16 = work_.precision == "bf16";
  model_->train();
  sync(device_);
  const double faults = minor_faults();
  double start = now(work_.clock);
  for (std::int64_t s = 0; s < steps; ++s) {
    const auto k = static_cast<std::size_t>(s % kPremadeBatches);
    opt_->zero_grad();
    torch::Tensor logits;
    {
      const Bf16Autocast autocast(device_, bf16);
      logits = model_->forward(train_x_[k]);
    }
    auto loss = torch::nn::functional::cross_entropy(logits.to(torch::kFloat32), train_y_[k]);
    loss.backward();
    opt_->step();
  }
  sync(device_);
  t.train_s = now(work_.clock) - start;
  t.train_images = static_cast<double>(steps * work_.batch);

  const std::int64_t batches = (work_.eval_images() + work_.eval_batch - 1) / work_.eval_batch;
  model_->eval();
  start = now(work_.clock);
  {
    torch::NoGradGuard no_grad;
    const Bf16Autocast autocast(device_, bf16);
    for (std::int64_t b = 0; b < batches; ++b)
      model_->forward(eval_x_[static_cast<std::size_t>(b % kPremadeBatches)]);
  }
  sync(device_);
  t.eval_s = now(work_.clock) - start;
  t.eval_images = static_cast<double>(batches * work_.eval_batch);
  t.faults = minor_faults() - faults;
  return t;
}

ImageDataset generated_cifar(std::uint64_t seed) {
  torch::manual_seed(seed);
  auto labelled = [](std::int64_t n) {
    LabelledImages l;
    l.images = torch::randint(256, {n, 3, 32, 32}, torch::kUInt8);
    l.labels = torch::arange(n, torch::kInt64).remainder(10);  // every class equally
    return l;
  };
  ImageDataset data;
  data.train = labelled(50'000);
  data.test = labelled(10'000);
  data.class_names = cifar10_classes();
  return data;
}

EpochBench::EpochBench(const ImageDataset& data, const Work& work, std::filesystem::path scratch)
    : data_(data), work_(work), checkpoint_(std::move(scratch) / "epoch_bench.pt") {
  // Evaluation = validation + test: a third of it validation (a multiple of 10).
  const std::int64_t eval = work_.eval_images();
  const std::int64_t val = std::max<std::int64_t>(10, eval / 3 / 10 * 10);
  const std::int64_t test = std::min(eval - val, data_.test.size());
  data_.test.images = data_.test.images.narrow(0, 0, test);
  data_.test.labels = data_.test.labels.narrow(0, 0, test);
  work_.eval_batches = 0;  // the split below fixes the sizes
  val_size_ = val;
}

Timing EpochBench::run() {
  TrainConfig cfg = model_config(work_);
  cfg.dataset = data_.kind;
  cfg.epochs = 1;
  cfg.batch_size = work_.batch;
  cfg.eval_batch_size = work_.eval_batch;
  cfg.augment = "flipcrop";
  cfg.lr = kLr;
  cfg.set("momentum", kMomentum);
  cfg.weight_decay = kWeightDecay;
  cfg.val_size = val_size_;
  cfg.train_subset = work_.train_images();
  cfg.device = work_.device;
  cfg.precision = work_.precision;
  std::filesystem::remove(checkpoint_);  // a fresh run, never a resume

  // The trainer times its epoch on the wall clock (EpochMetrics); on the CPU
  // clock the epoch runs from the first should_stop poll (just before the
  // first step) to on_epoch, split into training and evaluation as on the wall.
  EpochMetrics m;
  TrainHooks hooks;
  double first_poll = -1, epoch_end = 0, faults_start = 0, faults_end = 0;
  hooks.on_epoch = [&](const EpochMetrics& e) {
    epoch_end = now(work_.clock);
    faults_end = minor_faults();
    m = e;
  };
  hooks.should_stop = [&] {
    if (first_poll < 0) {
      first_poll = now(work_.clock);
      faults_start = minor_faults();
    }
    return false;
  };
  const double start = now(work_.clock);
  run_training(cfg, data_, checkpoint_.string(), hooks);
  const double call_s = now(work_.clock) - start;
  std::filesystem::remove(checkpoint_);

  Timing t;
  t.train_images = static_cast<double>(cfg.train_subset);
  const double train_wall = m.images_per_s > 0 ? t.train_images / m.images_per_s : 0;
  const double epoch_s = work_.clock == "cpu" ? epoch_end - first_poll : m.seconds;
  t.train_s = m.seconds > 0 ? epoch_s * train_wall / m.seconds : 0;
  t.eval_images = static_cast<double>(val_size_ + data_.test.size());
  t.eval_s = epoch_s - t.train_s;
  t.other_s = call_s - epoch_s;
  t.faults = faults_end - faults_start;
  return t;
}

}  // namespace lrtune::bench
