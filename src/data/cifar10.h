// Reader for the CIFAR-10 binary version: the whole data set in memory as uint8.
#pragma once
#include <string>

#include <torch/types.h>

namespace lrtune {

// Images are uint8 [N, 3, 32, 32] (channel planes, row-major); labels int64 [N].
struct LabelledImages {
  torch::Tensor images;
  torch::Tensor labels;
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct Cifar10 {
  LabelledImages train;  // data_batch_1..5.bin (50,000 images officially)
  LabelledImages test;   // test_batch.bin (10,000 images)
};

constexpr std::int64_t kRecordBytes = 1 + 3 * 32 * 32;

// Reads one binary batch file; throws DataError naming the file on a missing
// file, a size that is not whole records, or a label above 9.
LabelledImages read_cifar10_file(const std::string& path);

// Reads data_batch_1..5.bin and test_batch.bin from `dir`.
Cifar10 load_cifar10(const std::string& dir);

// The data folder: `flag` if set, else $LRTUNE_DATA, else ./data/cifar-10-batches-bin.
std::string resolve_data_dir(const std::string& flag);

}  // namespace lrtune
