// The image_folder data set kind: ROOT/train/CLASS/*.{png,jpg,jpeg} and, when
// it exists, ROOT/test/CLASS/... (else every fifth image of each class, in
// file-name order, is the test part). Classes are the train folder's
// sub-folders in name order, as torchvision's ImageFolder. Images are decoded
// on all cores, resized to image_size x image_size and converted to the
// channel count asked for; the result is cached, so that the workers of a
// study decode once.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace lrtune {

struct DatasetKind;  // data/datasets.h

struct ImageFolderOptions {
  std::int64_t image_size = 32;
  int channels = 0;  // 1 or 3 converts every image; 0 takes them as they are (all alike)
  // Where decoded images are cached: "" for ROOT/.lrtune-cache, or, when ROOT
  // cannot be written, $XDG_CACHE_HOME/lrtune (else ~/.cache/lrtune).
  std::string cache_dir;
  int threads = 0;  // 0: one per core
};

// DataError naming the folder or file: no train folder, no class folders, a
// class with no images, a test class the train part lacks, an image that
// cannot be decoded (the load stops: remove or replace it), images of mixed
// channel counts when channels is 0.
ImageDataset load_image_folder(const std::string& root, const ImageFolderOptions& opts);

// Where the cache of `root` with `opts` is (or would be) written.
std::string image_folder_cache_path(const std::string& root, const ImageFolderOptions& opts);

// The `image_folder` data set kind: its keys and how it reads its folder.
DatasetKind image_folder_dataset();

}  // namespace lrtune
