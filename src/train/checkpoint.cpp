// Checkpoint archive layout: "model", "optimizer" (sub-archives), "epoch",
// "config" (identity JSON) and, from lrtune 0.2, "schedule" (state JSON).
// The file is the torch archive followed by a 20-byte trailer: the magic
// "LRTCRC32", the archive's length (uint64) and its CRC-32C (uint32), both
// little-endian. Files without the trailer (lrtune 0.1 and 0.2) still load.
#include "train/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <torch/torch.h>

#include "core/checksum.h"
#include "core/errors.h"
#include "core/files.h"

namespace lrtune {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'L', 'R', 'T', 'C', 'R', 'C', '3', '2'};
constexpr std::size_t kTrailerSize = 8 + 8 + 4;

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(const char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void append_trailer(std::string& bytes) {
  const std::uint32_t crc = crc32c(bytes.data(), bytes.size());
  const std::uint64_t size = bytes.size();
  bytes.append(kMagic, sizeof kMagic);
  put_le(bytes, size, 8);
  put_le(bytes, crc, 4);
}

// The archive bytes of a checkpoint file, verified when it has a trailer.
std::string read_verified(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw StoreError(path + ": cannot read checkpoint: " + std::strerror(errno));
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw StoreError(path + ": cannot read checkpoint: " + std::strerror(errno));
  if (bytes.size() < kTrailerSize) return bytes;  // too short for either form: torch says why
  const char* t = bytes.data() + bytes.size() - kTrailerSize;
  if (std::memcmp(t, kMagic, sizeof kMagic) != 0) return bytes;  // written before checksums
  const std::uint64_t size = get_le(t + 8, 8);
  const auto crc = static_cast<std::uint32_t>(get_le(t + 16, 4));
  if (size != bytes.size() - kTrailerSize || crc32c(bytes.data(), size) != crc)
    throw DamagedCheckpointError(path, "checksum mismatch");
  bytes.resize(size);
  return bytes;
}

}  // namespace

DamagedCheckpointError::DamagedCheckpointError(const std::string& path, const std::string& why)
    : StoreError(path + ": damaged checkpoint (" + why +
                 "); move it aside and resume to redo the run from its first epoch"),
      reason(why) {}

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
  append_trailer(bytes);
  write_file_atomically(path, bytes.data(), bytes.size());
}

// Why LibTorch refused an archive. Its reader throws c10::Error and also
// other std::exceptions (torch::jit::ObjectAttributeError for a missing entry).
std::string torch_reason(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  return c10_error ? c10_error->what_without_backtrace() : e.what();
}

// Opens the verified archive and reads the identity it was made with.
void open_archive(const std::string& path, torch::serialize::InputArchive& archive,
                  c10::IValue& stored_config, const torch::Device& device) {
  const std::string bytes = read_verified(path);
  try {
    archive.load_from(bytes.data(), bytes.size(), device);
    archive.read("config", stored_config);
  } catch (const std::exception& e) {
    throw DamagedCheckpointError(path, "unreadable: " + torch_reason(e));
  }
}

// The completed epochs an open archive records: one whole number, at least 0.
std::int64_t read_epoch(torch::serialize::InputArchive& archive, const std::string& path) {
  torch::Tensor epoch;
  std::int64_t value = 0;
  try {
    archive.read("epoch", epoch);
    value = epoch.item<std::int64_t>();
  } catch (const std::exception& e) {
    throw DamagedCheckpointError(path, "no epoch: " + torch_reason(e));
  }
  if (value < 0) throw DamagedCheckpointError(path, "epoch " + std::to_string(value));
  return value;
}

std::int64_t checkpoint_epoch(const std::string& path) {
  torch::serialize::InputArchive archive;
  c10::IValue stored_config;
  open_archive(path, archive, stored_config, torch::kCPU);
  return read_epoch(archive, path);
}

std::optional<LoadedCheckpoint> load_checkpoint(const std::string& path, torch::nn::Module& model,
                                                torch::optim::Optimizer& optimizer,
                                                const TrainConfig& cfg,
                                                const torch::Device& device) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  torch::serialize::InputArchive archive, model_archive, optim_archive;
  c10::IValue stored_config;
  open_archive(path, archive, stored_config, device);
  if (!stored_config.isString() || !same_identity(stored_config.toStringRef(), cfg))
    throw StoreError(path + ": checkpoint was made with a different configuration; " +
                     "refusing to mix results (use a new output directory)");
  LoadedCheckpoint out;
  try {
    archive.read("model", model_archive);
    archive.read("optimizer", optim_archive);
    model.load(model_archive);
    optimizer.load(optim_archive);
    c10::IValue schedule;
    if (archive.try_read("schedule", schedule) && schedule.isString())
      out.schedule_state = nlohmann::json::parse(schedule.toStringRef(), nullptr, false);
  } catch (const std::exception& e) {
    throw DamagedCheckpointError(path, torch_reason(e));
  }
  if (out.schedule_state.is_discarded())
    throw DamagedCheckpointError(path, "schedule state is not JSON");
  out.epoch = read_epoch(archive, path);
  return out;
}

}  // namespace lrtune
