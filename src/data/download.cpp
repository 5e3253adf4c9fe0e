// curl + md5sum + tar, run without a shell; every failure says what to do by hand.
#include "data/download.h"

#include <filesystem>

#include "core/errors.h"
#include "core/process.h"

namespace lrtune {
namespace fs = std::filesystem;

namespace {
std::string manual_hint(const fs::path& parent) {
  return std::string(" Download ") + kCifarUrl + " by hand (MD5 " + kCifarMd5 +
         "), then run: tar -xzf cifar-10-binary.tar.gz -C " + parent.string();
}
}  // namespace

void download_cifar10(const std::string& data_dir, bool quiet) {
  const fs::path dir = fs::absolute(data_dir).lexically_normal();
  const fs::path parent = dir.has_filename() ? dir.parent_path() : dir.parent_path().parent_path();
  const std::string leaf = dir.has_filename() ? dir.filename().string() : dir.parent_path().filename().string();
  if (leaf != "cifar-10-batches-bin")
    throw DataError(data_dir + ": the archive unpacks into a folder named cifar-10-batches-bin; " +
                    "give a path ending in it (e.g. --data data/cifar-10-batches-bin)");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw DataError(parent.string() + ": cannot create folder: " + ec.message());
  const fs::path archive = parent / "cifar-10-binary.tar.gz";
  const fs::path partial = parent / "cifar-10-binary.tar.gz.part";

  if (!fs::exists(archive)) {
    if (!program_exists("curl"))
      throw DataError("curl is not installed (run scripts/setup.sh)." + manual_hint(parent));
    std::vector<std::string> cmd = {"curl", "--fail", "--location", "--retry", "2",
                                    "--output", partial.string(), kCifarUrl};
    cmd.insert(cmd.begin() + 1, quiet ? "--silent" : "--progress-bar");
    if (run_program(cmd) != 0) {
      fs::remove(partial, ec);
      throw DataError(std::string("could not download ") + kCifarUrl +
                      " (no internet here?)." + manual_hint(parent));
    }
    fs::rename(partial, archive, ec);
    if (ec) throw DataError(archive.string() + ": " + ec.message());
  }
  std::string sum;
  if (run_program({"md5sum", archive.string()}, &sum) != 0 || sum.substr(0, 32) != kCifarMd5) {
    fs::remove(archive, ec);
    throw DataError(archive.string() + ": MD5 " + sum.substr(0, 32) + " differs from " +
                    kCifarMd5 + "; removed the damaged download, run the command again.");
  }
  if (run_program({"tar", "-xzf", archive.string(), "-C", parent.string()}) != 0)
    throw DataError(archive.string() + ": could not unpack (disk full?)");
}

}  // namespace lrtune
