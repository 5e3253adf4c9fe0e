// `lrtune data download|check`, for any data set kind.
#include <iostream>

#include <torch/torch.h>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "cli/folders.h"
#include "core/format.h"
#include "data/datasets.h"
#include "data/download.h"

namespace lrtune::cli {
namespace {

// Per class, "train/test" counts in one table.
void print_check(const std::string& folder, const ImageDataset& data) {
  const DataShape s = data.shape();
  std::cout << data.kind << " in " << folder << ": " << format_count(static_cast<double>(data.train.size()))
            << " training images, " << format_count(static_cast<double>(data.test.size()))
            << " test images, " << s.text() << "; fingerprint " << data.fingerprint << "\n";
  const auto train = torch::bincount(data.train.labels, {}, s.classes);
  const auto test = torch::bincount(data.test.labels, {}, s.classes);
  std::size_t width = 5;
  for (const auto& name : data.class_names) width = std::max(width, name.size());
  std::cout << "  " << std::string(width - 5, ' ') << "class  train   test\n";
  for (std::int64_t c = 0; c < s.classes; ++c) {
    const std::string& name = data.class_names[static_cast<std::size_t>(c)];
    char line[64];
    std::snprintf(line, sizeof line, "%7lld %6lld", static_cast<long long>(train[c].item<std::int64_t>()),
                  static_cast<long long>(test[c].item<std::int64_t>()));
    std::cout << "  " << std::string(width - name.size(), ' ') << name << line << "\n";
  }
  if (data.warnings.empty()) std::cout << "no warnings\n";
}

}  // namespace

RunFn setup_data(CLI::App& sub) {
  auto flags = std::make_shared<FlagValues>();
  auto quiet = std::make_shared<bool>(false);
  sub.require_subcommand(1);
  auto* download = sub.add_subcommand(
      "download", "Fetch a data set's official files (" + downloadable_datasets() +
                      "), check their MD5, unpack them, then check the data as `data check` does");
  auto* check = sub.add_subcommand(
      "check", "Read every file of a data set and print its size, image shape, counts per class "
               "and part, and any warnings");
  // --dataset, --data and the data set kinds' own keys (--label, --image-size, ...).
  const auto data_keys = [](const ConfigField& f) {
    return f.key() == "dataset" || f.key() == "data" || f.owner.rfind("dataset ", 0) == 0;
  };
  for (auto* s : {download, check}) add_config_flags(*s, *flags, data_keys);
  download->add_flag("--quiet", *quiet, "no progress bar");
  return [=]() -> int {
    TrainConfig cfg;
    apply_flags(cfg, *flags);
    cfg.validate("command line");
    const std::string folder = data_folder(cfg);
    if (download->parsed()) {
      const DatasetDownload* d = official_download(cfg.dataset);
      if (!d)
        throw ConfigError("--dataset " + cfg.dataset + ": has nothing to download (the data sets with " +
                          "official files are " + downloadable_datasets() + ")");
      download_dataset(*d, folder, *quiet);
      std::cout << cfg.dataset << " ready in " << folder << "\n";
    }
    print_check(folder, load_data_with_warnings(cfg));
    return 0;
  };
}

}  // namespace lrtune::cli
