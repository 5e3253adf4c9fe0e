// Checkpoint archive layout: "model", "optimizer" (sub-archives), "epoch",
// "config" (identity JSON) and, from lrtune 0.2, "schedule" (state JSON).
#include "train/checkpoint.h"

#include <cstdio>
#include <filesystem>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/files.h"

namespace lrtune {
namespace fs = std::filesystem;

bool same_identity(const std::string& stored, const TrainConfig& cfg) {
  try {
    TrainConfig from_file;
    apply_json(from_file, nlohmann::json::parse(stored), "checkpoint");
    return identity_json(from_file) == identity_json(cfg);
  } catch (const std::exception&) {
    return false;  // not JSON, or keys this lrtune does not know
  }
}

void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, std::int64_t epoch,
                     const TrainConfig& cfg, const nlohmann::json& schedule_state) {
  torch::serialize::OutputArchive archive, model_archive, optim_archive;
  model.save(model_archive);
  optimizer.save(optim_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optim_archive);
  archive.write("epoch", torch::tensor(epoch, torch::kInt64));
  archive.write("config", c10::IValue(identity_json(cfg).dump()));
  archive.write("schedule", c10::IValue(schedule_state.dump()));
  // Serialized in memory, then written with checked POSIX calls: a full disk
  // is one StoreError naming the file, and leaves no partial temporary file.
  std::string bytes;
  try {
    archive.save_to([&bytes](const void* data, std::size_t n) {
      bytes.append(static_cast<const char*>(data), n);
      return n;
    });
  } catch (const c10::Error& e) {
    throw StoreError(path + ": cannot serialize checkpoint: " + e.what_without_backtrace());
  }
  write_file_atomically(path, bytes.data(), bytes.size());
}

std::optional<LoadedCheckpoint> load_checkpoint(const std::string& path, torch::nn::Module& model,
                                                torch::optim::Optimizer& optimizer,
                                                const TrainConfig& cfg,
                                                const torch::Device& device) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  torch::serialize::InputArchive archive, model_archive, optim_archive;
  c10::IValue stored_config;
  torch::Tensor epoch;
  try {
    archive.load_from(path, device);
    archive.read("config", stored_config);
  } catch (const c10::Error& e) {
    throw StoreError(path + ": unreadable checkpoint (" + e.what_without_backtrace() +
                     "); delete it to start the run over");
  }
  if (!stored_config.isString() || !same_identity(stored_config.toStringRef(), cfg))
    throw StoreError(path + ": checkpoint was made with a different configuration; " +
                     "refusing to mix results (use a new output directory)");
  LoadedCheckpoint out;
  try {
    archive.read("model", model_archive);
    archive.read("optimizer", optim_archive);
    archive.read("epoch", epoch);
    model.load(model_archive);
    optimizer.load(optim_archive);
    c10::IValue schedule;
    if (archive.try_read("schedule", schedule) && schedule.isString())
      out.schedule_state = nlohmann::json::parse(schedule.toStringRef(), nullptr, false);
  } catch (const c10::Error& e) {
    throw StoreError(path + ": damaged checkpoint (" + e.what_without_backtrace() + ")");
  }
  if (out.schedule_state.is_discarded())
    throw StoreError(path + ": damaged checkpoint (schedule state is not JSON)");
  out.epoch = epoch.item<std::int64_t>();
  return out;
}

}  // namespace lrtune
