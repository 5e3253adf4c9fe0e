// lrtune_step_variants: the experiments behind docs/performance.md. Variants of
// the reference network's training step and evaluation pass, timed in one
// process, interleaved repeat by repeat, each as a speed ratio to the textbook
// step (max_pool(relu(conv)), torch::dropout) that Python users write.
#include <malloc.h>

#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <optional>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "train/builtin_kinds.h"
#include "data/batcher.h"
#include "model/network.h"
#include "model/reference_cnn.h"
#include "train/meters.h"
#include "table.h"

using namespace lrtune;

namespace {

struct Variant {
  std::string name;
  bool swap = false;          // relu_(max_pool(conv)) instead of max_pool(relu(conv))
  bool hashed = false;        // hashed_dropout instead of torch::dropout
  bool channels_last = true;  // weights and inputs channels-last
  bool deterministic = true;  // at::globalContext().setDeterministicAlgorithms
  bool model_forward = false; // the model's own forward() (the others: layers called here)
  bool onednn = true;         // at::globalContext().setUserEnabledMkldnn: oneDNN convolutions
  bool amax_pool = false;     // 2x2 max-pooling as amax over a [N, H/2, 2, W/2, 2, C] view
  bool conv_fc1 = false;      // fc1 as a 4x4 convolution (oneDNN) instead of a matrix product (OpenBLAS)
};

const std::vector<Variant> kTrainVariants = {
    {"textbook (channels-last)", false, false, true, true},
    {"textbook, NCHW", false, false, false, true},
    {"textbook, not deterministic", false, false, true, false},
    {"relu after pool", true, false, true, true},
    {"relu after pool + hashed dropout", true, true, true, true},
    {"lrtune's ReferenceCnn::forward", true, true, true, true, true},
    {"relu after pool + hashed dropout, oneDNN off", true, true, true, true, false, false},
    {"relu after pool + hashed dropout, NCHW, oneDNN off", true, true, false, true, false, false},
    {"relu after pool + hashed dropout, amax pooling", true, true, true, true, false, true, true},
    {"relu after pool + hashed dropout, fc1 as convolution", true, true, true, true, false, true, false, true},
};

// 2x2 max-pooling of a channels-last [N, C, H, W] tensor as a reduction over a
// view of its memory. Its gradient differs from max_pool2d's only on ties
// (shared equally instead of going to the first maximum).
torch::Tensor amax_pool(const torch::Tensor& x) {
  const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.permute({0, 2, 3, 1})
      .reshape({n, h / 2, 2, w / 2, 2, c})
      .amax({2, 4})
      .permute({0, 3, 1, 2});
}

double now(const std::string& clock) {
  timespec ts{};
  clock_gettime(clock == "cpu" ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

torch::Tensor forward(torch::nn::Module& m, torch::Tensor x, const Variant& v) {
  auto p = m.named_parameters();
  auto stage = [&](const torch::Tensor& in, const std::string& conv) {
    auto c = torch::conv2d(in, p[conv + ".weight"], p[conv + ".bias"], /*stride=*/1, /*padding=*/1);
    if (v.amax_pool) return torch::relu(amax_pool(c));  // amax keeps its output for backward
    return v.swap ? torch::max_pool2d(c, /*kernel_size=*/2).relu_()
                  : torch::max_pool2d(torch::relu(c), /*kernel_size=*/2);
  };
  auto drop = [&](const torch::Tensor& t) {
    return v.hashed ? hashed_dropout(t, 0.3, m.is_training()) : torch::dropout(t, 0.3, m.is_training());
  };
  x = stage(stage(stage(x, "conv1"), "conv2"), "conv3");
  if (v.conv_fc1) {
    // Dropout before fc1 is elementwise, so it may act on [N, 64, 4, 4] as well.
    const auto& w = p["fc1.weight"];
    x = torch::conv2d(drop(x), w.view({w.size(0), 64, 4, 4}), p["fc1.bias"]);
    x = drop(torch::relu(x.reshape({x.size(0), w.size(0)})));
  } else {
    x = drop(x.reshape({x.size(0), 64 * 4 * 4}));
    x = drop(torch::relu(torch::linear(x, p["fc1.weight"], p["fc1.bias"])));
  }
  return torch::linear(x, p["fc2.weight"], p["fc2.bias"]);
}

struct Model {
  std::shared_ptr<Network> net;
  std::unique_ptr<torch::optim::SGD> opt;
};

Model make_model(bool channels_last) {
  torch::manual_seed(1);
  Model m{build_model("reference_cnn"), nullptr};
  if (channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : m.net->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  m.opt = std::make_unique<torch::optim::SGD>(
      m.net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
  return m;
}

// Seconds per image of `steps` training steps on pre-made batches.
double time_training(Model& m, const Variant& v, const std::vector<torch::Tensor>& xs,
                     const torch::Tensor& y, int steps, const std::string& clock) {
  at::globalContext().setDeterministicAlgorithms(v.deterministic, false);
  at::globalContext().setUserEnabledMkldnn(v.onednn);
  m.net->train();
  const double t0 = now(clock);
  for (int s = 0; s < steps; ++s) {
    m.opt->zero_grad();
    const auto& x = xs[s % xs.size()];
    auto logits = v.model_forward ? m.net->forward(x) : forward(*m.net, x, v);
    torch::nn::functional::cross_entropy(logits, y).backward();
    m.opt->step();
  }
  const double t = now(clock) - t0;
  at::globalContext().setDeterministicAlgorithms(true, false);
  at::globalContext().setUserEnabledMkldnn(true);
  return t / (static_cast<double>(steps) * static_cast<double>(y.size(0)));
}

// Seconds per image of evaluating `images` images in batches of `batch`: the
// textbook layers in dense channels-last tensors, or the model's own forward
// (oneDNN's blocked layout when no gradients are recorded).
struct EvalVariant {
  std::int64_t batch;
  bool inference_mode;
  bool model_forward;
};

double time_eval(Model& m, const EvalVariant& e, const torch::Tensor& pool, std::int64_t images,
                 const std::string& clock) {
  m.net->eval();
  const Variant dense{"", true, true, true, true, false};
  const double t0 = now(clock);
  for (std::int64_t b = 0; b < images; b += e.batch) {
    auto x = pool.narrow(0, b % (pool.size(0) - e.batch + 1), e.batch);
    std::optional<c10::InferenceMode> inference;
    std::optional<torch::NoGradGuard> no_grad;
    if (e.inference_mode) inference.emplace();
    else no_grad.emplace();
    if (e.model_forward) m.net->forward(x);
    else forward(*m.net, x, dense);
  }
  return (now(clock) - t0) / static_cast<double>(images);
}

void print(const std::string& title, const std::vector<std::string>& names,
           const std::vector<std::vector<double>>& per_image) {
  std::printf("\n%s\n%-48s %10s %12s %14s\n", title.c_str(), "variant", "img/s", "ms/128 img",
              "speed vs first");
  for (std::size_t v = 0; v < names.size(); ++v) {
    std::vector<double> ratio;
    for (std::size_t r = 0; r < per_image[v].size(); ++r) ratio.push_back(per_image[0][r] / per_image[v][r]);
    const double med = bench::median(per_image[v]);
    std::printf("%-48s %10.0f %12.2f %14.3f\n", names[v].c_str(), 1.0 / med, med * 128e3,
                bench::median(ratio));
  }
}

}  // namespace

int main(int argc, char** argv) {
  lrtune::register_builtin_kinds();
  CLI::App app{"Variants of the reference network's step, interleaved, as speed ratios"};
  std::int64_t batch = 128;
  int steps = 20, repeats = 5, threads = 1;
  std::string clock = "cpu";
  std::vector<std::size_t> chosen;
  app.add_option("--variants", chosen, "training variants to run, by index (default: all)")
      ->delimiter(',');
  app.add_option("--batch", batch, "training batch size")->capture_default_str();
  app.add_option("--steps", steps, "training steps per variant and repeat")->capture_default_str();
  app.add_option("--repeats", repeats, "interleaved repeats (median reported)")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch threads")->capture_default_str();
  app.add_option("--clock", clock, "cpu (process CPU time: use with --threads 1) or wall")
      ->check(CLI::IsMember({"wall", "cpu"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // Keep freed activations in the heap: otherwise, depending on what ran before,
  // glibc may hand large blocks back to the kernel after every step and the next
  // step page-faults them in again (thousands of faults per step), which would
  // penalise whichever variant allocates most. lrtune's own processes measured
  // no such faults; this makes the variants independent of allocation history.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  torch::set_num_threads(threads);
  std::printf("threads %d, batch %lld, %d steps x %d repeats, clock %s\n", threads,
              static_cast<long long>(batch), steps, repeats, clock.c_str());

  torch::manual_seed(0);
  std::vector<torch::Tensor> xs_cl, xs_nchw;
  for (int i = 0; i < 8; ++i) {
    xs_nchw.push_back(torch::randn({batch, 3, 32, 32}));
    xs_cl.push_back(xs_nchw.back().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  const auto y = torch::randint(10, {batch}, torch::kInt64);
  std::vector<Variant> variants;
  if (chosen.empty()) variants = kTrainVariants;
  for (auto i : chosen) variants.push_back(kTrainVariants.at(i));
  std::vector<Model> models;
  std::vector<std::string> names;
  for (const auto& v : variants) {
    models.push_back(make_model(v.channels_last));
    names.push_back(v.name);
  }
  std::vector<std::vector<double>> train(variants.size());
  for (int r = -1; r < repeats; ++r)  // r = -1: warm-up
    for (std::size_t v = 0; v < variants.size(); ++v) {
      const auto& xs = variants[v].channels_last ? xs_cl : xs_nchw;
      const double t = time_training(models[v], variants[v], xs, y, r < 0 ? 3 : steps, clock);
      if (r >= 0) train[v].push_back(t);
    }
  print("training step", names, train);

  // Evaluation: the lrtune forward pass, by batch size and grad mode.
  const auto pool = torch::randn({2000, 3, 32, 32}).contiguous(torch::MemoryFormat::ChannelsLast);
  Model m = make_model(true);
  const std::vector<EvalVariant> evals = {{250, false, false}, {250, false, true}, {250, true, true},
                                          {100, false, true},  {500, false, true}, {1000, false, true}};
  std::vector<std::vector<double>> eval(evals.size());
  std::vector<std::string> eval_names;
  for (const auto& e : evals)
    eval_names.push_back(std::string(e.model_forward ? "oneDNN layout (lrtune)" : "dense channels-last") +
                         ", batch " + std::to_string(e.batch) +
                         (e.inference_mode ? ", InferenceMode" : ", NoGradGuard"));
  for (int r = -1; r < repeats; ++r)
    for (std::size_t v = 0; v < evals.size(); ++v) {
      const double t = time_eval(m, evals[v], pool, r < 0 ? 1000 : 2000, clock);
      if (r >= 0) eval[v].push_back(t);
    }
  print("evaluation (forward only)", eval_names, eval);

  // Dropout alone, on a [batch, 1024] activation.
  {
    const auto x = torch::randn({batch, 1024});
    std::vector<std::vector<double>> drop(2);
    for (int r = 0; r < repeats; ++r)
      for (int v = 0; v < 2; ++v) {
        const double t0 = now(clock);
        for (int i = 0; i < 50; ++i)
          v == 0 ? torch::dropout(x, 0.3, true) : hashed_dropout(x, 0.3, true);
        drop[static_cast<std::size_t>(v)].push_back((now(clock) - t0) / 50);
      }
    std::printf("\ndropout of [%lld, 1024]: torch::dropout %.3f ms, hashed_dropout %.3f ms\n",
                static_cast<long long>(batch), bench::median(drop[0]) * 1e3,
                bench::median(drop[1]) * 1e3);
  }

  // Batch assembly of a training epoch (45,000 augmented images), per image.
  LabelledImages images{torch::randint(256, {45'000, 3, 32, 32}, torch::kUInt8),
                        torch::arange(45'000, torch::kInt64).remainder(10)};
  const BatchMaker maker(images, ChannelStats{{0.49f, 0.48f, 0.45f}, {0.25f, 0.24f, 0.26f}},
                         /*channels_last=*/true);
  std::vector<std::int64_t> order(45'000);
  for (std::int64_t i = 0; i < 45'000; ++i) order[static_cast<std::size_t>(i)] = (i * 7919) % 45'000;
  std::vector<double> assembly;
  for (int r = 0; r < repeats; ++r) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(r));
    const double t0 = now(clock);
    for (std::int64_t b = 0; b < 45'000; b += batch)
      maker.make(order, b, std::min<std::int64_t>(45'000, b + batch), &rng);
    assembly.push_back(now(clock) - t0);
  }
  std::printf("\nbatch assembly (BatchMaker, augmented, channels-last): %.3f s per 45,000 images "
              "(%.1f us per image)\n", bench::median(assembly), bench::median(assembly) / 45e3 * 1e6);

  // The trainer's metric accumulation per step (on the device, no .item()).
  {
    AccuracyMeter meter(torch::kCPU);
    const auto logits = torch::randn({batch, 10});
    const auto loss = torch::nn::functional::cross_entropy(logits, y);
    std::vector<double> per_step;
    for (int r = 0; r < repeats; ++r) {
      const double t0 = now(clock);
      for (int i = 0; i < 200; ++i) meter.add(loss, logits, y);
      per_step.push_back((now(clock) - t0) / 200);
    }
    std::printf("metrics per step (AccuracyMeter::add): %.1f us\n", bench::median(per_step) * 1e6);
  }
  return 0;
}
