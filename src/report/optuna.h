// A study as an Optuna study: written to an Optuna journal file (the format
// of optuna.storages.JournalFileStorage), so that Optuna's API, plots and
// optuna-dashboard show lrtune's trials (docs/export.md). Results are read
// through the Store interface only.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "store/store.h"

namespace lrtune::report {

struct OptunaExportOptions {
  std::string storage;     // the journal file (created, or appended to)
  std::string study_name;  // "" = the lrtune study's name
  std::string objective = "val_acc";  // val_acc, val_loss, test_acc, test_loss, train_acc, train_loss
  bool at_last_epoch = false;         // the objective at the last epoch, not the best one
};

struct OptunaExport {
  std::string study_name;
  int complete = 0, pruned = 0, failed = 0, unfinished = 0;  // trials by Optuna state
  int parameters = 0;                                     // parameters per trial
};

// Throws ConfigError for an unknown objective, a storage that is not a
// journal file, or a journal that already holds a study of that name.
OptunaExport export_optuna(const std::string& dir,
                           const std::function<std::unique_ptr<Store>(const std::string&)>& open,
                           const OptunaExportOptions& options);

}  // namespace lrtune::report
