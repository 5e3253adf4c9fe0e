// `lrtune export FORMAT ...`: study and run folders in other tools' formats.
// Each format is one subcommand with one setup function below.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "cli/folders.h"
#include "core/errors.h"
#include "report/optuna.h"
#include "report/tensorboard.h"
#include "store/store.h"

namespace lrtune::cli {
namespace fs = std::filesystem;

namespace {

// One export format: its subcommand and what runs it.
struct Format {
  CLI::App* sub;
  RunFn run;
};

struct TensorBoardArgs {
  std::vector<std::string> dirs;
  std::string out, store;
};

int run_tensorboard(const TensorBoardArgs& a) {
  const auto result = report::export_tensorboard(a.dirs, study_opener(a.store), a.out);
  std::cout << result.runs.size() << " TensorBoard run(s) in " << a.out << "/";
  if (result.without_epochs)
    std::cout << " (" << result.without_epochs << " trial(s) without epochs left out)";
  std::cout << "\nview them with: tensorboard --logdir " << a.out << "\n";
  return 0;
}

Format setup_tensorboard(CLI::App& exp) {
  auto a = std::make_shared<TensorBoardArgs>();
  auto* sub = exp.add_subcommand("tensorboard", "Trials as TensorBoard runs: scalars per epoch, "
                                                "hyper-parameters and outcome (HParams)");
  sub->add_option("dirs", a->dirs,
                  "study or run folders (each holds results.sqlite); with --store, study names")
      ->required();
  sub->add_option("--out", a->out, "log directory to write (created if needed)")->required();
  add_store_flag(*sub, a->store);
  sub->footer(
      "Writes one run per trial (a folder named by its label; with several folders,\n"
      "below a folder named after each study), holding per epoch (step = epoch, from 1)\n"
      "train/, val/ and test/ loss and acc, lr and images_per_s, and for the HParams\n"
      "dashboard the trial's hyper-parameters (the keys that vary across the trials and\n"
      "those off their defaults) and its outcome. The top level holds the experiment\n"
      "(which hyper-parameters and metrics exist). Event files lrtune wrote there before\n"
      "are replaced; trials without epochs are left out. View: tensorboard --logdir OUT\n"
      "While training: `lrtune train --tensorboard DIR`, `lrtune study run --tensorboard DIR`.");
  return {sub, [a] { return run_tensorboard(*a); }};
}

struct OptunaArgs {
  std::string dir, store;
  report::OptunaExportOptions options;
};

int run_optuna(const OptunaArgs& a) {
  const report::OptunaExportOptions& o = a.options;
  const auto r = report::export_optuna(a.dir, study_opener(a.store), o);
  std::cout << "Optuna study '" << r.study_name << "' in " << o.storage << ": "
            << r.complete << " complete, " << r.pruned << " pruned, " << r.failed << " failed"
            << (r.unfinished ? ", " + std::to_string(r.unfinished) + " running or waiting" : "")
            << "; " << r.parameters << " parameter(s)\n"
            << "load it with: optuna.load_study(study_name=" << std::quoted(r.study_name)
            << ", storage=optuna.storages.JournalStorage(optuna.storages.JournalFileStorage("
            << std::quoted(o.storage) << ")))\n";
  return 0;
}

Format setup_optuna(CLI::App& exp) {
  auto a = std::make_shared<OptunaArgs>();
  report::OptunaExportOptions* o = &a->options;
  auto* sub = exp.add_subcommand("optuna", "A study as an Optuna study in a journal file: "
                                           "parameters, per-epoch values, states");
  sub->add_option("dir", a->dir, "study or run folder (holds results.sqlite); with --store, a "
                  "study's name")->required();
  add_store_flag(*sub, a->store);
  sub->add_option("--storage", o->storage,
                  "Optuna journal file to write (created, or the study is added to it)")
      ->required();
  sub->add_option("--study-name", o->study_name, "name in Optuna (default: the study's name)");
  sub->add_option("--objective", o->objective,
                  "the trial's value: val_acc, val_loss, test_acc, test_loss, train_acc or "
                  "train_loss; maximized for acc, minimized for loss")
      ->capture_default_str();
  sub->add_flag("--last", o->at_last_epoch,
                "the objective at the last epoch (default: at the best epoch)");
  sub->footer(
      "Each trial becomes an Optuna trial: its parameters are a search study's searched\n"
      "keys with the space's distributions (float, log, step, int, categorical), or a\n"
      "grid's swept keys as categorical distributions over the values swept; the objective\n"
      "of every epoch as\n"
      "intermediate values (step = epoch, from 1), the value at the best (or last) epoch,\n"
      "and its state: done COMPLETE, pruned PRUNED, diverged or failed FAIL, running\n"
      "RUNNING, pending WAITING. User attributes: label, lrtune_id, lrtune_status.\n"
      "The file is Optuna's JournalFileStorage format (Optuna >= 3.1); copy it into an\n"
      "RDB with optuna.copy_study. See docs/export.md.");
  return {sub, [a] { return run_optuna(*a); }};
}

}  // namespace

RunFn setup_export(CLI::App& sub) {
  sub.require_subcommand(1);
  // A new format is one more setup function in this list.
  const std::vector<Format> formats = {setup_tensorboard(sub), setup_optuna(sub)};
  return [formats]() -> int {
    for (const auto& f : formats)
      if (f.sub->parsed()) return f.run();
    return 2;  // unreachable: CLI11 requires one subcommand
  };
}

}  // namespace lrtune::cli
