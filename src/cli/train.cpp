// `lrtune train`: one run in its own directory (config.json, metrics.csv,
// results.sqlite, checkpoint.pt), resumable with --resume DIR.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/folders.h"
#include "cli/config_flags.h"
#include "cli/console.h"
#include "cli/run_recovery.h"
#include "core/errors.h"
#include "core/files.h"
#include "core/interrupt.h"
#include "core/process.h"
#include "core/provenance.h"
#include "data/cifar10.h"
#include "model/network.h"
#include "report/tensorboard.h"
#include "store/store.h"
#include "train/trainer.h"

namespace lrtune::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kTrialId = "run";
// Seconds between heartbeats while training, and without one before a run
// held by a process of another machine may be taken over (as studies do).
constexpr double kHeartbeatEvery = 5;
constexpr double kStaleAfter = 60;

struct TrainArgs {
  std::string config_file;
  std::string resume_dir;
  std::string out_dir;
  std::string tensorboard;  // log directory written as epochs end ("" = none)
  FlagValues flags;
};

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

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
  build_model(cfg.model);  // an unknown name fails here, before any work
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

json provenance(const TrainConfig& cfg, const std::string& device, int threads,
               const Cifar10& data) {
  json info = run_provenance(device, threads, cfg.seed);
  info[kDataFingerprintKey] = data.fingerprint;
  info["started_at"] = unix_now();
  return info;
}

// On resume: one line when the data is not the copy the run started with.
void warn_if_other_data(const fs::path& dir, const Cifar10& data) {
  std::ifstream in(dir / "config.json");
  const json stored = json::parse(in, nullptr, /*allow_exceptions=*/false);
  const json* prov = stored.is_object() && stored.contains("provenance") ? &stored["provenance"] : nullptr;
  if (!prov || !prov->contains(kDataFingerprintKey)) return;  // made before fingerprints
  const std::string was = prov->value(kDataFingerprintKey, std::string());
  if (was != data.fingerprint)
    std::cout << "warning: this data (fingerprint " << data.fingerprint << ") is not the copy the "
              << "run started with (" << was << "); its epochs will mix the two\n";
}

// The refusal when another process of this machine, or one of another machine
// that beat recently, holds the run.
StoreError held_elsewhere(const fs::path& dir, const TrialRecord& t, Store& store) {
  std::string msg = dir.string() + " is being trained by process " + std::to_string(t.pid) +
                    " on host " + t.host;
  if (t.host != host_name())
    msg += " (its last heartbeat " + std::to_string(static_cast<long>(store.now() - t.heartbeat_at)) +
           "s ago; it may be taken over after " + std::to_string(static_cast<int>(kStaleAfter)) +
           "s without one)";
  return StoreError(msg + "; wait for it to end, or stop it, then resume");
}

// Takes the run for this process. A holder of this machine that is gone
// (kill -9, a crash) gives it up at once; a living one keeps it.
void take_run(Store& store, const fs::path& dir) {
  const std::string host = host_name();
  if (auto t = store.trial(kTrialId); t && t->status == RunStatus::running && t->host == host) {
    if (process_alive(t->pid)) throw held_elsewhere(dir, *t, store);
    store.release_orphan(kTrialId, host, t->pid);
  }
  if (store.claim_trial({kTrialId}, host, static_cast<std::int64_t>(getpid()), kStaleAfter)) return;
  const auto t = store.trial(kTrialId);
  if (t && t->status == RunStatus::running) throw held_elsewhere(dir, *t, store);
  throw StoreError(dir.string() + ": the run could not be taken (status " +
                   (t ? to_string(t->status) : std::string("missing")) + "); try again");
}

// For tests: LRTUNE_TEST_HOLD_AT_EPOCH=N stops training for good once epoch
// N's row is recorded, before its checkpoint is written (a known point to
// kill -9 the run at, or to find it holding the run). Ctrl-C/SIGTERM end it.
void hold_if_asked(std::int64_t epoch) {
  const char* at = std::getenv("LRTUNE_TEST_HOLD_AT_EPOCH");
  if (!at || std::to_string(epoch) != at) return;
  std::cout << "holding at epoch " << epoch << " (LRTUNE_TEST_HOLD_AT_EPOCH), process " << getpid()
            << std::endl;
  while (!interrupted()) pause();
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

TrainHooks run_hooks(Store& store, const fs::path& dir, Console& console,
                     report::TensorBoardLive* tb) {
  TrainHooks hooks;
  hooks.on_epoch = [&store, dir, tb, &console](const EpochMetrics& m) {
    store.put_epoch(kTrialId, m);
    store.heartbeat(kTrialId);
    write_csv(dir / "metrics.csv", store.epochs(kTrialId));
    follow(tb, store, console);
    hold_if_asked(m.epoch);
  };
  hooks.on_resume = [&store, dir](std::int64_t last) {
    store.truncate_epochs(kTrialId, last);
    write_csv(dir / "metrics.csv", store.epochs(kTrialId));
  };
  // Polled every step: beats often enough that another machine never takes
  // over a run that is alive.
  hooks.should_stop = [&store, last = std::chrono::steady_clock::now()]() mutable {
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last).count() >= kHeartbeatEvery) {
      store.heartbeat(kTrialId);
      last = now;
    }
    return interrupted();
  };
  hooks.on_log = [&console](const std::string& line, bool transient) { console.line(line, transient); };
  return hooks;
}

// The run's store with its one trial, taken by this process; nullptr when
// the run has already finished (nothing to do).
std::unique_ptr<Store> open_run_store(const fs::path& dir, const TrainConfig& cfg) {
  auto store = open_sqlite_store((dir / "results.sqlite").string());
  store->add_trial({kTrialId, "train", to_json(cfg), 0, cfg.epochs});
  if (auto t = store->trial(kTrialId); t && (t->status == RunStatus::done || t->status == RunStatus::diverged)) {
    std::cout << dir.string() << " already finished (" << to_string(t->status) << "); nothing to do\n";
    return nullptr;
  }
  take_run(*store, dir);
  return store;
}

// Before a resume trains: a damaged checkpoint is refused in one line (the
// run is given back, untouched); epochs it covers that the database lost are
// restored from metrics.csv, or the run starts over (cli/run_recovery.h).
void check_resumable(Store& store, const fs::path& dir) {
  try {
    reconcile_run(store, kTrialId, dir, [](const std::string& line) { std::cout << line << "\n"; });
  } catch (const Error&) {
    store.release_trial(kTrialId);
    throw;
  }
}

// Trains the taken run to its end or a stop; the exit code.
int train_run(Store& store, const fs::path& dir, const TrainConfig& cfg, const Cifar10& data,
              Console& console, report::TensorBoardLive* tb, std::int64_t& epochs_done) {
  install_interrupt_handlers();
  RunOutcome out;
  try {
    out = run_training(cfg, data, (dir / "checkpoint.pt").string(), run_hooks(store, dir, console, tb));
  } catch (const Error&) {
    // A full disk, a damaged file: the run is not left `running`; its last
    // checkpoint and rows stay for --resume.
    try {
      store.release_trial(kTrialId);
    } catch (const Error&) {
      // the database may be what failed; a later resume takes the run back
    }
    throw;
  }
  epochs_done = out.epochs_completed;
  if (out.status == RunStatus::running) {
    store.release_trial(kTrialId);
    std::cout << "stopped after epoch " << out.epochs_completed << "; continue with: lrtune train --resume "
              << dir.string() << "\n";
    return 130;
  }
  store.finish_trial(kTrialId, out.status, out.message);
  follow(tb, store, console);  // the session's end
  std::cout << to_string(out.status) << " after " << out.epochs_completed << " epochs; results in "
            << dir.string() << "/ (metrics.csv, results.sqlite)\n";
  return 0;
}

int run_train(const TrainArgs& a) {
  const bool resuming = !a.resume_dir.empty();
  if (resuming && (!a.config_file.empty() || !a.out_dir.empty()))
    throw ConfigError("--resume takes the configuration and directory of the run; drop --config/--out");
  const fs::path dir = resuming ? fs::path(a.resume_dir)
                                : fs::path(a.out_dir.empty() ? default_out_dir() : a.out_dir);
  TrainConfig cfg = resuming ? resolve_resumed_config(a, dir) : resolve_new_config(a);
  if (!resuming && fs::exists(dir / "config.json"))
    throw ConfigError(dir.string() + " already holds a run; continue it with --resume " +
                      dir.string() + " or choose another --out");
  // A run to resume is taken first: one that has finished, or that a living
  // process holds, stops here with one line.
  std::unique_ptr<Store> store;
  if (resuming) {
    if (!(store = open_run_store(dir, cfg))) return 0;
    check_resumable(*store, dir);
  }

  // Everything that can fail on bad input happens before the directory exists.
  const std::string device = resolve_device(cfg.device);
  const int threads = apply_threads(cfg.threads);
  const std::string data_dir = resolve_data_dir(cfg.data);
  const Cifar10 data = load_data_with_warnings(data_dir);
  const auto tb = live_tensorboard(a, dir);
  Console console;
  set_thread_change_log([&console](const std::string& line) { console.line(line, false); });
  struct LogScope {  // the console goes with this function; so does the log into it
    ~LogScope() { set_thread_change_log(nullptr); }
  } log_scope;
  console.line("CIFAR-10: " + std::to_string(data.train.size()) + " training + " +
                   std::to_string(data.test.size()) + " test images from " + data_dir, false);

  std::error_code ec;
  const bool created = !fs::exists(dir);
  fs::create_directories(dir, ec);
  if (ec) throw StoreError(dir.string() + ": cannot create: " + ec.message());
  std::int64_t epochs_done = 0;
  try {
    if (!resuming) {
      write_text_atomically(dir / "config.json",
                            json{{"config", to_json(cfg)}, {"id", to_json(cfg, true).dump()},
                                 {"provenance", provenance(cfg, device, threads, data)}}
                                    .dump(2) + "\n");
      if (!(store = open_run_store(dir, cfg))) return 0;
    }
    std::cout << version_line() << "\nrun directory: " << dir.string() << "\ndevice " << device
              << ", " << threads
              << (cfg.threads == 0 && threads > 1 ? " threads (fewer while fewer train faster)"
                                                  : " threads")
              << "\nconfiguration:\n" << describe_config(cfg);
    if (resuming) warn_if_other_data(dir, data);
    return train_run(*store, dir, cfg, data, console, tb.get(), epochs_done);
  } catch (...) {
    if (created && !resuming && epochs_done == 0 && !fs::exists(dir / "checkpoint.pt"))
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
