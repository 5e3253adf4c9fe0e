// The tensors kind reads files that Python's torch.save wrote (Debian's
// python3-torch, the same 1.13 as our LibTorch), in every accepted layout,
// and names the file and the entry for each kind of bad file.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/datasets.h"
#include "data/tensors.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;

// Every variant of tests/tools/make_tensors.py, written once (Python's torch
// takes a second to start), as FOLDER/VARIANT.pt.
const std::filesystem::path& made() {
  static test::TempDir dir;
  static const bool written = [] {
    std::string out;
    const int rc = test::run_command(
        "/usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/make_tensors.py' '" + dir.str() + "'", &out);
    EXPECT_EQ(rc, 0) << out;
    return rc == 0;
  }();
  (void)written;
  return dir.path();
}

std::string make(const std::string& variant) { return (made() / (variant + ".pt")).string(); }

TEST(Tensors, EveryLayoutGivesTheSameImages) {
  TrainConfig cfg;
  cfg.dataset = "tensors";
  const ImageDataset nchw = load_dataset(cfg, make("nchw"));
  EXPECT_EQ(nchw.kind, "tensors");
  EXPECT_EQ(nchw.shape(), (DataShape{3, 6, 5, 3}));
  EXPECT_EQ(nchw.class_names, (std::vector<std::string>{"circle", "square", "star"}));
  EXPECT_EQ(nchw.train.size(), 12);
  EXPECT_EQ(nchw.test.size(), 6);
  EXPECT_EQ(nchw.train.labels[7].item<std::int64_t>(), 1);
  EXPECT_EQ(nchw.train.images[7][2][5][4].item<std::uint8_t>(), (7 * 7 + 2) % 256);
  EXPECT_EQ(nchw.fingerprint.size(), 16u);

  const ImageDataset nhwc = load_tensors_file(make("nhwc"));
  EXPECT_TRUE(torch::equal(nhwc.train.images, nchw.train.images));
  EXPECT_TRUE(torch::equal(nhwc.test.images, nchw.test.images));
  EXPECT_TRUE(nhwc.train.images.is_contiguous());

  const ImageDataset grey = load_tensors_file(make("grey"));
  EXPECT_EQ(grey.shape(), (DataShape{1, 6, 5, 3}));
  EXPECT_TRUE(torch::equal(grey.train.images.select(1, 0), nchw.train.images.select(1, 0)));
}

TEST(Tensors, EachBadFileIsNamedWithItsEntry) {
  test::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"float_images", "\"train_images\" is of dtype Float; images must be uint8"},
      {"rank5", "\"test_images\" has shape [1, 6, 3, 6, 5]; images are [N, C, H, W]"},
      {"no_test_labels", "has no \"test_labels\" entry"},
      {"label_too_big", "\"train_labels\" holds label 3, not in 0..2"},
      {"count_mismatch", "\"train_labels\" has shape [11]; the images need [12] labels"},
      {"classes_not_strings", "\"classes\" must be a non-empty list of strings"},
      {"not_a_dict", "a tensors file holds a dict of train_images"},
  };
  for (const auto& [variant, message] : cases) {
    const std::string file = make(variant);
    try {
      load_tensors_file(file);
      ADD_FAILURE() << variant << " was read";
    } catch (const DataError& e) {
      EXPECT_THAT(e.what(), HasSubstr(file + ": ")) << variant;
      EXPECT_THAT(e.what(), HasSubstr(message)) << variant;
    }
  }
  const std::string text = (dir.path() / "notes.txt").string();
  std::ofstream(text) << "not a tensors file\n";
  EXPECT_THROW(
      {
        try {
          load_tensors_file(text);
        } catch (const DataError& e) {
          EXPECT_THAT(e.what(), HasSubstr("notes.txt: not a file written by torch.save"));
          throw;
        }
      },
      DataError);
  EXPECT_THROW(load_tensors_file(dir.str()), DataError);  // a folder, not the file

  // A byte changed inside the saved dict: the archive's CRC-32 says so before
  // LibTorch reads sizes from it.
  const std::string damaged = (dir.path() / "damaged.pt").string();
  std::filesystem::copy_file(make("nchw"), damaged);
  std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(100).put('\x7f');
  f.close();
  try {
    load_tensors_file(damaged);
    ADD_FAILURE() << "a damaged file was read";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("damaged.pt: a damaged torch.save file (its entry nchw/data.pkl: CRC error)"));
  }
}

}  // namespace
}  // namespace lrtune
