// Copying a study between stores through the Store interface: each trial is
// added, claimed by the copier, given its epochs and checkpoint, and left in
// its original status.
#include "store/store_copy.h"

#include <unistd.h>

#include <filesystem>

namespace lrtune {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCopierHost = "lrtune-store-copy";

// The trial's last checkpoint from `from` into `to`; true when it had one.
bool copy_checkpoint(Store& from, Store& to, const std::string& id,
                     const std::string& checkpoint_file) {
  const fs::path there = fs::path(to.trial_dir(id)) / checkpoint_file;
  std::error_code ec;
  fs::create_directories(there.parent_path(), ec);
  if (ec) throw StoreError(there.parent_path().string() + ": cannot create: " + ec.message());
  const fs::path here = fs::path(from.trial_dir(id)) / checkpoint_file;
  if (fs::equivalent(here, there, ec)) return from.fetch_checkpoint(id, here.string());
  // Fetched beside the destination's file, then moved: `to` may read it in place.
  const fs::path part = there.string() + ".copying";
  if (!from.fetch_checkpoint(id, here.string())) return false;
  fs::copy_file(here, part, fs::copy_options::overwrite_existing, ec);
  if (ec) throw StoreError(part.string() + ": cannot copy the checkpoint: " + ec.message());
  fs::rename(part, there, ec);
  if (ec) throw StoreError(there.string() + ": cannot write the checkpoint: " + ec.message());
  to.save_checkpoint(id, there.string());
  return true;
}

// One trial: added, and unless it never started, claimed by the copier, its
// epochs and checkpoint written, and its status set as in `from`.
void copy_trial(Store& from, Store& to, const TrialRecord& t, const std::string& checkpoint_file,
                CopyCounts& counts) {
  to.add_trial(t.spec);
  ++counts.trials;
  const std::vector<EpochMetrics> epochs = from.epochs(t.spec.id);
  if (t.status == RunStatus::pending && epochs.empty()) return;
  const auto claimed = to.claim_trial({t.spec.id}, kCopierHost, getpid(), /*stale_after_s=*/0);
  if (!claimed) throw StoreError("trial " + t.spec.id + ": cannot take it in the destination");
  for (const auto& m : epochs) to.put_epoch(t.spec.id, m);
  counts.epochs += static_cast<std::int64_t>(epochs.size());
  if (!t.info.is_null() && !t.info.empty()) to.set_trial_info(t.spec.id, t.info);
  counts.checkpoints += copy_checkpoint(from, to, t.spec.id, checkpoint_file);
  if (t.status == RunStatus::pending || t.status == RunStatus::running) to.release_trial(t.spec.id);
  else to.finish_trial(t.spec.id, t.status, t.error);
}

}  // namespace

CopyCounts copy_study(Store& from, Store& to, const std::string& checkpoint_file,
                      const std::function<void(const std::string&)>& progress) {
  const auto info = from.study();
  if (!info) throw StoreError("the source holds no study to copy");
  if (const auto there = to.study())
    throw StoreError("the destination already holds study '" + there->name +
                     "'; copy into an empty folder or a database without that study");
  const std::vector<TrialRecord> trials = from.trials();
  CopyCounts counts;
  // The study first, with its trial list: a search's drawn trials stay its trials.
  to.put_study(*info);
  // The files trials train from (a TorchScript model), before the trials that need them.
  for (const auto& hash : from.file_hashes()) {
    const fs::path part = fs::path(to.trial_dir(hash)).parent_path() / (hash + ".copying");
    if (!from.fetch_file(hash, part.string())) continue;
    to.put_file(hash, part.string());
    std::error_code ec;
    fs::remove(part, ec);
    ++counts.files;
  }
  for (const auto& t : trials) {
    copy_trial(from, to, t, checkpoint_file, counts);
    if (progress && counts.trials % 100 == 0)
      progress(std::to_string(counts.trials) + "/" + std::to_string(trials.size()) +
               " trials copied");
  }
  return counts;
}

}  // namespace lrtune
