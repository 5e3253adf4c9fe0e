// Load time and peak memory of a data set kind, as a run pays them before its
// first epoch (docs/datasets.md):
//   lrtune_dataset_bench --dataset KIND [--data DIR] [--image-size N] [--channels C]
//                        [--repeats R] [--fresh-cache]
// Each repeat loads the whole data set (a new process per kind keeps the peak
// memory its own). --fresh-cache removes an image folder's cache before the
// first repeat, so that repeat decodes and the next ones read the cache.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "train/builtin_kinds.h"
#include "data/datasets.h"
#include "data/image_folder.h"

namespace {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lrtune;
  register_builtin_kinds();
  CLI::App app{"Load time and peak memory of a data set kind"};
  TrainConfig cfg;
  std::int64_t image_size = 32, channels = 0;
  int repeats = 3;
  bool fresh = false;
  app.add_option("--dataset", cfg.dataset, "the kind")->capture_default_str();
  app.add_option("--data", cfg.data, "its folder or file (default: the kind's)");
  app.add_option("--image-size", image_size, "image_folder: image_size")->capture_default_str();
  app.add_option("--channels", channels, "image_folder: channels")->capture_default_str();
  app.add_option("--repeats", repeats, "loads to time")->capture_default_str();
  app.add_flag("--fresh-cache", fresh, "image_folder: remove its cache first");
  CLI11_PARSE(app, argc, argv);
  if (cfg.dataset == "image_folder") {
    cfg.options["image_size"] = image_size;
    cfg.options["channels"] = channels;
  }
  cfg.validate("command line");
  const std::string folder = data_folder(cfg);
  if (fresh && cfg.dataset == "image_folder") {
    ImageFolderOptions o;
    o.image_size = image_size;
    o.channels = static_cast<int>(channels);
    std::filesystem::remove(image_folder_cache_path(folder, o));
  }
  std::printf("%-14s %-8s %10s %10s %12s\n", "dataset", "repeat", "seconds", "images", "peak RSS MB");
  for (int r = 1; r <= repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const ImageDataset d = load_dataset(cfg, folder);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-14s %-8d %10.3f %10lld %12.0f\n", cfg.dataset.c_str(), r, s,
                static_cast<long long>(d.train.size() + d.test.size()), peak_rss_mb());
  }
  return 0;
}
