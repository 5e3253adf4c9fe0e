// The set-up shared by the study's trial runners: a worker's data, a trial's
// configuration, folder and provenance, and its trainer hooks.
#include "study/trial_setup.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "core/files.h"
#include "core/provenance.h"
#include "data/datasets.h"
#include "train/checkpoint.h"

namespace lrtune {
namespace fs = std::filesystem;

const ImageDataset& DataCache::get(const TrainConfig& cfg) {
  const std::string folder = data_folder(cfg), key = dataset_key(cfg) + "|" + folder;
  if (!data_ || key_ != key) {
    data_.reset();  // free the old set first: two copies need twice the memory
    data_ = std::make_unique<ImageDataset>(load_dataset(cfg, folder));
    key_ = key;
  }
  return *data_;
}

int prepare_worker(const TorchRunnerOptions& opts, const nlohmann::json& first_config,
                   DataCache& data) {
  const int threads = apply_threads(opts.threads, opts.adapt_threads);
  TrainConfig cfg;
  apply_json(cfg, first_config, "trial configuration");
  if (!opts.data.empty()) cfg.data = opts.data;
  data.get(cfg);
  return threads;
}

TrainConfig trial_config(const TrialRecord& trial, const TorchRunnerOptions& opts) {
  TrainConfig cfg;
  apply_json(cfg, trial.spec.config, "trial " + trial.spec.id);
  if (!opts.device.empty()) cfg.device = opts.device;
  if (!opts.data.empty()) cfg.data = opts.data;
  cfg.threads = opts.threads;
  cfg.validate("trial '" + trial.spec.label + "'");
  return cfg;
}

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Renames `file` to file + suffix (kept, never deleted) and says why in one line.
void set_aside(const std::string& file, const std::string& suffix, const std::string& why,
               const TrialContext& ctx) {
  std::error_code ec;
  fs::rename(file, file + suffix, ec);
  if (ec) throw StoreError(file + ": cannot set it aside: " + ec.message());
  if (ctx.on_log) ctx.on_log(why + "; set aside as " + file + suffix + ", starting again from the first epoch", false);
}

// A checkpoint the trial cannot resume from goes aside: a damaged one, or
// one ahead of the epochs the store holds (a lost or emptied database). The
// trial is then redone; training is deterministic per (seed, epoch), so the
// store's rows are rewritten with equal values.
void vet_checkpoint(const std::string& file, const TrialContext& ctx) {
  std::int64_t epoch = 0;
  try {
    epoch = checkpoint_epoch(file);
  } catch (const DamagedCheckpointError& e) {
    set_aside(file, ".damaged", file + ": damaged checkpoint (" + e.reason + ")", ctx);
    return;
  }
  const std::int64_t stored = ctx.stored_epochs ? ctx.stored_epochs() : epoch;
  if (stored < epoch)
    set_aside(file, ".orphaned",
              file + ": checkpoint after epoch " + std::to_string(epoch) +
                  ", but the results database holds " + std::to_string(stored) + " of its epochs",
              ctx);
}

// The folder's config.json as it is, or an empty object (none yet, or unreadable).
nlohmann::json read_folder_config(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json::object();
}

// config.json: made with the trial's id and label, its configuration and
// provenance refreshed at each start (keys it does not own are kept: a run
// folder's "id" is its identity). The first start's time stays; a copy of the
// data other than the one the trial started with is worth one line.
void write_folder_config(const TrialRecord& trial, const TrialContext& ctx, const TrainConfig& cfg,
                         nlohmann::json& info) {
  const fs::path file = fs::path(ctx.trial_dir) / "config.json";
  nlohmann::json folder = read_folder_config(file);
  if (folder.empty()) folder = {{"id", trial.spec.id}, {"label", trial.spec.label}};
  const nlohmann::json was = folder.value("provenance", nlohmann::json::object());
  info["started_at"] = was.is_object() && was.contains("started_at") ? was["started_at"]
                                                                      : nlohmann::json(unix_now());
  const std::string print = was.is_object() ? was.value(kDataFingerprintKey, std::string()) : "";
  const std::string now = info.value(kDataFingerprintKey, std::string());
  if (!print.empty() && print != now && ctx.on_log)
    ctx.on_log("warning: this data (fingerprint " + now + ") is not the copy the run started "
               "with (" + print + "); its epochs will mix the two", false);
  folder["config"] = to_json(cfg);
  folder["provenance"] = info;
  write_text_atomically(file, folder.dump(2) + "\n");
}

}  // namespace

std::string open_trial_dir(const TrialRecord& trial, const TrialContext& ctx,
                           const TrainConfig& cfg, nlohmann::json info, const ImageDataset& data) {
  info[kDataFingerprintKey] = data.fingerprint;
  info[kDataSetKey] = data.kind;
  info[kDataShapeKey] = data.shape().text();
  std::error_code ec;
  fs::create_directories(ctx.trial_dir, ec);
  if (ec) throw StoreError(ctx.trial_dir + ": cannot create: " + ec.message());
  write_folder_config(trial, ctx, cfg, info);
  if (ctx.on_info) ctx.on_info(info);
  std::string checkpoint = (fs::path(ctx.trial_dir) / "checkpoint.pt").string();
  // The store's checkpoint first: on a store shared by hosts, a file left here
  // by a run that lost the trial to another host may be older, or newer than
  // the epochs the store kept.
  const bool fetched = ctx.fetch_checkpoint && ctx.fetch_checkpoint(checkpoint);
  const bool have = fetched || fs::exists(checkpoint);
  if (have) vet_checkpoint(checkpoint, ctx);
  if (!fs::exists(checkpoint) && ctx.on_resume) ctx.on_resume(0);
  return checkpoint;
}

TrainHooks train_hooks(const TrialContext& ctx) {
  TrainHooks hooks;
  hooks.on_epoch = ctx.on_epoch;
  hooks.on_resume = ctx.on_resume;
  hooks.should_stop = ctx.should_stop;
  hooks.on_checkpoint = ctx.on_checkpoint;
  hooks.on_log = ctx.on_log;
  return hooks;
}

}  // namespace lrtune
