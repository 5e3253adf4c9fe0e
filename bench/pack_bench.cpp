// Times trial packs: the same K trials (different seeds and rates) trained
// together for a few epochs, per pack size and precision, through run_pack
// itself; optionally one trial through run_training for comparison. Prints a
// Markdown table (and writes it with --out).
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "train/builtin_kinds.h"
#include "core/format.h"
#include "data/cifar10.h"
#include "train/meters.h"
#include "train/pack_trainer.h"
#include "train/trainer.h"

namespace {
using namespace lrtune;

struct Args {
  std::string data, device = "auto", out;
  std::vector<int> packs = {1, 4, 8, 16, 32};
  std::vector<std::string> precisions = {"fp32"};
  std::int64_t epochs = 2, batch = 128, train_subset = 0, eval_batch = 1000;
  bool single = true;
};

struct Row {
  std::string what;
  int pack = 1;
  std::string precision;
  double train_img_s = 0;   // training images per second, all copies together
  double epoch_s = 0;       // seconds of the last epoch, evaluation included
  double test_acc = 0;      // mean over copies, last epoch
  double wall_s = 0;
};

TrainConfig config_for(const Args& a, int k) {
  TrainConfig c;
  c.device = a.device;
  c.epochs = a.epochs;
  c.batch_size = a.batch;
  c.eval_batch_size = a.eval_batch;
  c.train_subset = a.train_subset;
  c.set("momentum", 0.9);
  c.set("nesterov", k % 2 == 1);
  c.lr = 0.005 * (1 + k % 4);  // a small sweep, as a study would pack
  c.seed = 1 + k;
  c.data = a.data;
  return c;
}

Row time_pack(const Args& a, const ImageDataset& data, int K, const std::string& precision,
              const std::string& dir) {
  std::vector<TrainConfig> configs;
  std::vector<std::string> paths;
  for (int k = 0; k < K; ++k) {
    configs.push_back(config_for(a, k));
    configs.back().precision = precision;
    paths.push_back(dir + "/pack" + std::to_string(K) + "-" + precision + "-" + std::to_string(k));
    std::remove(paths.back().c_str());
  }
  std::vector<EpochMetrics> last(static_cast<std::size_t>(K));
  PackHooks hooks;
  hooks.on_epoch = [&](std::size_t k, const EpochMetrics& m) { last[k] = m; };
  PackOptions options;
  Stopwatch wall;
  run_pack(configs, data, paths, hooks, options);
  Row r{"pack", K, precision};
  r.wall_s = wall.seconds();
  r.train_img_s = last[0].images_per_s * K;
  r.epoch_s = last[0].seconds;
  for (const auto& m : last) r.test_acc += m.test_acc / K;
  for (const auto& p : paths) std::remove(p.c_str());
  return r;
}

Row time_single(const Args& a, const ImageDataset& data, const std::string& dir) {
  const std::string path = dir + "/single.pt";
  std::remove(path.c_str());
  EpochMetrics last;
  TrainHooks hooks;
  hooks.on_epoch = [&](const EpochMetrics& m) { last = m; };
  Stopwatch wall;
  run_training(config_for(a, 0), data, path, hooks);
  std::remove(path.c_str());
  return {"run_training", 1, "fp32", last.images_per_s, last.seconds, last.test_acc, wall.seconds()};
}

std::string table(const std::vector<Row>& rows, const Args& a, const std::string& device) {
  std::ostringstream t;
  t << "Device " << device << ", batch " << a.batch << ", " << a.epochs
    << " epoch(s) per row (numbers of the last one), eval batch " << a.eval_batch << ".\n\n"
    << "| trainer | trials | precision | train img/s (all) | img/s per trial | s/epoch "
       "(pack) | trial-epochs/min | mean test acc | wall s |\n"
    << "|---|---:|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : rows)
    t << "| " << r.what << " | " << r.pack << " | " << r.precision << " | "
      << format_count(r.train_img_s) << " | " << format_count(r.train_img_s / r.pack) << " | "
      << format_fixed(r.epoch_s, 2) << " | " << format_fixed(60.0 * r.pack / r.epoch_s, 1)
      << " | " << format_fixed(r.test_acc, 4) << " | " << format_fixed(r.wall_s, 1) << " |\n";
  return t.str();
}

}  // namespace

int main(int argc, char** argv) {
  lrtune::register_builtin_kinds();
  Args a;
  std::string dir = "/tmp";
  CLI::App app{"Times trial packs (run_pack) per pack size and precision"};
  app.add_option("--data", a.data, "CIFAR-10 binary folder")->required();
  app.add_option("--device", a.device, "cpu|cuda|auto")->capture_default_str();
  app.add_option("--packs", a.packs, "pack sizes")->delimiter(',')->capture_default_str();
  app.add_option("--precisions", a.precisions, "fp32,bf16")->delimiter(',')->capture_default_str();
  app.add_option("--epochs", a.epochs, "epochs per row")->capture_default_str();
  app.add_option("--batch", a.batch, "training batch size")->capture_default_str();
  app.add_option("--eval-batch", a.eval_batch, "evaluation batch (per copy)")->capture_default_str();
  app.add_option("--train-subset", a.train_subset, "training images (0 = all)")->capture_default_str();
  app.add_option("--single", a.single, "also time one trial through run_training")->capture_default_str();
  app.add_option("--scratch", dir, "folder for the rows' checkpoints")->capture_default_str();
  app.add_option("--out", a.out, "also write the table to this file");
  CLI11_PARSE(app, argc, argv);
  try {
    apply_threads(0);
    const std::string device = resolve_device(a.device);
    const ImageDataset data = load_cifar10(a.data);
    std::vector<Row> rows;
    if (a.single) rows.push_back(time_single(a, data, dir));
    for (const auto& precision : a.precisions)
      for (int K : a.packs) {
        rows.push_back(time_pack(a, data, K, precision, dir));
        std::cerr << table({rows.back()}, a, device);
      }
    const std::string text = table(rows, a, device);
    std::cout << text;
    if (!a.out.empty()) std::ofstream(a.out) << text;
  } catch (const std::exception& e) {
    std::cerr << "lrtune_pack_bench: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
