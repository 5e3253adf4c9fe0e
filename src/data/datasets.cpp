// The dataset registry and the kinds lrtune ships.
#include "data/datasets.h"

#include <cstdlib>
#include <mutex>

#include "core/kind_table.h"
#include "data/cifar10.h"
#include "data/idx.h"

namespace lrtune {
namespace {

KindTable<DatasetKind>& kinds() {
  static KindTable<DatasetKind> k("dataset");
  return k;
}

}  // namespace

void register_dataset(DatasetKind kind) { kinds().add(std::move(kind)); }

void register_builtin_datasets() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_dataset({{"dataset", "cifar10",
                       "CIFAR-10, binary version: 50,000 training and 10,000 test images, "
                       "3x32x32, 10 classes (data_batch_1..5.bin, test_batch.bin)",
                       {}, {}},
                      "data/cifar-10-batches-bin",
                      [](const TrainConfig&, const std::string& folder) { return load_cifar10(folder); }});
    register_dataset({{"dataset", "mnist",
                       "MNIST handwritten digits: 60,000 training and 10,000 test images, 1x28x28, "
                       "10 classes (the four IDX files, gzipped or not)",
                       {}, {}},
                      "data/mnist",
                      [](const TrainConfig&, const std::string& folder) {
                        return load_idx_folder(folder, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
                      }});
    register_dataset({{"dataset", "fashion_mnist",
                       "Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothes, "
                       "1x28x28, 10 classes (the four IDX files; Debian's dataset-fashion-mnist)",
                       {}, {}},
                      "/usr/share/datasets/fashion-mnist",
                      [](const TrainConfig&, const std::string& folder) {
                        return load_idx_folder(folder, {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                        "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                                        "Ankle boot"});
                      }});
  });
}

std::vector<const DatasetKind*> dataset_kinds() {
  std::vector<const DatasetKind*> out;
  for (const auto& k : kinds().all()) out.push_back(&k);
  return out;
}

const DatasetKind& dataset_kind(const TrainConfig& cfg) { return kinds().get(cfg.dataset); }

std::string data_folder(const TrainConfig& cfg) {
  if (!cfg.data.empty()) return cfg.data;
  if (cfg.dataset == "cifar10")
    if (const char* env = std::getenv("LRTUNE_DATA"); env && *env) return env;
  return dataset_kind(cfg).default_folder;
}

ImageDataset load_dataset(const TrainConfig& cfg, const std::string& folder) {
  ImageDataset data = dataset_kind(cfg).load(cfg, folder);
  data.kind = cfg.dataset;
  return data;
}

std::string dataset_key(const TrainConfig& cfg) {
  std::string key = cfg.dataset;
  for (const auto& spec : dataset_kind(cfg).decl.keys) {
    auto it = cfg.options.find(spec.name);
    key += "|" + spec.name + "=" + (it != cfg.options.end() ? it->second : spec.default_value).dump();
  }
  return key;
}

}  // namespace lrtune
