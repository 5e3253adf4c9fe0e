// `lrtune train`: one run in its own directory (config.json, metrics.csv,
// results.sqlite, checkpoint.pt), resumable with --resume DIR. The run is the
// one trial of a one-trial study, claimed, beaten, trained and recovered by
// the study worker (study/worker.h) like any study's trial.
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "cli/console.h"
#include "cli/run_recovery.h"
#include "core/errors.h"
#include "core/files.h"
#include "core/interrupt.h"
#include "core/process.h"
#include "core/provenance.h"
#include "data/datasets.h"
#include "model/autocast.h"
#include "model/network.h"
#include "report/tensorboard.h"
#include "store/store.h"
#include "study/study_run.h"
#include "study/torch_pack_runner.h"
#include "study/worker.h"
#include "train/trainer.h"

namespace lrtune::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A run folder is a one-trial study: this is its trial.
constexpr const char* kTrialId = "run";

struct TrainArgs {
  std::string config_file;
  std::string resume_dir;
  std::string out_dir;
  std::string tensorboard;  // log directory written as epochs end ("" = none)
  FlagValues flags;
};

std::string default_out_dir() {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "runs/%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

void write_csv(const fs::path& path, const std::vector<EpochMetrics>& rows) {
  std::string text;
  for (const auto& c : epoch_csv_columns()) text += (text.empty() ? "" : ",") + c;
  text += "\n";
  for (const auto& m : rows) text += epoch_csv_row(m) + "\n";
  write_text_atomically(path, text);
}

TrainConfig resolve_new_config(const TrainArgs& a) {
  TrainConfig cfg;
  if (!a.config_file.empty()) apply_toml_file(cfg, a.config_file);
  apply_flags(cfg, a.flags);
  cfg.validate(a.config_file.empty() ? "configuration" : a.config_file);
  model_kind(cfg.model);  // an unknown name fails here, before any work
  return cfg;
}

// On resume only where/how it runs may change; anything else would mix results.
TrainConfig resolve_resumed_config(const TrainArgs& a, const fs::path& dir) {
  const fs::path file = dir / "config.json";
  std::ifstream in(file);
  if (!in) throw StoreError(file.string() + ": not found; is " + dir.string() + " a run directory?");
  json stored;
  try {
    stored = json::parse(in);
  } catch (const json::exception& e) {
    throw StoreError(file.string() + ": " + e.what());
  }
  TrainConfig cfg;
  apply_json(cfg, stored.at("config"), file.string());
  for (const auto& [key, text] : a.flags)
    if (find_config_field(key)->identity())
      throw ConfigError(flag_name(key) + ": cannot change '" + key +
                        "' when resuming (it would mix results); start a new run instead");
  apply_flags(cfg, a.flags);
  cfg.validate(file.string());
  return cfg;
}

// The refusal when another process of this machine, or one of another machine
// that beat recently, holds the run.
StoreError held_elsewhere(const fs::path& dir, const TrialRecord& t, Store& store) {
  std::string msg = dir.string() + " is being trained by process " + std::to_string(t.pid) +
                    " on host " + t.host;
  if (t.host != host_name())
    msg += " (its last heartbeat " + std::to_string(static_cast<long>(store.now() - t.heartbeat_at)) +
           "s ago; it may be taken over after " +
           std::to_string(static_cast<int>(StudyTiming{}.stale_after_s)) + "s without one)";
  return StoreError(msg + "; wait for it to end, or stop it, then resume");
}

// A holder of this machine that is gone (kill -9, a crash) gives the run up
// at once; a living one, or one of another machine that beat recently, keeps
// it and this process stops in one line, touching nothing.
void check_not_held(Store& store, const fs::path& dir) {
  const auto t = store.trial(kTrialId);
  if (!t || t->status != RunStatus::running) return;
  if (t->host == host_name()) {
    if (process_alive(t->pid)) throw held_elsewhere(dir, *t, store);
    store.release_orphan(kTrialId, t->host, t->pid);
  } else if (store.now() - t->heartbeat_at < StudyTiming{}.stale_after_s) {
    throw held_elsewhere(dir, *t, store);
  }
}

// The run's store: a one-trial study whose trial's files lie in the folder
// itself. nullptr when the run has already finished (nothing to do); a run
// that failed (a crash of the trainer) is tried again.
std::unique_ptr<Store> open_run_store(const fs::path& dir, const TrainConfig& cfg) {
  SqliteOptions options;
  options.run_folder = true;
  auto store = open_sqlite_store((dir / "results.sqlite").string(), options);
  store->add_trial({kTrialId, "train", to_json(cfg), 0, cfg.epochs});
  if (auto t = store->trial(kTrialId); t && (t->status == RunStatus::done || t->status == RunStatus::diverged)) {
    std::cout << dir.string() << " already finished (" << to_string(t->status) << "); nothing to do\n";
    return nullptr;
  }
  store->retry_failed({kTrialId});
  check_not_held(*store, dir);
  return store;
}

// The TensorBoard follower of --tensorboard (nullptr without it): one run
// named after the run folder. Made before training, so that a log directory
// that cannot be made stops the run before it starts.
std::unique_ptr<report::TensorBoardLive> live_tensorboard(const TrainArgs& a, const fs::path& dir) {
  if (a.tensorboard.empty()) return nullptr;
  fs::path name = fs::absolute(dir).lexically_normal();
  if (name.filename().empty()) name = name.parent_path();
  return std::make_unique<report::TensorBoardLive>(
      report::TensorBoardLive::Options{a.tensorboard, name.filename().string(), false});
}

void follow(report::TensorBoardLive* tb, Store& store, Console& console) {
  if (tb) tb->follow(store, [&console](const std::string& line) { console.line(line, false); });
}

// The study worker's options for the run: this process claims and beats it
// as a study's worker does; each change of its stored epochs is copied to
// metrics.csv (and TensorBoard), and the trainer's lines go to the console.
WorkerOptions run_worker_options(Store& store, const fs::path& dir, Console& console,
                                 report::TensorBoardLive* tb) {
  WorkerOptions opts;
  opts.host = host_name();
  opts.pid = static_cast<std::int64_t>(getpid());
  opts.stale_after_s = StudyTiming{}.stale_after_s;
  opts.heartbeat_every_s = StudyTiming{}.heartbeat_every_s;
  opts.train_log = [&console](const std::string& line, bool transient) { console.line(line, transient); };
  opts.on_epochs_changed = [&store, dir, tb, &console](const std::string& id) {
    write_csv(dir / "metrics.csv", store.epochs(id));
    follow(tb, store, console);
  };
  return opts;
}

// Trains the run through the study worker, to its end or a stop; the exit
// code. What stopped the trainer (a full disk, a damaged file) is rethrown:
// the run keeps its last checkpoint and rows for --resume.
int train_run(Store& store, TorchPackRunner& runner, const fs::path& dir, Console& console,
              report::TensorBoardLive* tb) {
  install_interrupt_handlers();
  GridSource source({kTrialId});
  const WorkerSummary s = run_worker(store, runner, source, run_worker_options(store, dir, console, tb),
                                     [] { return interrupted(); });
  if (s.error) std::rethrow_exception(s.error);
  if (s.lost)
    throw StoreError(dir.string() + ": another process took the run over while this one's "
                     "heartbeat was stale; it goes on there");
  const auto t = store.trial(kTrialId);
  const std::int64_t epochs = leading_epochs(store.epochs(kTrialId));
  if (t && (t->status == RunStatus::done || t->status == RunStatus::diverged)) {
    follow(tb, store, console);  // the session's end
    std::cout << to_string(t->status) << " after " << epochs << " epochs; results in "
              << dir.string() << "/ (metrics.csv, results.sqlite)\n";
    return 0;
  }
  if (s.stopped) {
    std::cout << "stopped after epoch " << epochs << "; continue with: lrtune train --resume "
              << dir.string() << "\n";
    return 130;
  }
  if (t && t->status == RunStatus::running) throw held_elsewhere(dir, *t, store);
  throw StoreError(dir.string() + ": the run could not be taken (status " +
                   (t ? to_string(t->status) : std::string("missing")) + "); try again");
}

// The runner of the run's one trial: the resolved run's threads, device and
// data (on resume they may differ from the stored configuration's).
TorchRunnerOptions runner_options(const TrainConfig& cfg) {
  TorchRunnerOptions opts;
  opts.threads = cfg.threads;
  opts.device = cfg.device;
  opts.data = cfg.data;  // "" stays "": $LRTUNE_DATA or ./data/... where it runs
  return opts;
}

void print_header(const fs::path& dir, const TrainConfig& cfg, int threads) {
  std::cout << version_line() << "\nrun directory: " << dir.string() << "\ndevice "
            << resolve_device(cfg.device) << ", " << threads
            << (cfg.threads == 0 && threads > 1 ? " threads (fewer while fewer train faster)"
                                                : " threads")
            << "\nconfiguration:\n" << describe_config(cfg);
}

int run_train(const TrainArgs& a) {
  const bool resuming = !a.resume_dir.empty();
  if (resuming && (!a.config_file.empty() || !a.out_dir.empty()))
    throw ConfigError("--resume takes the configuration and directory of the run; drop --config/--out");
  const fs::path dir = resuming ? fs::path(a.resume_dir)
                                : fs::path(a.out_dir.empty() ? default_out_dir() : a.out_dir);
  TrainConfig cfg = resuming ? resolve_resumed_config(a, dir) : resolve_new_config(a);
  check_precision(cfg.precision, resolve_device(cfg.device));
  if (!resuming && fs::exists(dir / "config.json"))
    throw ConfigError(dir.string() + " already holds a run; continue it with --resume " +
                      dir.string() + " or choose another --out");
  // A run to resume is looked at first: one that has finished, or that a
  // living process holds, stops here with one line.
  std::unique_ptr<Store> store;
  if (resuming) {
    if (!(store = open_run_store(dir, cfg))) return 0;
    restore_from_csv(*store, kTrialId, dir, [](const std::string& line) { std::cout << line << "\n"; });
  }

  // Everything that can fail on bad input happens before the directory exists.
  const TorchRunnerOptions options = runner_options(cfg);
  TorchPackRunner runner(options);
  const ImageDataset& data = runner.prepare(to_json(cfg));
  for (const auto& w : data.warnings) std::cout << "warning: " << w << "\n";
  const auto tb = live_tensorboard(a, dir);
  Console console;
  set_thread_change_log([&console](const std::string& line) { console.line(line, false); });
  struct LogScope {  // the console goes with this function; so does the log into it
    ~LogScope() { set_thread_change_log(nullptr); }
  } log_scope;
  console.line(data.kind + ": " + std::to_string(data.train.size()) + " training + " +
                   std::to_string(data.test.size()) + " test images (" + data.shape().text() +
                   ") from " + data_folder(cfg),
               false);

  std::error_code ec;
  const bool created = !fs::exists(dir);
  fs::create_directories(dir, ec);
  if (ec) throw StoreError(dir.string() + ": cannot create: " + ec.message());
  try {
    if (!resuming) {
      write_text_atomically(dir / "config.json",
                            json{{"config", to_json(cfg)}, {"id", to_json(cfg, true).dump()}}.dump(2) + "\n");
      store = open_run_store(dir, cfg);
    }
    print_header(dir, cfg, runner.threads());
    return train_run(*store, runner, dir, console, tb.get());
  } catch (...) {
    if (created && !resuming && !fs::exists(dir / "checkpoint.pt"))
      fs::remove_all(dir, ec);  // nothing worth keeping: leave no half-made run behind
    throw;
  }
}

}  // namespace

RunFn setup_train(CLI::App& sub) {
  auto args = std::make_shared<TrainArgs>();
  sub.footer(
      "Every configuration key can also be set in a TOML file (--config); flags win over the file.\n"
      "A run directory holds config.json, metrics.csv, results.sqlite and checkpoint.pt;\n"
      "after a crash or Ctrl-C, `lrtune train --resume DIR` continues from the last epoch.");
  sub.add_option("--config", args->config_file, "TOML file with configuration keys")
      ->check(CLI::ExistingFile);
  sub.add_option("--resume", args->resume_dir, "continue the run in this directory");
  sub.add_option("--out", args->out_dir, "run directory (default: runs/<date>-<time>)");
  sub.add_option("--tensorboard", args->tensorboard,
                 "also write the run to this TensorBoard log directory, epoch by epoch "
                 "(docs/export.md)");
  add_config_flags(sub, args->flags);
  return [args] { return run_train(*args); };
}

}  // namespace lrtune::cli
