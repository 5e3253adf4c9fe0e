// curl + md5sum + tar, run without a shell; every failure says what to do by hand.
#include "data/download.h"

#include <filesystem>

#include "core/errors.h"
#include "core/process.h"

namespace lrtune {
namespace fs = std::filesystem;

namespace {

const std::vector<DatasetDownload>& official() {
  static const std::vector<DatasetDownload> all = {
      {"cifar10",
       {{"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"}},
       "cifar-10-batches-bin"},
      {"cifar100",
       {{"https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8"}},
       "cifar-100-binary"},
      {"mnist",
       {{"https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
         "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
        {"https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
         "d53e105ee54ea40749a09fcbcd1e9432"},
        {"https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
         "9fb629c4189551a2d022fa330f9573f3"},
        {"https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
         "ec29112dd5afa0611ce80d1b7f02629c"}},
       ""},
      {"fashion_mnist",
       {{"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
         "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
        {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
         "25c81989df183df01b3e8a0aad5dffbe"},
        {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
         "bef4ecab320f06d8554ea6380940ec79"},
        {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
         "bb300cfdad3c16e7a12a480ee83cd310"}},
       ""},
  };
  return all;
}

std::string file_name(const DownloadFile& f) { return f.url.substr(f.url.rfind('/') + 1); }

std::string md5_of(const fs::path& file) {
  std::string sum;
  if (run_program({"md5sum", file.string()}, &sum) != 0) return "";
  return sum.substr(0, 32);
}

std::string manual_hint(const DownloadFile& f, const fs::path& into, bool archive) {
  return " Download " + f.url + " by hand (MD5 " + f.md5 + ")" +
         (archive ? ", then run: tar -xzf " + file_name(f) + " -C " + into.string()
                  : " into " + into.string());
}

// `f` as `target`, checked: downloaded unless already there with the right sum.
void fetch(const DownloadFile& f, const fs::path& target, bool archive, bool quiet) {
  const fs::path into = target.parent_path();
  std::error_code ec;
  if (fs::exists(target, ec) && md5_of(target) != f.md5) fs::remove(target, ec);  // a damaged copy
  if (!fs::exists(target, ec)) {
    if (!program_exists("curl"))
      throw DataError("curl is not installed (run scripts/setup.sh)." + manual_hint(f, into, archive));
    const fs::path partial = target.string() + ".part";
    if (run_program({"curl", quiet ? "--silent" : "--progress-bar", "--fail", "--location", "--retry", "2",
                     "--output", partial.string(), f.url}) != 0) {
      fs::remove(partial, ec);
      throw DataError("could not download " + f.url + " (no internet here?)." + manual_hint(f, into, archive));
    }
    fs::rename(partial, target, ec);
    if (ec) throw DataError(target.string() + ": " + ec.message());
  }
  if (const std::string sum = md5_of(target); sum != f.md5) {
    fs::remove(target, ec);
    throw DataError(target.string() + ": MD5 " + sum + " differs from " + f.md5 +
                    "; removed the damaged download, run the command again.");
  }
}

// Creates `dir` if needed; the returned flag says whether this call did.
bool make_folder(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return false;
  fs::create_directories(dir, ec);
  if (ec) throw DataError(dir.string() + ": cannot create folder: " + ec.message());
  return true;
}

void download_archive(const DatasetDownload& d, const fs::path& dir, bool quiet) {
  const fs::path parent = dir.parent_path();
  if (dir.filename() != d.unpacks_to)
    throw DataError(dir.string() + ": the " + d.dataset + " archive unpacks into a folder named " +
                    d.unpacks_to + "; give a path ending in it (e.g. --data data/" + d.unpacks_to + ")");
  const bool created = make_folder(parent);
  const DownloadFile& f = d.files.front();
  const fs::path archive = parent / file_name(f);
  std::error_code ec;
  try {
    fetch(f, archive, true, quiet);
  } catch (const DataError&) {
    if (created) fs::remove(parent, ec);  // only when empty
    throw;
  }
  const bool had_dir = fs::exists(dir, ec);
  if (run_program({"tar", "-xzf", archive.string(), "-C", parent.string()}) != 0) {
    if (!had_dir) fs::remove_all(dir, ec);
    throw DataError(archive.string() + ": could not unpack (disk full?)");
  }
}

}  // namespace

const DatasetDownload* official_download(const std::string& dataset) {
  for (const auto& d : official())
    if (d.dataset == dataset) return &d;
  return nullptr;
}

std::string downloadable_datasets() {
  std::string out;
  for (const auto& d : official()) out += (out.empty() ? "" : ", ") + d.dataset;
  return out;
}

void download_dataset(const DatasetDownload& d, const std::string& folder, bool quiet) {
  fs::path dir = fs::absolute(folder).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  if (!d.unpacks_to.empty()) {
    download_archive(d, dir, quiet);
    return;
  }
  const bool created = make_folder(dir);
  std::error_code ec;
  try {
    for (const auto& f : d.files) fetch(f, dir / file_name(f), false, quiet);
  } catch (const DataError&) {
    if (created && fs::is_empty(dir, ec)) fs::remove(dir, ec);
    throw;
  }
}

}  // namespace lrtune
