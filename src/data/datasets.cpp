// The dataset registry and the kinds lrtune ships.
#include "data/datasets.h"

#include <cstdlib>
#include <mutex>

#include "core/kind_table.h"
#include "data/cifar10.h"
#include "data/cifar100.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "data/tensors.h"

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
    register_dataset(cifar10_dataset());
    register_dataset(cifar100_dataset());
    register_dataset(mnist_dataset());
    register_dataset(fashion_mnist_dataset());
    register_dataset(image_folder_dataset());
    register_dataset(tensors_dataset());
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
