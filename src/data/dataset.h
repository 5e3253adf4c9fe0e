// The data set every trainer takes: images as uint8 [N, C, H, W] with int64
// labels, a training part (split into train and validation) and a test part,
// the class names, and a fingerprint of the files it came from. Its shape
// (channels, height, width, classes) is what the split, the normalisation,
// the batches and the networks read, instead of assuming CIFAR-10's.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace lrtune {

// Images are uint8 [N, C, H, W] (channel planes, row-major); labels int64 [N].
struct LabelledImages {
  torch::Tensor images;
  torch::Tensor labels;
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// What a network is built for: its input and its number of outputs.
struct DataShape {
  std::int64_t channels = 3;
  std::int64_t height = 32;
  std::int64_t width = 32;
  std::int64_t classes = 10;
  bool operator==(const DataShape& o) const {
    return channels == o.channels && height == o.height && width == o.width && classes == o.classes;
  }
  bool operator!=(const DataShape& o) const { return !(*this == o); }
  std::string text() const;  // "3x32x32, 10 classes"
};

struct ImageDataset {
  std::string kind = "cifar10";          // the dataset kind it was read by
  LabelledImages train;                  // split into training and validation images
  LabelledImages test;                   // kept apart
  std::vector<std::string> class_names;  // one per class; labels index it
  // 16 hex digits: a hash of the files the data came from (their names,
  // sizes and bytes). The same files give the same value under any folder on
  // any machine; another copy (re-encoded, reordered) another. Kept in each
  // run's provenance, not in a trial's identity.
  std::string fingerprint;
  // Lines worth a warning that did not stop the reading (an unusual count).
  std::vector<std::string> warnings;

  // From the training images and the class names.
  DataShape shape() const;
};

}  // namespace lrtune
