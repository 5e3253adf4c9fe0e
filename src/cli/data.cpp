// `lrtune data download|check`.
#include <iostream>

#include <torch/torch.h>

#include "cli/commands.h"
#include "cli/folders.h"
#include "data/cifar10.h"
#include "data/download.h"

namespace lrtune::cli {

RunFn setup_data(CLI::App& sub) {
  auto dir = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  sub.require_subcommand(1);
  auto* download = sub.add_subcommand("download", "Fetch the official archive, check its MD5, unpack it");
  auto* check = sub.add_subcommand("check", "Read every file and print the class counts");
  for (auto* s : {download, check})
    s->add_option("--data", *dir, "CIFAR-10 folder (default: $LRTUNE_DATA, else data/cifar-10-batches-bin)");
  download->add_flag("--quiet", *quiet, "no progress bar");
  return [=]() -> int {
    const std::string folder = resolve_data_dir(*dir);
    if (download->parsed()) {
      download_cifar10(folder, *quiet);
      std::cout << "CIFAR-10 ready in " << folder << "\n";
    }
    TrainConfig cfg;  // cifar10, from `folder`
    cfg.data = folder;
    const ImageDataset data = load_data_with_warnings(cfg);
    auto counts = torch::bincount(data.train.labels, {}, 10);
    auto test_counts = torch::bincount(data.test.labels, {}, 10);
    std::cout << folder << ": " << data.train.size() << " training images, " << data.test.size()
              << " test images\nper class (train/test):";
    for (int c = 0; c < 10; ++c)
      std::cout << " " << counts[c].item<std::int64_t>() << "/" << test_counts[c].item<std::int64_t>();
    std::cout << "\n";
    return 0;
  };
}

}  // namespace lrtune::cli
