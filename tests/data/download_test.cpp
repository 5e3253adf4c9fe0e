// `lrtune data download` checks: folder name and the MD5 of the archive.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "data/download.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;

TEST(Download, DamagedArchiveIsRejectedAndRemoved) {
  test::TempDir tmp;
  const auto archive = tmp.path() / "cifar-10-binary.tar.gz";
  std::ofstream(archive) << "not the real archive";
  try {
    download_cifar10((tmp.path() / "cifar-10-batches-bin").string(), true);
    FAIL() << "a wrong MD5 was accepted";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("differs from c32a1d4ab5d03f1284b67883e8d87530"));
  }
  EXPECT_FALSE(std::filesystem::exists(archive));
}

TEST(Download, FolderMustBeTheArchivesFolderName) {
  test::TempDir tmp;
  EXPECT_THROW(download_cifar10((tmp.path() / "cifar").string(), true), DataError);
}

}  // namespace
}  // namespace lrtune
