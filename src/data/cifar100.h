// Reader for the CIFAR-100 binary version (cifar-100-binary: train.bin,
// test.bin, and the label names in fine_label_names.txt and
// coarse_label_names.txt). Each record is a coarse label (20 superclasses), a
// fine label (100 classes) and 3x32x32 pixels.
#pragma once
#include <string>

#include "data/dataset.h"

namespace lrtune {

struct DatasetKind;  // data/datasets.h

constexpr std::int64_t kCifar100RecordBytes = 2 + 3 * 32 * 32;

// `label` is "fine" (100 classes) or "coarse" (20). DataError naming the file
// on a missing file, a size that is not whole 3,074-byte records, or a label
// at or above its class count. Class names come from the archive's name
// files, or are the numbers 0..N-1 (with a warning) when those are missing.
ImageDataset load_cifar100(const std::string& dir, const std::string& label);

// The `cifar100` data set kind: its keys and how it reads its folder.
DatasetKind cifar100_dataset();

}  // namespace lrtune
