// The dataset registry: the same shape as models, optimizers and schedules (a
// kind declares its keys once, core/keys.h). A kind reads its files from a
// folder into an ImageDataset; the `dataset` key (default "cifar10") chooses
// the kind and is part of a trial's identity, the `data` key the folder.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/keys.h"
#include "data/dataset.h"

namespace lrtune {

struct DatasetKind {
  KindDecl decl;  // family "dataset": its name, help and keys
  // Where its files are when neither `data` nor (for cifar10) $LRTUNE_DATA says.
  std::string default_folder;
  // Reads the kind's files from `folder` (DataError naming the file on bad input).
  std::function<ImageDataset(const TrainConfig& cfg, const std::string& folder)> load;
};

// Adds a kind (its keys become configuration keys); std::logic_error when the name is taken.
void register_dataset(DatasetKind kind);
// The shipped kinds (data/datasets.cpp); later calls do nothing.
void register_builtin_datasets();
// The registered kinds, in registration order.
std::vector<const DatasetKind*> dataset_kinds();
// ConfigError listing the known names when cfg.dataset is unknown.
const DatasetKind& dataset_kind(const TrainConfig& cfg);

// The folder cfg's data set is read from: cfg.data if set; else, for
// cifar10, $LRTUNE_DATA if set; else the kind's default folder.
std::string data_folder(const TrainConfig& cfg);
// cfg's data set, read from `folder` (usually data_folder(cfg)).
ImageDataset load_dataset(const TrainConfig& cfg, const std::string& folder);

// What makes two configurations read the same data from a folder: the kind
// and the values of its keys (a cache of loaded data sets is keyed by this
// and the folder).
std::string dataset_key(const TrainConfig& cfg);

}  // namespace lrtune
