// `lrtune data download`: every data set's files fetched with curl from an
// HTTP server of the test's own on loopback (generated archives, their own
// checksums), checked and unpacked; a wrong checksum or a missing file
// leaves nothing behind.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "data/cifar10.h"
#include "data/download.h"
#include "data/idx.h"
#include "support/background_run.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Python's http.server on 127.0.0.1 and a free port, serving `dir`.
class LoopbackServer {
 public:
  explicit LoopbackServer(const fs::path& dir)
      : server_(test::Background::Program{"/usr/bin/python3 -u -m http.server 0 --bind 127.0.0.1 --directory '" +
                                          dir.string() + "'"}) {
    server_.wait_for_output(") ...");  // "Serving HTTP on 127.0.0.1 port N (http://127.0.0.1:N/) ..."
    const std::string& out = server_.output();
    const auto at = out.find("(http://");
    base_ = out.substr(at + 1, out.find(')', at) - at - 1);
  }
  std::string url(const std::string& name) const { return base_ + name; }

 private:
  test::Background server_;
  std::string base_;
};

std::string md5(const fs::path& file) {
  std::string out;
  EXPECT_EQ(test::run_command("md5sum '" + file.string() + "'", &out), 0);
  return out.substr(0, 32);
}

std::vector<fs::path> everything_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path());
  return out;
}

TEST(Download, AnArchiveIsFetchedCheckedAndUnpacked) {
  test::TempDir served, home;
  test::write_tiny_cifar(served.path() / "cifar-10-batches-bin", 3, 4);
  ASSERT_EQ(test::run_command("tar -czf '" + (served.path() / "cifar-10-binary.tar.gz").string() + "' -C '" +
                              served.str() + "' cifar-10-batches-bin"),
            0);
  LoopbackServer server(served.path());
  const DatasetDownload d{"cifar10",
                          {{server.url("cifar-10-binary.tar.gz"), md5(served.path() / "cifar-10-binary.tar.gz")}},
                          "cifar-10-batches-bin"};
  const fs::path folder = home.path() / "data" / "cifar-10-batches-bin";
  download_dataset(d, folder.string(), true);
  EXPECT_EQ(load_cifar10(folder.string()).train.size(), 15);
  EXPECT_TRUE(fs::exists(home.path() / "data" / "cifar-10-binary.tar.gz"));  // kept: a second call reuses it

  // A damaged archive there is fetched again.
  std::ofstream(home.path() / "data" / "cifar-10-binary.tar.gz") << "damaged";
  fs::remove_all(folder);
  download_dataset(d, folder.string(), true);
  EXPECT_EQ(load_cifar10(folder.string()).test.size(), 4);
}

TEST(Download, AWrongChecksumLeavesNothingBehind) {
  test::TempDir served, home;
  std::ofstream(served.path() / "cifar-10-binary.tar.gz") << "not the archive";
  LoopbackServer server(served.path());
  const DatasetDownload d{"cifar10",
                          {{server.url("cifar-10-binary.tar.gz"), "c32a1d4ab5d03f1284b67883e8d87530"}},
                          "cifar-10-batches-bin"};
  try {
    download_dataset(d, (home.path() / "data" / "cifar-10-batches-bin").string(), true);
    FAIL() << "a wrong MD5 was accepted";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("differs from c32a1d4ab5d03f1284b67883e8d87530; removed the damaged download"));
  }
  EXPECT_TRUE(everything_in(home.path()).empty());
  // A file the server does not have: the same.
  const DatasetDownload missing{"mnist", {{server.url("train-images-idx3-ubyte.gz"), "0"}}, ""};
  try {
    download_dataset(missing, (home.path() / "mnist").string(), true);
    FAIL() << "a missing file was not noticed";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("could not download " + server.url("train-images-idx3-ubyte.gz")));
  }
  EXPECT_TRUE(everything_in(home.path()).empty());
}

TEST(Download, IdxFilesAreSavedAsTheyAreAndRead) {
  test::TempDir served, home;
  const std::vector<std::string> names = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  // 3 images of 2x2 and 2 test images, gzipped by gzip.
  const std::vector<std::string> bytes = {
      std::string("\0\0\x08\x03\0\0\0\x03\0\0\0\x02\0\0\0\x02", 16) + std::string(12, '\x07'),
      std::string("\0\0\x08\x01\0\0\0\x03", 8) + std::string("\x01\x02\x03", 3),
      std::string("\0\0\x08\x03\0\0\0\x02\0\0\0\x02\0\0\0\x02", 16) + std::string(8, '\x09'),
      std::string("\0\0\x08\x01\0\0\0\x02", 8) + std::string("\x04\x05", 2)};
  DatasetDownload d{"mnist", {}, ""};
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::ofstream(served.path() / names[i], std::ios::binary) << bytes[i];
    ASSERT_EQ(test::run_command("gzip '" + (served.path() / names[i]).string() + "'"), 0);
  }
  LoopbackServer server(served.path());
  for (const auto& n : names) d.files.push_back({server.url(n + ".gz"), md5(served.path() / (n + ".gz"))});
  download_dataset(d, (home.path() / "mnist").string(), true);
  const ImageDataset data = load_idx_folder((home.path() / "mnist").string(),
                                            {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  EXPECT_EQ(data.train.size(), 3);
  EXPECT_EQ(data.test.labels[1].item<std::int64_t>(), 5);
}

TEST(Download, EveryDownloadableKindHasItsOfficialFilesAndTheFolderNameIsChecked) {
  for (const std::string kind : {"cifar10", "cifar100", "mnist", "fashion_mnist"}) {
    const DatasetDownload* d = official_download(kind);
    ASSERT_NE(d, nullptr) << kind;
    for (const auto& f : d->files) {
      EXPECT_THAT(f.url, ::testing::StartsWith("http")) << kind;
      EXPECT_EQ(f.md5.size(), 32u) << kind;
    }
  }
  EXPECT_EQ(official_download("image_folder"), nullptr);
  test::TempDir tmp;
  EXPECT_THROW(download_dataset(*official_download("cifar10"), (tmp.path() / "cifar").string(), true),
               DataError);
  EXPECT_TRUE(everything_in(tmp.path()).empty());
}

}  // namespace
}  // namespace lrtune
