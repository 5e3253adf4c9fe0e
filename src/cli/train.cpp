// `lrtune train`: one run in its own directory (config.json, metrics.csv,
// results.sqlite, checkpoint.pt), resumable with --resume DIR.
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "cli/console.h"
#include "core/errors.h"
#include "core/files.h"
#include "core/interrupt.h"
#include "core/process.h"
#include "core/provenance.h"
#include "data/cifar10.h"
#include "model/network.h"
#include "store/store.h"
#include "train/trainer.h"

namespace lrtune::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kTrialId = "run";

struct TrainArgs {
  std::string config_file;
  std::string resume_dir;
  std::string out_dir;
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

json provenance(const TrainConfig& cfg, const std::string& device, int threads) {
  json info = run_provenance(device, threads, cfg.seed);
  info["started_at"] = unix_now();
  return info;
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

  // Everything that can fail on bad input happens before the directory exists.
  const std::string device = resolve_device(cfg.device);
  const int threads = apply_threads(cfg.threads);
  const std::string data_dir = resolve_data_dir(cfg.data);
  const Cifar10 data = load_cifar10(data_dir);
  Console console;
  console.line("CIFAR-10: " + std::to_string(data.train.size()) + " training + " +
                   std::to_string(data.test.size()) + " test images from " + data_dir, false);

  std::error_code ec;
  const bool created = !fs::exists(dir);
  fs::create_directories(dir, ec);
  if (ec) throw StoreError(dir.string() + ": cannot create: " + ec.message());
  std::int64_t epochs_done = 0;
  try {
    if (!resuming)
      write_text_atomically(dir / "config.json",
                            json{{"config", to_json(cfg)}, {"id", to_json(cfg, true).dump()},
                                 {"provenance", provenance(cfg, device, threads)}}
                                    .dump(2) + "\n");
    auto store = open_sqlite_store((dir / "results.sqlite").string());
    store->add_trial({kTrialId, "train", to_json(cfg), 0, cfg.epochs});
    if (auto t = store->trial(kTrialId); t && (t->status == RunStatus::done || t->status == RunStatus::diverged)) {
      std::cout << dir.string() << " already finished (" << to_string(t->status) << "); nothing to do\n";
      return 0;
    }
    store->claim_trial({kTrialId}, host_name(), static_cast<std::int64_t>(getpid()), 0.0);

    std::cout << version_line() << "\nrun directory: " << dir.string() << "\ndevice " << device
              << ", " << threads << " threads\nconfiguration:\n" << describe_config(cfg);
    install_interrupt_handlers();
    TrainHooks hooks;
    hooks.on_epoch = [&](const EpochMetrics& m) {
      store->put_epoch(kTrialId, m);
      store->heartbeat(kTrialId);
      write_csv(dir / "metrics.csv", store->epochs(kTrialId));
    };
    hooks.on_resume = [&](std::int64_t last) {
      store->truncate_epochs(kTrialId, last);
      write_csv(dir / "metrics.csv", store->epochs(kTrialId));
    };
    hooks.should_stop = [] { return interrupted(); };
    hooks.on_log = [&](const std::string& line, bool transient) { console.line(line, transient); };

    const RunOutcome out = run_training(cfg, data, (dir / "checkpoint.pt").string(), hooks);
    epochs_done = out.epochs_completed;
    if (out.status == RunStatus::running) {
      store->release_trial(kTrialId);
      std::cout << "stopped after epoch " << out.epochs_completed << "; continue with: lrtune train --resume "
                << dir.string() << "\n";
      return 130;
    }
    store->finish_trial(kTrialId, out.status, out.message);
    std::cout << to_string(out.status) << " after " << out.epochs_completed << " epochs; results in "
              << dir.string() << "/ (metrics.csv, results.sqlite)\n";
    return 0;
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
  add_config_flags(sub, args->flags);
  return [args] { return run_train(*args); };
}

}  // namespace lrtune::cli
